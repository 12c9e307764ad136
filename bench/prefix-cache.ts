// Prefix cache: time to first token for a prompt whose first 1024 tokens are cached vs
// not, on the generated ~28M-parameter Q4_0 llama (bench/lib/engine-bench.ts). Prints a
// markdown table. Target: cached ≤ 1/10 of uncached.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/prefix-cache.ts
// The same measurement in headless Chromium: bench/prefix-cache-chromium.ts.
// The prompts are text of one-token words (bench/lib/prefix-measure.ts): 1024 shared tokens
// (BOS included) + 16 of each request's own; TTFT is the engine's (arrival → first token).
// Env: TABLLM_BENCH_PREFIX (default 1024), TABLLM_BENCH_MODEL=stories (stories260K instead).
import { createNodeGPU } from '../src/gpu/node-gpu';
import { machineLoad, model30M, nodeHost, STORIES } from './lib/node-bench';
import { measurePrefixCache, prefixReport } from './lib/prefix-measure';

const stories = process.env.TABLLM_BENCH_MODEL === 'stories';
const loadAtStart = machineLoad();
const result = await measurePrefixCache(await createNodeGPU(), stories ? STORIES : model30M(), {
  prefixTokens: Number(process.env.TABLLM_BENCH_PREFIX ?? 1024),
  suffixTokens: 16,
});
console.log(`# Prefix cache benchmark (Node, Dawn)\n\n${loadAtStart} at start, ${machineLoad()} at end.\n`);
console.log(prefixReport(result, stories ? 'stories260K' : 'generated Q4_0 llama, ~28M parameters', nodeHost()));
process.exit(0);
