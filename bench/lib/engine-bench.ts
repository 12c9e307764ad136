// Shared pieces of the engine benchmarks (bench/batching.ts, bench/prefix-cache.ts): the
// generated ~30M-parameter Q4_0 llama, engine loading in Node, and a concurrency run that
// measures aggregate decode tokens/s from the streamed token timestamps.
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineCore } from '../../src/engine/core';
import { createEngine, type CreateEngineOptions } from '../../src/engine/engine';
import type { LocalEngine } from '../../src/engine/local-engine';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import type { ModelRunner } from '../../src/engine/types';
import { makeTestModel, type TestModelOptions } from '../../test/helpers/test-model';

export const STORIES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/stories260K/stories260K.gguf');

/** The compute-regime model: vocab 4096, dim 512, 8 layers, 8 heads / 4 KV heads, FFN 1408, Q4_0 (~28M parameters). */
export const MODEL_30M: TestModelOptions = {
  arch: 'llama', vocab: 4096, dim: 512, layers: 8, heads: 8, kvHeads: 4, ffn: 1408, quant: 'Q4_0', seed: 30, contextLength: 2048,
};

export function model30M(): Uint8Array {
  return makeTestModel(MODEL_30M);
}

export async function openEngine(model: CreateEngineOptions['model'], options: Partial<CreateEngineOptions> = {}): Promise<LocalEngine> {
  return createEngine({ model, gpu: await createNodeGPU(), ...options });
}

export function coreOf(engine: LocalEngine): EngineCore {
  return (engine as unknown as { core: EngineCore }).core;
}

export function machineLoad(): string {
  return `load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1/5/15 min)`;
}

export interface ConcurrencyResult {
  concurrency: number;
  /** Tokens of the pure decode steps (every running sequence one token) per second of those steps, gaps between them included. */
  decodeTokensPerSecond: number;
  decodeSteps: number;
  /** Median wall time of one pure decode step inside the runner (submit to readback). */
  msPerStep: number;
  /** Median wall time from one decode step's start to the next one's (engine bookkeeping included). */
  msPerStepEngine: number;
  /** KV slots holding a token / slots allocated to running sequences, sampled at the last step where all were running. */
  kvSlotsFilled: number;
  kvSlotsAllocated: number;
}

interface StepTiming {
  startMs: number;
  endMs: number;
  tokens: number;
  decodeOnly: boolean;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
}

/**
 * Starts `concurrency` greedy completions of `maxTokens` tokens each (distinct prompts, EOS
 * ignored) at once and times the runner's steps (the runner's `step` is wrapped for the run).
 */
export async function runConcurrent(engine: LocalEngine, concurrency: number, maxTokens: number, promptOf: (i: number) => string): Promise<ConcurrencyResult> {
  const core = coreOf(engine);
  const runner = core.runner as { step: ModelRunner['step'] };
  const original = runner.step;
  const steps: StepTiming[] = [];
  runner.step = async (input) => {
    const startMs = performance.now();
    const out = await original.call(core.runner, input);
    const decodeOnly = input.sequences.every((s) => s.queryLength === 1);
    steps.push({ startMs, endMs: performance.now(), tokens: input.tokenIds.length, decodeOnly });
    return out;
  };
  let slots = { filled: 0, allocated: 0 };
  const one = async (i: number) => {
    const stream = await engine.completions.create({
      prompt: promptOf(i), max_tokens: maxTokens, temperature: 0, ignore_eos: true, stream: true, return_token_ids: true,
    });
    let seen = 0;
    for await (const chunk of stream) {
      const n = chunk.choices[0]?.token_ids?.length ?? 0;
      seen += n;
      const s = core.stats();
      if (n > 0 && s.runningSequences === concurrency) slots = { filled: s.kvSlotsFilled, allocated: s.kvSlotsAllocated };
    }
    if (seen !== maxTokens) throw new Error(`request ${i} got ${seen} tokens, wanted ${maxTokens}`);
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, (_, i) => one(i)));
  } finally {
    runner.step = original;
  }
  // Pure decode steps with all `concurrency` sequences in them.
  const full = steps.filter((s) => s.decodeOnly && s.tokens === concurrency);
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
  };
}
