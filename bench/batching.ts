// Continuous batching throughput: aggregate decode tokens/s at concurrency 1, 4, 16, 32,
// in two regimes, and the KV waste at the end of the 32-way run. Prints markdown tables.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/batching.ts
// The same measurement in headless Chromium: bench/batching-chromium.ts.
//
// Overhead regime — stories260K (real, ../shared/fixtures): compute is negligible, so
//   what is measured is the engine's per-step cost (the regime of a real GPU). Target ≥ 10× at 16.
// Compute regime — a generated ~28M-parameter Q4_0 llama (bench/lib/engine-bench.ts): on a
//   software adapter (SwiftShader, a few GFLOP/s) a step's time grows with its tokens. Target
//   ≥ 3× at 16; the adapter's own ceiling is printed beside it: one batch-16 pass over the
//   model's matmul weights against 16 batch-1 passes (src/kernels/matmul.ts directly).
// Env: TABLLM_BENCH_TOKENS (stories260K, default 32), TABLLM_BENCH_TOKENS_30M (default 8),
//   TABLLM_BENCH_SKIP_30M=1, TABLLM_BENCH_CHAIN=0 (one step at a time: no chained decode steps).
import { createNodeGPU } from '../src/gpu/node-gpu';
import { batchingReport, measureBatching } from './lib/batching-measure';
import { machineLoad, model30M, nodeHost, STORIES } from './lib/node-bench';

const loadAtStart = machineLoad();
const result = await measureBatching(await createNodeGPU(), {
  stories: STORIES,
  storyTokens: Number(process.env.TABLLM_BENCH_TOKENS ?? 32),
  model30M: process.env.TABLLM_BENCH_SKIP_30M === '1' ? undefined : model30M(),
  tokens30M: Number(process.env.TABLLM_BENCH_TOKENS_30M ?? 8),
  chainSteps: process.env.TABLLM_BENCH_CHAIN !== '0',
}, (msg) => console.error(`[batching] ${msg}`));
console.log(`# Batching benchmark (Node, Dawn)\n\n${loadAtStart} at start, ${machineLoad()} at end.\n`);
console.log(batchingReport(result, nodeHost()));
process.exit(0);
