// bench/batching.ts in headless Chromium: the same measurement (bench/lib/batching-measure.ts:
// overhead regime on stories260K, compute regime on the generated ~28M Q4_0 llama built here
// in Node, KV waste, the adapter's batch-16 matmul ceiling) on navigator.gpu, the models
// served from 127.0.0.1. Prints the same tables with the browser and the adapter named.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/batching-chromium.ts
// Env: TABLLM_BENCH_TOKENS (stories260K, default 32), TABLLM_BENCH_TOKENS_30M (default 8),
//   TABLLM_BENCH_SKIP_30M=1.
import { batchingReport } from './lib/batching-measure';
import { openBenchPage } from './lib/chromium-bench';
import { machineLoad, model30M, STORIES } from './lib/node-bench';

const loadAtStart = machineLoad();
const bench = await openBenchPage('batching');
try {
  const result = await bench.call('batching', {
    stories: bench.serveModel('stories260K.gguf', STORIES),
    storyTokens: Number(process.env.TABLLM_BENCH_TOKENS ?? 32),
    model30M: process.env.TABLLM_BENCH_SKIP_30M === '1' ? undefined : bench.serveModel('llama-28M-Q4_0.gguf', model30M()),
    tokens30M: Number(process.env.TABLLM_BENCH_TOKENS_30M ?? 8),
  });
  console.log(`# Batching benchmark (${bench.chromium})\n\n${loadAtStart} at start, ${machineLoad()} at end.\n`);
  console.log(batchingReport(result, bench.host));
} finally {
  await bench.close();
}
process.exit(0);
