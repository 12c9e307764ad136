// Paged attention throughput on this machine's WebGPU adapter: decode (one query token
// per sequence) at several context lengths, one-pass vs split-context (flash-decoding) vs
// the 'thread' variant (one invocation per token and head, what software adapters run),
// and prefills of one sequence: query runs vs one workgroup per token. KV pool f32 with shuffled block tables.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/attention.ts [--large]
//   (or `npm run bench -- attention`)
// Each number is the median of 3 runs of REPS dispatches recorded into one submit (wall
// clock from submit to onSubmittedWorkDone), after a warm-up that compiles the pipelines.
// "KV GB/s" = K and V bytes the step must read / time.
import { createGpuContext } from '../src/gpu/device';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { attentionGroup, attentionQueryTile, attentionScratchBytes, chooseAttentionSplit, fixedSplitPlan, pagedAttention, type AttentionSplit, type AttentionVariant } from '../src/kernels/attention';
import { type KernelEncoder, UniformArena } from '../src/kernels/encoder';

const LARGE = process.argv.includes('--large');
const NUM_HEADS = 32, NUM_KV_HEADS = 8, HEAD_DIM = 64; // a Llama-3.2-1B-like attention layer
const CONTEXTS = LARGE ? [1024, 4096, 16384] : [256, 1024, 4096];
const DECODE_SEQS = 1;
const PREFILL_TS = LARGE ? [512, 2048] : [64, 256];
const RUNS = 3;

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const ctx = await createGpuContext({ gpu: await createNodeGPU(), precision: 'f32' });
  const kvDim = NUM_KV_HEADS * HEAD_DIM;
  const maxCtx = Math.max(...CONTEXTS, ...PREFILL_TS);
  const numBlocks = Math.ceil(maxCtx / 16) * Math.max(DECODE_SEQS, 1);
  const poolFloats = numBlocks * 16 * kvDim;
  const pool = Float32Array.from({ length: poolFloats }, (_, i) => Math.sin(i * 0.013));
  const kPool = ctx.upload('bench-k', pool), vPool = ctx.upload('bench-v', pool);
  const table = Int32Array.from({ length: numBlocks }, (_, i) => (i * 7919) % numBlocks); // scattered
  const blockTables = ctx.upload('bench-tables', table);
  const maxT = Math.max(...PREFILL_TS, DECODE_SEQS);
  const q = ctx.upload('bench-q', Float32Array.from({ length: maxT * NUM_HEADS * HEAD_DIM }, (_, i) => Math.cos(i * 0.07)));
  const out = ctx.storage('bench-out', maxT * NUM_HEADS * HEAD_DIM * 4);
  const uniforms = new UniformArena(ctx, 1 << 20, 'bench-uniforms');
  let scratch: GPUBuffer | undefined;

  async function timeMs(meta: GPUBuffer, T: number, split: AttentionSplit | undefined, variant: AttentionVariant, reps: number, queryTile?: number): Promise<number> {
    if (split) {
      const need = attentionScratchBytes(T, NUM_HEADS, HEAD_DIM, split);
      if (!scratch || scratch.size < need) { scratch?.destroy(); scratch = ctx.storage('bench-scratch', need); }
    }
    const ce = ctx.device.createCommandEncoder({ label: 'bench' });
    const pass = ce.beginComputePass({ label: 'bench' });
    const enc: KernelEncoder = { ctx, pass, uniforms, dispatches: 0 };
    for (let i = 0; i < reps; i++) {
      pagedAttention(enc, { q, kPool, vPool, tokenMeta: meta, blockTables, out, numTokens: T, numHeads: NUM_HEADS, numKvHeads: NUM_KV_HEADS, headDim: HEAD_DIM, split: split && { plan: split, scratch: scratch! }, variant, queryTile: variant === 'workgroup' ? queryTile : undefined });
    }
    pass.end();
    uniforms.flush();
    const t0 = performance.now();
    ctx.device.queue.submit([ce.finish()]);
    await ctx.device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / reps;
  }
  async function measure(meta: GPUBuffer, T: number, split?: AttentionSplit, variant: AttentionVariant = 'workgroup', queryTile?: number): Promise<number> {
    const once = await timeMs(meta, T, split, variant, 1, queryTile);
    const reps = Math.max(1, Math.min(100, Math.round(300 / Math.max(once, 0.01))));
    const times: number[] = [];
    for (let r = 0; r < RUNS; r++) times.push(await timeMs(meta, T, split, variant, reps, queryTile));
    return median(times);
  }

  console.log(`adapter: ${ctx.adapterName}; heads ${NUM_HEADS}/${NUM_KV_HEADS}, headDim ${HEAD_DIM}, f32 KV\n`);
  console.log(`'thread' is the default on software adapters (this one: ${ctx.software ? 'yes' : 'no'}); one-pass and split are the GPU variants.\n`);
  console.log('| step | context | one-pass ms | split ms (parts) | thread ms | KV GB/s (best) |');
  console.log('|---|---|---|---|---|---|');
  for (const c of CONTEXTS) {
    const meta = ctx.upload('bench-meta', Int32Array.from([c - 1, 0]));
    const one = await measure(meta, 1);
    const plan = chooseAttentionSplit(1, NUM_HEADS, c);
    const split = plan ? await measure(meta, 1, plan) : undefined;
    const thread = await measure(meta, 1, undefined, 'thread');
    const kvBytes = c * kvDim * 4 * 2;
    const best = Math.min(one, split ?? Infinity, thread);
    console.log(`| decode T=1 | ${c} | ${one.toFixed(3)} | ${split === undefined ? '—' : `${split.toFixed(3)} (${plan!.numParts})`} | ${thread.toFixed(3)} | ${(kvBytes / (best * 1e6)).toFixed(2)} |`);
    meta.destroy();
  }
  // Prefill: a prompt of T tokens from position 0 (one sequence), as the runner records it on
  // the GPU set (fixed split once T passes 256 positions); query runs (the default tile) vs
  // one workgroup per token (queryTile 1, what the kernel did before query runs).
  const qt = attentionQueryTile(attentionGroup(NUM_HEADS / NUM_KV_HEADS, HEAD_DIM), HEAD_DIM);
  console.log(`\n| prefill | query runs (tile ${qt}) ms | one workgroup per token ms | thread ms |`);
  console.log('|---|---|---|---|');
  for (const T of PREFILL_TS) {
    const prefillMeta = ctx.upload('bench-meta', Int32Array.from({ length: 2 * T }, (_, i) => (i % 2 === 0 ? i / 2 : 0)));
    const plan = fixedSplitPlan(T);
    const split = plan.numParts > 1 ? plan : undefined;
    const runs = await measure(prefillMeta, T, split);
    const perToken = await measure(prefillMeta, T, split, 'workgroup', 1);
    const thread = await measure(prefillMeta, T, undefined, 'thread');
    console.log(`| T=${T}${split ? ` (${plan.numParts} partitions)` : ''} | ${runs.toFixed(3)} | ${perToken.toFixed(3)} | ${thread.toFixed(3)} |`);
    prefillMeta.destroy();
  }
  for (const b of [kPool, vPool, blockTables, q, out]) b.destroy();
  scratch?.destroy();
  uniforms.destroy();
  ctx.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
