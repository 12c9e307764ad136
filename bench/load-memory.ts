// Load-only host-memory measurement (#18): loads a GGUF onto a WebGPU device with a 128 MiB
// storage-binding limit (as test/gpu/full-size.test.ts does) and prints the peak RSS growth
// after each phase of createGpuRunner, relative to the file size: the weights
// (loadModelWeights), the step buffers (runner constructor), the pipeline compiles
// (preparePipelines). No reference, no decode step. The file must already exist (make the
// full-size shapes with test/helpers/full-size-model.ts, a process of its own, so the
// generator's buffers are never counted here):
//   node --expose-gc --import tsx --import ./scripts/raw-loader.mjs bench/load-memory.ts <file.gguf> [--software|--gpu-kernels]
// On a software adapter (SwiftShader) GPU buffers and compiled kernels are host memory too.
import { statSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context';
import { KvPool } from '../src/gpu/kv-pool';
import { loadModelWeights } from '../src/gpu/model-weights';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { GpuModelRunner } from '../src/gpu/runner';
import { modelConfigFromGGUF } from '../src/model/config';
import { readGGUF } from '../src/model/gguf/reader';
import { openSource } from '../src/model/gguf/source';

const path = process.argv[2];
if (!path) throw new Error('usage: bench/load-memory.ts <file.gguf> [--gpu-kernels]');
const softwareKernels = !process.argv.includes('--gpu-kernels');
const fileBytes = statSync(path).size;
const gpu = await createNodeGPU();
const adapter = await gpu.requestAdapter();
if (!adapter) throw new Error('no WebGPU adapter');
const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: 128 << 20 } });
const ctx = new GpuContext(device, { f16: false, subgroups: false }, softwareKernels);

(globalThis as { gc?: () => void }).gc?.();
const before = process.memoryUsage().rss;
let peak = before;
let peakArrayBuffers = 0;
const sample = () => {
  const m = process.memoryUsage();
  peak = Math.max(peak, m.rss);
  peakArrayBuffers = Math.max(peakArrayBuffers, m.arrayBuffers);
};
const timer = setInterval(sample, 10);
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
const phase = async (what: string) => {
  await device.queue.onSubmittedWorkDone();
  sample();
  const now = process.memoryUsage().rss - before;
  console.log(`after ${what}: RSS +${mib(now)}, peak +${mib(peak - before)} (${((peak - before) / fileBytes).toFixed(2)}× the file), peak JS ArrayBuffers ${mib(peakArrayBuffers)}`);
};

const source = await openSource(path);
const gguf = await readGGUF(source);
const config = modelConfigFromGGUF(gguf);
await phase('readGGUF');
// The steps of createGpuRunner (runner.ts), one at a time.
const kvPool = new KvPool(ctx, config, 8 << 20, 'f32');
const weights = await loadModelWeights(ctx, gguf, source, config, sample);
await phase(`weights (${mib(weights.gpuBytes)} on the GPU)`);
const runner = new GpuModelRunner(ctx, config, weights, kvPool);
await phase('step buffers');
await runner.preparePipelines();
await phase('pipeline compiles');
clearInterval(timer);
console.log(`${path}: file ${mib(fileBytes)}, peak RSS growth during load ${mib(peak - before)} (${((peak - before) / fileBytes).toFixed(2)}× the file)`);
runner.destroy();
await source.close?.();
device.destroy();
process.exit(0);
