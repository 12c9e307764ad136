// Where a decode step's GPU time goes: every dispatch timed with timestamp queries
// (GpuModelRunner.profileSteps), summed per pipeline, for decode batches of 1, 4, 16
// and 32 sequences on stories260K. Prints one markdown table per batch size, and the
// unprofiled wall time per step beside the profiled GPU total.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/step-profile.ts [model.gguf]
// TABLLM_BENCH_KERNELS=gpu forces the GPU kernel set on a software adapter (SwiftShader
// picks the software set by default), to see where the GPU set's time goes there.
// Needs the adapter's 'timestamp-query' feature (SwiftShader and most GPUs have it).
import { loadavg } from 'node:os';
import { GREEDY, type StepInput } from '../src/engine/types';
import { GpuContext } from '../src/gpu/context';
import { createGpuContext } from '../src/gpu/device';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { createGpuRunner, type GpuModelRunner } from '../src/gpu/runner';
import { modelConfigFromGGUF } from '../src/model/config';
import { readGGUF } from '../src/model/gguf/reader';
import { openSource } from '../src/model/gguf/source';

const MODEL = process.argv[2] ?? '../shared/fixtures/stories260K/stories260K.gguf';
const BATCHES = (process.env.TABLLM_BENCH_BATCHES ?? '1,4,16,32').split(',').map(Number);
const CONTEXT = Number(process.env.TABLLM_BENCH_CONTEXT ?? 24);
const REPEATS = 3;

/** A decode step: `n` sequences, each adding its token at position CONTEXT - 1, blocks scattered. */
function decodeStep(n: number, vocab: number): StepInput {
  const blocksPer = Math.ceil(CONTEXT / 16);
  return {
    tokenIds: Int32Array.from({ length: n }, (_, i) => 3 + ((i * 37) % (vocab - 3))),
    positions: Int32Array.from({ length: n }, () => CONTEXT - 1),
    sequences: Array.from({ length: n }, (_, i) => ({
      queryStart: i, queryLength: 1, contextLength: CONTEXT,
      blockTable: Int32Array.from({ length: blocksPer }, (_, b) => b * n + i),
      sample: true, sampling: GREEDY, sampleIndex: 0,
    })),
  };
}

async function profile(runner: GpuModelRunner, n: number): Promise<void> {
  const input = decodeStep(n, runner.config.vocabSize);
  runner.profileSteps = false;
  await runner.step(input); // warm-up: pipelines, buffers
  const walls: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    await runner.step(input);
    walls.push(performance.now() - t0);
  }
  runner.profileSteps = true;
  const perLabel = new Map<string, { ns: number[]; count: number }>();
  for (let r = 0; r < REPEATS; r++) {
    await runner.step(input);
    const sums = new Map<string, { ns: number; count: number }>();
    for (const d of runner.lastStepStats!.dispatchNs ?? []) {
      const e = sums.get(d.label) ?? { ns: 0, count: 0 };
      e.ns += d.ns;
      e.count++;
      sums.set(d.label, e);
    }
    for (const [label, e] of sums) {
      const p = perLabel.get(label) ?? { ns: [], count: e.count };
      p.ns.push(e.ns);
      perLabel.set(label, p);
    }
  }
  runner.profileSteps = false;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rows = [...perLabel].map(([label, p]) => ({ label, count: p.count, ms: median(p.ns) / 1e6 })).sort((a, b) => b.ms - a.ms);
  const total = rows.reduce((s, r) => s + r.ms, 0);
  console.log(`\n### ${n} sequence${n > 1 ? 's' : ''} × 1 decode token, context ${CONTEXT}\n`);
  console.log(`wall per step (unprofiled, median of ${REPEATS}): ${median(walls).toFixed(1)} ms; GPU time summed over dispatches: ${total.toFixed(1)} ms\n`);
  console.log('| pipeline | dispatches | GPU ms (median of 3) | share |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.label} | ${r.count} | ${r.ms.toFixed(2)} | ${((100 * r.ms) / total).toFixed(1)}% |`);
}

const deviceCtx = await createGpuContext({ gpu: await createNodeGPU(), precision: 'f32' });
const forceGpuSet = process.env.TABLLM_BENCH_KERNELS === 'gpu';
const ctx = forceGpuSet ? new GpuContext(deviceCtx.device, deviceCtx.features, false) : deviceCtx;
if (!ctx.features.timestamps) {
  console.log(`${deviceCtx.adapterName} has no 'timestamp-query': nothing to profile.`);
  process.exit(0);
}
const source = await openSource(MODEL);
const gguf = await readGGUF(source);
const runner = await createGpuRunner({ ctx, gguf, source, config: modelConfigFromGGUF(gguf), kvCacheBytes: 16 << 20 });
console.log(`# Decode step profile: ${MODEL.split('/').pop()}\n\nadapter: ${deviceCtx.adapterName}; kernel set: ${ctx.software ? 'software' : 'GPU'}; load average ${loadavg()[0].toFixed(1)}`);
for (const n of BATCHES) await profile(runner, n);
runner.destroy();
deviceCtx.destroy();
process.exit(0);
