// Prefix cache: time to first token for a prompt whose first 1024 tokens are cached vs
// not, on the generated ~28M-parameter Q4_0 llama (bench/lib/engine-bench.ts). Prints a
// markdown table. Target: cached ≤ 1/10 of uncached.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/prefix-cache.ts
// The prompts are token ids given to the engine core (no tokenizer in the timing), 1024
// shared ids + 16 of each request's own; TTFT is the core's (arrival → first token).
// Env: TABLLM_BENCH_PREFIX (default 1024), TABLLM_BENCH_MODEL=stories (stories260K instead).
import { coreOf, machineLoad, model30M, openEngine, STORIES } from './lib/engine-bench';
import type { EngineCore, Usage, RequestTimings } from '../src/engine/core';

const PREFIX = Number(process.env.TABLLM_BENCH_PREFIX ?? 1024);
const SUFFIX = 16;

/** Deterministic ids in [3, vocab): no BOS/EOS inside the prompt. */
function ids(seed: number, length: number, vocab: number): number[] {
  return Array.from({ length }, (_, i) => 3 + ((seed * 7919 + i * 104729) % (vocab - 3)));
}

async function firstToken(core: EngineCore, promptIds: number[]): Promise<{ usage: Usage; timings: RequestTimings }> {
  const stream = core.addRequest({ promptIds, maxTokens: 1 });
  for await (const ev of stream) if (ev.usage && ev.timings) return { usage: ev.usage, timings: ev.timings };
  throw new Error('the request ended without usage');
}

async function main(): Promise<void> {
  const stories = process.env.TABLLM_BENCH_MODEL === 'stories';
  console.log(`# Prefix cache benchmark (Node, Dawn)\n\n${machineLoad()} at start`);
  const engine = await openEngine(stories ? STORIES : model30M(), { kvCacheBytes: 64 << 20, enablePrefixCaching: true });
  try {
    const core = coreOf(engine);
    const vocab = core.runner.config.vocabSize;
    const bos = 1;
    const prefix = [bos, ...ids(1, PREFIX - 1, vocab)];
    // Warm-up on unrelated ids: compiles the tiled (> 8 tokens) and vector matmul pipelines.
    await firstToken(core, [bos, ...ids(9, 20, vocab)]);
    await firstToken(core, [bos, ...ids(8, 4, vocab)]);

    const uncached = await firstToken(core, [...prefix, ...ids(2, SUFFIX, vocab)]);
    const cached = await firstToken(core, [...prefix, ...ids(3, SUFFIX, vocab)]);
    const ratio = cached.timings.ttftMs / uncached.timings.ttftMs;
    console.log(`\n### ${stories ? 'stories260K' : 'generated Q4_0 llama, ~28M parameters'}: ${PREFIX}-token shared prefix + ${SUFFIX} own tokens\n`);
    console.log('| prompt | prompt tokens | cached tokens | time to first token ms |');
    console.log('|---|---|---|---|');
    console.log(`| prefix not cached | ${uncached.usage.promptTokens} | ${uncached.usage.cachedTokens} | ${uncached.timings.ttftMs.toFixed(0)} |`);
    console.log(`| prefix cached | ${cached.usage.promptTokens} | ${cached.usage.cachedTokens} | ${cached.timings.ttftMs.toFixed(0)} |`);
    console.log(`\ncached / uncached = ${ratio.toFixed(3)} (target ≤ 0.1: ${ratio <= 0.1 ? 'met' : 'MISSED'}); KV blocks used after: ${core.stats().kvBlocksUsed}`);
  } finally {
    await engine.destroy();
  }
  console.log(`\n${machineLoad()} at end`);
}

await main();
