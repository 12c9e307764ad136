// bench/prefix-cache.ts in headless Chromium: the same measurement
// (bench/lib/prefix-measure.ts) on navigator.gpu, the generated ~28M Q4_0 llama built here in
// Node and served from 127.0.0.1. Prints the same table with the browser and the adapter named.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/prefix-cache-chromium.ts
// Env: TABLLM_BENCH_PREFIX (shared prefix tokens, default 1024), TABLLM_BENCH_MODEL=stories.
import { openBenchPage } from './lib/chromium-bench';
import { machineLoad, model30M, STORIES } from './lib/node-bench';
import { prefixReport } from './lib/prefix-measure';

const stories = process.env.TABLLM_BENCH_MODEL === 'stories';
const loadAtStart = machineLoad();
const bench = await openBenchPage('prefix-cache');
try {
  const url = stories ? bench.serveModel('stories260K.gguf', STORIES) : bench.serveModel('llama-28M-Q4_0.gguf', model30M());
  const result = await bench.call('prefixCache', url, { prefixTokens: Number(process.env.TABLLM_BENCH_PREFIX ?? 1024), suffixTokens: 16 });
  console.log(`# Prefix cache benchmark (${bench.chromium})\n\n${loadAtStart} at start, ${machineLoad()} at end.\n`);
  console.log(prefixReport(result, stories ? 'stories260K' : 'generated Q4_0 llama, ~28M parameters', bench.host));
} finally {
  await bench.close();
}
process.exit(0);
