// Shared pieces of the engine benchmarks (batching, prefix cache), host-neutral — the same
// code runs in Node (Dawn) and in a Chromium page (bench/pages/bench-page.ts): the generated
// ~30M-parameter Q4_0 llama's shape, an engine whose runner steps are timed, and a
// concurrency run that measures aggregate decode tokens/s from those step times.
// Everything goes through the public Engine API (`completions.create`, `stats()`); the only
// hook is `createEngine`'s `createRunner`, which wraps the WebGPU runner to time its steps.
import { createEngine, type CreateEngineOptions } from '../../src/create-engine';
import type { MultiEngine } from '../../src/openai/multi-engine';
import type { ModelRunner } from '../../src/engine/types';
import { createWebGpuRunner } from '../../src/gpu/create-runner';
import { DeviceContext } from '../../src/gpu/device';
import { GpuModelRunner } from '../../src/gpu/runner';
import type { SourceInput } from '../../src/model/gguf/source';
import type { TestModelOptions } from '../../test/helpers/test-model';

/** The compute-regime model: vocab 4096, dim 512, 8 layers, 8 heads / 4 KV heads, FFN 1408, Q4_0 (~28M parameters). */
export const MODEL_30M: TestModelOptions = {
  arch: 'llama', vocab: 4096, dim: 512, layers: 8, heads: 8, kvHeads: 4, ffn: 1408, quant: 'Q4_0', seed: 30, contextLength: 2048,
};

export interface StepTiming {
  startMs: number;
  endMs: number;
  tokens: number;
  decodeOnly: boolean;
}

export interface TimedEngine {
  engine: MultiEngine;
  /** The WebGPU adapter the runner got. */
  adapter: string;
  /** Every runner step since the last `steps.length = 0`. */
  steps: StepTiming[];
}

/** createEngine on `gpu` with the WebGPU runner's `step` timed into `steps`. */
export async function openTimedEngine(model: SourceInput, gpu: GPU, options: Partial<CreateEngineOptions> = {}): Promise<TimedEngine> {
  const steps: StepTiming[] = [];
  let adapter = 'unknown adapter';
  const createRunner = async (args: Parameters<typeof createWebGpuRunner>[0]): Promise<ModelRunner> => {
    const runner = await createWebGpuRunner(args);
    if (runner instanceof GpuModelRunner && runner.ctx instanceof DeviceContext) adapter = runner.ctx.adapterName;
    const step = runner.step.bind(runner);
    runner.step = async (input) => {
      const startMs = performance.now();
      const out = await step(input);
      steps.push({ startMs, endMs: performance.now(), tokens: input.tokenIds.length, decodeOnly: input.sequences.every((s) => s.queryLength === 1) });
      return out;
    };
    return runner;
  };
  const engine = await createEngine({ ...options, model, gpu, createRunner });
  return { engine, adapter, steps };
}

export interface ConcurrencyResult {
  concurrency: number;
  /** Tokens of the pure decode steps (every running sequence one token) per second of those steps, gaps between them included. */
  decodeTokensPerSecond: number;
  decodeSteps: number;
  /** Median wall time of one pure decode step inside the runner (submit, or the end of the step before when chained, to readback). */
  msPerStep: number;
  /** Median wall time from one decode step's start to the next one's (engine bookkeeping included). */
  msPerStepEngine: number;
  /** engine.stats() KV slots holding a token / slots allocated to running sequences, at the last token streamed while all were running. */
  kvSlotsFilled: number;
  kvSlotsAllocated: number;
  /** engine.stats().numPreemptions during this run. */
  numPreemptions: number;
}

export function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

/**
 * Starts `concurrency` greedy completions of `maxTokens` tokens each (distinct prompts, EOS
 * ignored) at once and times the runner's steps.
 */
export async function runConcurrent(timed: TimedEngine, concurrency: number, maxTokens: number, promptOf: (i: number) => string): Promise<ConcurrencyResult> {
  const { engine, steps } = timed;
  steps.length = 0;
  const preemptionsBefore = (await engine.stats()).numPreemptions;
  let slots = { filled: 0, allocated: 0 };
  const one = async (i: number) => {
    const stream = await engine.completions.create({
      prompt: promptOf(i), max_tokens: maxTokens, temperature: 0, ignore_eos: true, stream: true, return_token_ids: true,
    });
    let seen = 0;
    for await (const chunk of stream) {
      const n = chunk.choices[0]?.token_ids?.length ?? 0;
      seen += n;
      const s = await engine.stats();
      if (n > 0 && s.running === concurrency) slots = { filled: s.kvSlotsFilled, allocated: s.kvSlotsAllocated };
    }
    if (seen !== maxTokens) throw new Error(`request ${i} got ${seen} tokens, wanted ${maxTokens}`);
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => one(i)));
  // A chained step is submitted while the one before it runs (steps finish in the order they
  // were submitted, so `steps` is that order): its work begins when the one before ends.
  const begun = steps.map((s, i) => ({ ...s, startMs: Math.max(s.startMs, i > 0 ? steps[i - 1]!.endMs : -Infinity) }));
  // Pure decode steps with all `concurrency` sequences in them.
  const full = begun.filter((s) => s.decodeOnly && s.tokens === concurrency);
  const span = full.length === 0 ? 0 : full[full.length - 1]!.endMs - full[0]!.startMs;
  const gaps = full.slice(1).map((s, i) => s.startMs - full[i]!.startMs);
  return {
    concurrency,
    decodeTokensPerSecond: span > 0 ? (full.length * concurrency * 1000) / span : 0,
    decodeSteps: full.length,
    msPerStep: median(full.map((s) => s.endMs - s.startMs)),
    msPerStepEngine: median(gaps),
    kvSlotsFilled: slots.filled,
    kvSlotsAllocated: slots.allocated,
    numPreemptions: (await engine.stats()).numPreemptions - preemptionsBefore,
  };
}
