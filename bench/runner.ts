// GPU runner benchmark: per decode step dispatches, submits, bytes uploaded and read back;
// prefill and decode tokens/s; weight bytes on the GPU vs in the file. Prints markdown tables.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/runner.ts
// The same measurement in headless Chromium: bench/runner-chromium.ts.
// Models: stories260K (real, ../shared/fixtures) and a generated Q4_0 llama of ~100M
// parameters (dim 768, ffn 2048, vocab 32000, 12 layers; 134M with its embeddings and
// LM head). TABLLM_BENCH_LAYERS runs fewer layers; the table says how many ran. On this
// machine's SwiftShader the whole run takes about a minute and a half.
// Env: TABLLM_BENCH_PREFILL (tokens, default 64), TABLLM_BENCH_DECODE (steps, default 16).
import { createNodeGPU } from '../src/gpu/node-gpu';
import { makeTestModel } from '../test/helpers/test-model';
import { machineLoad, nodeHost, STORIES } from './lib/node-bench';
import { measureRunner, model100MOptions, runnerReport } from './lib/runner-measure';

const loadAtStart = machineLoad();
const options = { prefillTokens: Number(process.env.TABLLM_BENCH_PREFILL ?? 64), decodeSteps: Number(process.env.TABLLM_BENCH_DECODE ?? 16) };
const gpu = await createNodeGPU();
const layers = Number(process.env.TABLLM_BENCH_LAYERS ?? 12);
const result = await measureRunner(gpu, [
  { name: 'stories260K (F32)', model: STORIES },
  { name: `generated llama Q4_0, ${layers} of 12 layers`, model: makeTestModel(model100MOptions(layers)) },
], options);
console.log(`# Runner benchmark (Node, Dawn)\n\n${loadAtStart} at start, ${machineLoad()} at end.\n`);
console.log(runnerReport(result, nodeHost()));
process.exit(0);
