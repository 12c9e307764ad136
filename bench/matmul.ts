// Matmul kernel throughput per weight type on this machine's WebGPU adapter.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/matmul.ts [--large]
//   (or `npm run bench -- matmul`)
// Prints a markdown table: matrix × vector (T=1, decode) and tiled matrix × matrix
// (T=64, prefill) in GFLOP/s, and the matvec's weight read rate in GB/s. Each number
// is the median over runs of REPS dispatches recorded into one submit (wall clock
// from submit to onSubmittedWorkDone, after a warm-up that compiles the pipelines).
// Default shapes are small enough for a software adapter; --large uses 4096×4096.
import { createGpuContext } from '../src/gpu/device';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { uploadWeightBytes, type GpuWeight } from '../src/gpu/weights';
import { type KernelEncoder, UniformArena } from '../src/kernels/encoder';
import { matmul, matmulFlops, type MatmulVariant } from '../src/kernels/matmul';
import { quantize } from '../src/model/gguf/quantize';
import { GGMLType } from '../src/model/gguf/types';

const LARGE = process.argv.includes('--large');
const K = LARGE ? 4096 : 1024;
const N = LARGE ? 4096 : 1024;
const PREFILL_T = 64;
const RUNS = 3;
const TYPES = [GGMLType.F32, GGMLType.F16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K];

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const ctx = await createGpuContext({ gpu: await createNodeGPU(), precision: 'f32' });
  const values = Float32Array.from({ length: N * K }, (_, i) => Math.sin(i * 0.37) * 0.05);
  const x = ctx.upload('bench-x', Float32Array.from({ length: PREFILL_T * K }, (_, i) => Math.cos(i * 0.11)));
  const y = ctx.storage('bench-y', PREFILL_T * N * 4);
  const uniforms = new UniformArena(ctx, 1 << 20, 'bench-uniforms');

  async function timeMs(weight: GpuWeight, T: number, variant: MatmulVariant, reps: number): Promise<number> {
    const ce = ctx.device.createCommandEncoder({ label: 'bench' });
    const pass = ce.beginComputePass({ label: 'bench' });
    const enc: KernelEncoder = { ctx, pass, uniforms, dispatches: 0 };
    for (let i = 0; i < reps; i++) matmul(enc, { weight, x, y, numTokens: T, variant });
    pass.end();
    uniforms.flush();
    const t0 = performance.now();
    ctx.device.queue.submit([ce.finish()]);
    await ctx.device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / reps;
  }

  async function measure(weight: GpuWeight, T: number, variant: MatmulVariant): Promise<number> {
    const once = await timeMs(weight, T, variant, 1); // warm-up: compiles the pipeline
    // Aim for ~0.5 s per run, at least 1 and at most 200 dispatches.
    const reps = Math.max(1, Math.min(200, Math.round(500 / Math.max(once, 0.01))));
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) times.push(await timeMs(weight, T, variant, reps));
    return median(times);
  }

  console.log(`adapter: ${ctx.adapterName}; K=${K}, N=${N}; f32 activations\n`);
  console.log(`| weight type | matvec T=1 ms | matvec GFLOP/s | matvec weight GB/s | tiled T=${PREFILL_T} ms | tiled GFLOP/s | vec T=${PREFILL_T} GFLOP/s |`);
  console.log('|---|---|---|---|---|---|---|');
  for (const type of TYPES) {
    const weight = await uploadWeightBytes(ctx, `bench-${GGMLType[type]}`, type, [K, N], quantize(type, values));
    const vecMs = await measure(weight, 1, 'vec');
    const tiledMs = await measure(weight, PREFILL_T, 'tiled');
    const vecPrefillMs = await measure(weight, PREFILL_T, 'vec');
    const gflops = (T: number, ms: number) => (matmulFlops(weight, T) / (ms * 1e6)).toFixed(2);
    console.log(
      `| ${GGMLType[type]} | ${vecMs.toFixed(3)} | ${gflops(1, vecMs)} | ${(weight.gpuBytes / (vecMs * 1e6)).toFixed(2)} | ` +
        `${tiledMs.toFixed(2)} | ${gflops(PREFILL_T, tiledMs)} | ${gflops(PREFILL_T, vecPrefillMs)} |`,
    );
    weight.destroy();
  }
  uniforms.destroy();
  x.destroy();
  y.destroy();
  ctx.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
