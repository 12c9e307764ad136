// Load-only host-memory measurement (#18): loads a GGUF onto a WebGPU device with a 128 MiB
// storage-binding limit (as test/gpu/full-size.test.ts does) and prints the RSS after each
// phase of createGpuRunner, in its order (runner.ts): the KV pool, the pipeline compiles
// (from the weight plan, before any weight is read), the weights (loadModelWeights), the
// step buffers (runner constructor, engine defaults: 512 tokens, 64 sampled rows). No
// decode step. On a software adapter (SwiftShader) GPU buffers and compiled kernels are
// host memory too, so the weights alone are ≈ 1.0× the file.
// What is reported: growth of the process's RSS over its RSS before the load (Node + Dawn +
// the device: the baseline, printed too); the peak is the kernel's high-water mark (VmHWM,
// reset at the baseline; Linux), else RSS sampled every 10 ms and after each tensor. The
// peak is the number #18 bounds (≤ 1.3× the file).
//   node --expose-gc --import tsx --import ./scripts/raw-loader.mjs bench/load-memory.ts [file.gguf] [--gpu-kernels]
// Without a file: both full-size shapes of test/helpers/full-size-model.ts (Qwen2.5-0.5B,
// Llama-3.2-1B; generated into the temp folder by a child process when missing, ~minutes),
// each measured in a process of its own (so neither the generator's nor the other model's
// memory is counted). Kernels: the software set (what SwiftShader runs), or the GPU set.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context';
import { KvPool } from '../src/gpu/kv-pool';
import { loadModelWeights } from '../src/gpu/model-weights';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { compileStepPipelines, GpuModelRunner } from '../src/gpu/runner';
import { modelConfigFromGGUF } from '../src/model/config';
import { readGGUF } from '../src/model/gguf/reader';
import { openSource } from '../src/model/gguf/source';
import { fullSizeModelPath, LLAMA32_1B, QWEN25_05B } from '../test/helpers/full-size-model';
import { resetPeakRss } from '../test/helpers/peak-rss';

const gpuKernels = process.argv.includes('--gpu-kernels');
const path = process.argv.slice(2).find((a) => !a.startsWith('--'));
const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;

if (!path) {
  console.log(`# Host memory during load (Node, Dawn, SwiftShader; ${gpuKernels ? 'GPU' : 'software'} kernel set)\n`);
  console.log('Peak RSS growth over the process before the load (its baseline: Node + Dawn + the device), per phase of createGpuRunner in its order; 128 MiB storage bindings; KV pool 8 MiB; step buffers for 512 tokens / 64 sampled rows (the engine defaults).\n');
  console.log('| model | file | baseline RSS | phase | RSS growth after | peak growth so far | peak / file |');
  console.log('|---|---|---|---|---|---|---|');
  let failed = false;
  for (const shape of [QWEN25_05B, LLAMA32_1B]) {
    const file = await fullSizeModelPath(shape);
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, file, ...process.argv.slice(2).filter((a) => a.startsWith('--'))], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
    });
    if (r.status !== 0) failed = true;
    process.stdout.write((r.stdout ?? '').replaceAll('| FILE |', `| ${shape.name} shape |`));
  }
  process.exit(failed ? 1 : 0);
}

const fileBytes = statSync(path).size;
const gpu = await createNodeGPU();
const adapter = await gpu.requestAdapter();
if (!adapter) throw new Error('no WebGPU adapter');
const device = await adapter.requestDevice({ requiredLimits: { maxStorageBufferBindingSize: 128 << 20 } });
const ctx = new GpuContext(device, { f16: false, subgroups: false }, !gpuKernels);

(globalThis as { gc?: () => void }).gc?.();
const before = process.memoryUsage().rss;
// The kernel's own peak (VmHWM, reset here to the RSS now): a synchronous compile blocks the
// 10 ms sampler, whose peak would then miss it. The sampler stays for systems without /proc.
const highWaterMark = resetPeakRss();
let peak = before;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss, highWaterMark?.() ?? 0);
};
const timer = setInterval(sample, 10);
let first = true;
const phase = async (what: string) => {
  await device.queue.onSubmittedWorkDone();
  sample();
  const now = process.memoryUsage().rss - before;
  const head = first ? `| FILE | ${mib(fileBytes)} | ${mib(before)} |` : '| | | |';
  first = false;
  console.log(`${head} ${what} | ${mib(now)} | ${mib(peak - before)} | ${((peak - before) / fileBytes).toFixed(2)}× |`);
};

// The steps of createGpuRunner (runner.ts), one at a time.
const source = await openSource(path);
const gguf = await readGGUF(source);
const config = modelConfigFromGGUF(gguf);
await phase('readGGUF');
const kvPool = new KvPool(ctx, config, 8 << 20, 'f32');
const plan = await loadModelWeights(ctx, gguf, source, config, undefined, { dry: true });
await compileStepPipelines(ctx, config, plan, kvPool);
await phase(`pipeline compiles (${ctx.pipelineCompiles.atLoad})`);
const weights = await loadModelWeights(ctx, gguf, source, config, sample);
await phase(`weights (${mib(weights.gpuBytes)} on the GPU)`);
const runner = new GpuModelRunner(ctx, config, weights, kvPool);
await phase('step buffers');
clearInterval(timer);
runner.destroy();
await source.close?.();
device.destroy();
process.exit(0);
