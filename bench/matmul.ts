// Matmul kernel throughput per weight type on this machine's WebGPU adapter.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/matmul.ts [--large]
//   (or `npm run bench -- matmul`)
// Prints a markdown table: matrix × vector (T=1, decode) and tiled matrix × matrix
// (T=64, prefill) in GFLOP/s, and the matvec's weight read rate in GB/s. Each number
// is the median over runs of REPS dispatches recorded into one submit (wall clock
// from submit to onSubmittedWorkDone, after a warm-up that compiles the pipelines).
// In parentheses: this process's CPU time per dispatch — with a software adapter
// (SwiftShader runs in-process) it stays meaningful when other work shares the cores.
// Default shapes are small enough for a software adapter; --large uses 4096×4096.
// --matvec times only the matrix × vector at T=1 (the decode kernel; the T=64 columns
// take minutes per type on a software adapter); --types=Q4_K,Q6_K picks weight types.
// Split-K columns: the tiled kernel on a small-N weight [SMALL_N, K] (Qwen2.5-0.5B's k/v
// projections have N = 128), unsplit and split as chooseSplitK picks (S in the header).
// --tile=4x4 or --tile=8x4 forces the tiled columns' register tile (tokens × rows per thread;
// default: chooseTiledTokens, 4×4 at these shapes); --tokens=T sets the prefill token count
// (default 64; the 8×4 tile fills from 128).
import { createGpuContext } from '../src/gpu/device';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { uploadWeightBytes, type GpuWeight } from '../src/gpu/weights';
import { type KernelEncoder, UniformArena } from '../src/kernels/encoder';
import { chooseSplitK, chooseTiledTokens, matmul, matmulFlops, SPLITK_SCRATCH_BYTES, type MatmulVariant, type SplitK, type TiledTokensPerThread } from '../src/kernels/matmul';
import { quantize } from '../src/model/gguf/quantize';
import { GGMLType } from '../src/model/gguf/types';

const LARGE = process.argv.includes('--large');
const K = LARGE ? 4096 : 1024;
const N = LARGE ? 4096 : 1024;
const SMALL_N = 128;
const argValue = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const PREFILL_T = Number(argValue('tokens') ?? 64);
if (!(Number.isInteger(PREFILL_T) && PREFILL_T > 8)) throw new Error(`--tokens: ${PREFILL_T} (the tiled kernel runs above 8 tokens)`);
const tileArg = argValue('tile');
if (tileArg !== undefined && tileArg !== '4x4' && tileArg !== '8x4') throw new Error(`--tile: ${tileArg} (4x4 or 8x4)`);
const TILE: TiledTokensPerThread | undefined = tileArg === undefined ? undefined : tileArg === '8x4' ? 8 : 4;
const RUNS = 3;
const MATVEC_ONLY = process.argv.includes('--matvec');
const ALL_TYPES = [
  GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.IQ4_NL,
  GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.IQ4_XS,
];
const typesArg = process.argv.find((a) => a.startsWith('--types='));
const TYPES = typesArg
  ? typesArg.slice('--types='.length).split(',').map((name) => {
      const t = ALL_TYPES.find((type) => GGMLType[type] === name.toUpperCase());
      if (t === undefined) throw new Error(`--types: unknown weight type ${name}`);
      return t;
    })
  : ALL_TYPES;

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
  const splitScratch = ctx.storage('bench-splitk', SPLITK_SCRATCH_BYTES);
  const smallSplit = chooseSplitK(SMALL_N, K, PREFILL_T);

  interface Timing {
    wallMs: number;
    cpuMs: number;
  }

  // The register tile forced on the unsplit tiled columns (split ones run 4×4).
  const tileOf = (variant: MatmulVariant, splitK?: SplitK) => (variant === 'tiled' && (splitK ?? 1) === 1 ? TILE : undefined);

  async function timeMs(weight: GpuWeight, T: number, variant: MatmulVariant, reps: number, splitK?: SplitK): Promise<Timing> {
    const ce = ctx.device.createCommandEncoder({ label: 'bench' });
    const pass = ce.beginComputePass({ label: 'bench' });
    const enc: KernelEncoder = { ctx, pass, uniforms, dispatches: 0 };
    const tokensPerThread = tileOf(variant, splitK);
    for (let i = 0; i < reps; i++) matmul(enc, { weight, x, y, numTokens: T, variant, splitK, splitScratch: splitK ? splitScratch : undefined, tokensPerThread });
    pass.end();
    uniforms.flush();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    ctx.device.queue.submit([ce.finish()]);
    await ctx.device.queue.onSubmittedWorkDone();
    const cpu = process.cpuUsage(cpu0);
    return { wallMs: (performance.now() - t0) / reps, cpuMs: (cpu.user + cpu.system) / 1000 / reps };
  }

  async function measure(weight: GpuWeight, T: number, variant: MatmulVariant, splitK?: SplitK): Promise<Timing> {
    const once = await timeMs(weight, T, variant, 1, splitK); // warm-up: compiles the pipeline
    // Aim for ~0.3 s per run, at least 1 and at most 200 dispatches.
    const reps = Math.max(1, Math.min(200, Math.round(300 / Math.max(once.wallMs, 0.01))));
    const runs: Timing[] = [];
    for (let r = 0; r < RUNS; r++) runs.push(await timeMs(weight, T, variant, reps, splitK));
    return { wallMs: median(runs.map((t) => t.wallMs)), cpuMs: median(runs.map((t) => t.cpuMs)) };
  }

  const tile = TILE ?? chooseTiledTokens(N, PREFILL_T);
  console.log(`adapter: ${ctx.adapterName}; K=${K}, N=${N}; f32 activations; tiled register tile ${tile}×4${TILE ? ' (forced)' : ''}\n`);
  console.log(
    `| weight type | matvec T=1 ms (cpu) | matvec GFLOP/s | matvec weight GB/s | tiled ${tile}×4 T=${PREFILL_T} ms (cpu) | tiled GFLOP/s | vec T=${PREFILL_T} GFLOP/s ` +
      `| tiled N=${SMALL_N} ms (cpu) | split-K ${smallSplit} N=${SMALL_N} ms (cpu) |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const type of TYPES) {
    const weight = await uploadWeightBytes(ctx, `bench-${GGMLType[type]}`, type, [K, N], quantize(type, values));
    const vecMs = await measure(weight, 1, 'vec');
    const gflops = (T: number, t: Timing) => (matmulFlops(weight, T) / (t.wallMs * 1e6)).toFixed(3);
    const ms = (t: Timing) => `${t.wallMs.toFixed(2)} (${t.cpuMs.toFixed(2)})`;
    const vecCols = `| ${GGMLType[type]} | ${ms(vecMs)} | ${gflops(1, vecMs)} | ${(weight.gpuBytes / (vecMs.wallMs * 1e6)).toFixed(3)} |`;
    if (MATVEC_ONLY) {
      console.log(`${vecCols} – | – | – | – | – |`);
    } else {
      const tiledMs = await measure(weight, PREFILL_T, 'tiled');
      const vecPrefillMs = await measure(weight, PREFILL_T, 'vec');
      const small = await uploadWeightBytes(ctx, `bench-small-${GGMLType[type]}`, type, [K, SMALL_N], quantize(type, values.subarray(0, SMALL_N * K)));
      const smallMs = await measure(small, PREFILL_T, 'tiled', 1);
      const smallSplitMs = await measure(small, PREFILL_T, 'tiled', smallSplit);
      small.destroy();
      console.log(`${vecCols} ${ms(tiledMs)} | ${gflops(PREFILL_T, tiledMs)} | ${gflops(PREFILL_T, vecPrefillMs)} | ${ms(smallMs)} | ${ms(smallSplitMs)} |`);
    }
    weight.destroy();
  }
  uniforms.destroy();
  splitScratch.destroy();
  x.destroy();
  y.destroy();
  ctx.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
