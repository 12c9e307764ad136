// bench/runner.ts in headless Chromium: the same measurement (bench/lib/runner-measure.ts)
// on navigator.gpu, the models served from 127.0.0.1 (stories260K from ../shared/fixtures,
// the generated ~100M-parameter Q4_0 llama built here in Node). Prints the same table with
// the browser and the adapter named.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/runner-chromium.ts
// Env: TABLLM_BENCH_PREFILL (tokens, default 64), TABLLM_BENCH_DECODE (steps, default 16),
// TABLLM_BENCH_LAYERS (generated model's layers, default 12).
import { makeTestModel } from '../test/helpers/test-model';
import { openBenchPage } from './lib/chromium-bench';
import { machineLoad, STORIES } from './lib/node-bench';
import { model100MOptions, runnerReport } from './lib/runner-measure';

const loadAtStart = machineLoad();
const options = { prefillTokens: Number(process.env.TABLLM_BENCH_PREFILL ?? 64), decodeSteps: Number(process.env.TABLLM_BENCH_DECODE ?? 16) };
const bench = await openBenchPage('runner');
try {
  const layers = Number(process.env.TABLLM_BENCH_LAYERS ?? 12);
  const result = await bench.call('runner', [
    { name: 'stories260K (F32)', model: bench.serveModel('stories260K.gguf', STORIES) },
    { name: `generated llama Q4_0, ${layers} of 12 layers`, model: bench.serveModel(`llama-100M-${layers}L-Q4_0.gguf`, makeTestModel(model100MOptions(layers))) },
  ], options);
  console.log(`# Runner benchmark (${bench.chromium})\n\n${loadAtStart} at start, ${machineLoad()} at end.\n`);
  console.log(runnerReport(result, bench.host));
} finally {
  await bench.close();
}
process.exit(0);
