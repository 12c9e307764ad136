// Paged causal attention over the flattened batch (GQA, head dims up to 256).
// Variants: one workgroup per (group of query heads sharing a kv head, run of up to
// attentionQueryTile consecutive query tokens of one sequence) over the whole context —
// a run shares every K/V tile it reads, and each token keeps the bits it has alone; or, for few
// (token, head) pairs over long contexts, split-context partials + a combine pass
// (flash-decoding) when the caller gives a plan and a scratch buffer — fixedSplitPlan
// (partitions of ATTENTION_PART_LEN, batch-invariant; what the runner runs on the GPU set,
// stepAttentionParts) or chooseAttentionSplit (by batch);
// or 'thread' (attention-thread.wgsl): one invocation per (token, head) with no workgroup
// memory or barriers, the default on software adapters (GpuContext.software), where a
// barrier costs more than a short context's arithmetic.
import threadCode from './attention-thread.wgsl?raw';
import code from './attention.wgsl?raw';
import { dispatch, f32Bits, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';
import { withKvType, type KvType } from './kv-type';

const WG = 64;
export const ATTENTION_MAX_HEAD_DIM = 256;
/** Below this many (token, head) workgroups a long context is split across workgroups. */
const SPLIT_MAX_WORKGROUPS = 256;
const SPLIT_MIN_PART_LEN = 256;
const SPLIT_MAX_PARTS = 64;

/**
 * Query heads one workgroup serves: the largest divisor of the GQA ratio within the
 * kernel's private/workgroup arrays (<= 8 heads, <= 2048 q floats, <= 32 outputs per thread).
 */
export function attentionGroup(gqaRatio: number, headDim: number): number {
  const dpt = Math.ceil(headDim / WG);
  for (let g = Math.min(8, gqaRatio); g > 1; g--) {
    if (gqaRatio % g === 0 && g * headDim <= 2048 && g * dpt <= 32) return g;
  }
  return 1;
}

/** Workgroup memory the 'workgroup' variant may use: WebGPU's default maxComputeWorkgroupStorageSize. */
const WORKGROUP_STORAGE_BYTES = 16384;
const MAX_QUERY_ROWS = 16; // attention.wgsl MAX_ROWS: (query, head) rows per workgroup
const MAX_ACC = 32; // attention.wgsl MAX_ACC: outputs per thread

/** Bytes of attention.wgsl's workgroup arrays: qShared, tileScore, tileSlot, kTile (WG × 17). */
function attentionWorkgroupBytes(rows: number, dpt: number): number {
  return 4 * (rows * dpt * WG + rows * WG + WG + WG * 17);
}

/**
 * Query tokens (consecutive positions of one sequence) one 'workgroup' variant workgroup
 * serves, sharing each staged K/V tile: as many as fit 16 (query, head) rows, 32 outputs
 * per thread and 16 KiB of workgroup memory beside the group's heads. Fixed by the shape,
 * never by the batch (a token's bits do not depend on it anyway: attention.wgsl).
 */
export function attentionQueryTile(group: number, headDim: number): number {
  const dpt = Math.ceil(headDim / WG);
  let qt = Math.floor(Math.min(MAX_QUERY_ROWS / group, MAX_ACC / (group * dpt)));
  while (qt > 1 && attentionWorkgroupBytes(qt * group, dpt) > WORKGROUP_STORAGE_BYTES) qt--;
  return Math.max(1, qt);
}

export interface AttentionSplit {
  numParts: number;
  partLen: number;
}

/**
 * The split-context plan for a step, or undefined when one pass is better. The split
 * sums in a different order than one pass (results agree to f32 rounding, not bit for
 * bit), and this choice depends on the batch (numTokens): a runner that wants outputs
 * bit-identical across batch compositions should decide by context length alone.
 */
export function chooseAttentionSplit(numTokens: number, numHeads: number, maxContextLength: number): AttentionSplit | undefined {
  if (numTokens * numHeads >= SPLIT_MAX_WORKGROUPS || maxContextLength < 2 * SPLIT_MIN_PART_LEN || numTokens > MAX_WORKGROUPS_PER_DIM) return undefined;
  return splitPlan(maxContextLength, Math.min(SPLIT_MAX_PARTS, Math.ceil(maxContextLength / SPLIT_MIN_PART_LEN)));
}

/**
 * Positions per partition of the fixed split (GPU kernel set): a constant, so a token's
 * result depends only on its own context, whatever the batch (see attention.wgsl).
 */
export const ATTENTION_PART_LEN = 256;

/** The fixed-partition split plan for a step whose longest context is `maxContextLength`. */
export function fixedSplitPlan(maxContextLength: number): AttentionSplit {
  return { numParts: Math.max(1, Math.ceil(maxContextLength / ATTENTION_PART_LEN)), partLen: ATTENTION_PART_LEN };
}

/**
 * Partitions of the fixed split a step runs on this context: fixedSplitPlan's count where
 * attention runs the 'workgroup' variant (the GPU set), 1 elsewhere ('thread' has no split).
 * One partition is run as the one-pass kernel, which gives the same bits (attention.wgsl).
 */
export function stepAttentionParts(ctx: { software?: boolean }, maxContextLength: number): number {
  return defaultAttentionVariant(ctx) === 'workgroup' ? fixedSplitPlan(maxContextLength).numParts : 1;
}

/** Largest split scratch a runner keeps (below maxStorageBufferBindingSize); longer steps run in chunks. */
export const ATTENTION_SCRATCH_BUDGET_BYTES = 32 << 20;

/**
 * Scratch bytes for the fixed split of `numParts` partitions over a step of up to
 * `maxTokens` tokens: all of them when that fits the budget, else as many as fit (at
 * least one token's partials).
 */
export function fixedSplitScratchBytes(maxTokens: number, numHeads: number, headDim: number, numParts: number, maxBindingBytes: number): number {
  const perToken = attentionScratchBytes(1, numHeads, headDim, { numParts, partLen: ATTENTION_PART_LEN });
  return Math.max(perToken, Math.min(maxTokens * perToken, ATTENTION_SCRATCH_BUDGET_BYTES, maxBindingBytes));
}

/** Tokens one partial + combine pair runs with `scratchBytes` of scratch (0: not even one fits). */
export function splitChunkTokens(numHeads: number, headDim: number, plan: AttentionSplit, scratchBytes: number): number {
  return Math.min(MAX_WORKGROUPS_PER_DIM, Math.floor(scratchBytes / attentionScratchBytes(1, numHeads, headDim, plan)));
}

/** Partitions of a multiple of WG positions covering maxContextLength. */
export function splitPlan(maxContextLength: number, numParts: number): AttentionSplit {
  const partLen = Math.ceil(Math.ceil(maxContextLength / numParts) / WG) * WG;
  return { numParts: Math.ceil(maxContextLength / partLen), partLen };
}

/** Bytes of scratch the split variant needs: [numTokens, numHeads, numParts, headDim + 2] f32. */
export function attentionScratchBytes(numTokens: number, numHeads: number, headDim: number, split: AttentionSplit): number {
  return numTokens * numHeads * split.numParts * (headDim + 2) * 4;
}

/** 'workgroup': attention.wgsl (a workgroup per head group and token); 'thread': attention-thread.wgsl. */
export type AttentionVariant = 'workgroup' | 'thread';

/** The variant a context runs by default: 'thread' on software adapters, else 'workgroup'. */
export function defaultAttentionVariant(ctx: { software?: boolean }): AttentionVariant {
  return ctx.software ? 'thread' : 'workgroup';
}

export interface PagedAttentionArgs {
  q: GPUBuffer; // [numTokens, qRowStride] f32, head h at qColOffset + h * headDim
  kPool: GPUBuffer; // [numBlocks, 16, nKvHeads, headDim] kvType
  vPool: GPUBuffer; // [numBlocks, 16, nKvHeads, headDim] kvType
  /** Pool element type; 'f16' needs a device with 'shader-f16'. Default 'f32'. */
  kvType?: KvType;
  /** [numTokens, 2] i32: (position, start of the token's sequence's table in blockTables). */
  tokenMeta: GPUBuffer;
  blockTables: GPUBuffer; // [sum of table lengths] i32
  out: GPUBuffer; // [numTokens, numHeads * headDim] f32
  numTokens: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  qRowStride?: number;
  qColOffset?: number;
  /** Default 1 / sqrt(headDim). */
  scale?: number;
  /** Logit soft-cap (gemma2): score = softcap · tanh(score / softcap) after scaling. Default none. */
  softcap?: number;
  /** Sliding window: position p attends to max(0, p + 1 - window)..p only. Default: the whole context. */
  window?: number;
  /**
   * Split-context variant: a plan whose partitions cover every token's context
   * (numParts * partLen >= position + 1) and a scratch of at least one token's partials
   * (attentionScratchBytes(1, …)); larger batches run in chunks of as many tokens as it holds.
   * With fixedSplitPlan the output of a token is bit-identical in any batch.
   */
  split?: { plan: AttentionSplit; scratch: GPUBuffer };
  /** Default defaultAttentionVariant(ctx). 'thread' takes no split plan. */
  variant?: AttentionVariant;
  /**
   * 'workgroup' variant: query tokens per run (1..attentionQueryTile(…); default the
   * largest). 1 = one workgroup per token, as tests and benches compare against: the
   * outputs are the same bits either way.
   */
  queryTile?: number;
}

function splitGroups(count: number): [number, number] {
  const x = Math.min(count, MAX_WORKGROUPS_PER_DIM);
  return [x, Math.ceil(count / x)];
}

export function pagedAttention(enc: KernelEncoder, a: PagedAttentionArgs): void {
  const qRowStride = a.qRowStride ?? a.numHeads * a.headDim;
  const qColOffset = a.qColOffset ?? 0;
  if (a.headDim <= 0 || a.headDim > ATTENTION_MAX_HEAD_DIM) throw new KernelArgError('attention', `headDim ${a.headDim} not in 1..${ATTENTION_MAX_HEAD_DIM}`);
  if (a.numKvHeads <= 0 || a.numHeads % a.numKvHeads !== 0) throw new KernelArgError('attention', `numHeads ${a.numHeads} not a multiple of numKvHeads ${a.numKvHeads}`);
  if (qColOffset + a.numHeads * a.headDim > qRowStride) throw new KernelArgError('attention', 'q heads overrun the row');
  if (a.q.size < a.numTokens * qRowStride * 4) throw new KernelArgError('attention', 'q smaller than [numTokens, qRowStride]');
  if (a.out.size < a.numTokens * a.numHeads * a.headDim * 4) throw new KernelArgError('attention', 'out smaller than [numTokens, numHeads * headDim]');
  if (a.tokenMeta.size < a.numTokens * 8) throw new KernelArgError('attention', 'tokenMeta shorter than [numTokens, 2]');
  if (a.out === a.q) throw new KernelArgError('attention', 'out must not alias q');
  if (a.numHeads > MAX_WORKGROUPS_PER_DIM) throw new KernelArgError('attention', 'too many heads');
  const kvType = a.kvType ?? 'f32';
  if (kvType === 'f16' && !enc.ctx.features.f16) throw new KernelArgError('attention', "kvType 'f16' needs the 'shader-f16' feature");
  if (a.softcap !== undefined && !(a.softcap > 0 && Number.isFinite(a.softcap))) throw new KernelArgError('attention', `softcap ${a.softcap} must be a positive number`);
  if (a.window !== undefined && !(Number.isInteger(a.window) && a.window > 0 && a.window < 2 ** 32)) throw new KernelArgError('attention', `window ${a.window} must be a positive integer`);
  if (a.numTokens === 0) return;
  const scale = a.scale ?? 1 / Math.sqrt(a.headDim);
  const dpt = Math.ceil(a.headDim / WG);
  const group = attentionGroup(a.numHeads / a.numKvHeads, a.headDim);
  const maxQt = attentionQueryTile(group, a.headDim);
  const qt = a.queryTile ?? maxQt;
  if (!(Number.isInteger(qt) && qt >= 1 && qt <= maxQt)) throw new KernelArgError('attention', `queryTile ${a.queryTile} not in 1..${maxQt}`);
  const codeK = withKvType('attention', code, kvType);
  const variantKey = `${kvType}/wg${WG}/g${group}/dpt${dpt}/qt${qt}`;
  const constants = { WG, GROUP: group, DPT: dpt, QT: qt };
  const f32 = new Float32Array([scale]);
  const scaleBits = new Uint32Array(f32.buffer)[0];
  const outRowStride = a.numHeads * a.headDim;
  const ty = Math.min(a.numTokens, MAX_WORKGROUPS_PER_DIM);
  const tz = Math.ceil(a.numTokens / MAX_WORKGROUPS_PER_DIM);
  const common = [a.numTokens, a.numHeads, a.numKvHeads, a.headDim, qRowStride, qColOffset, outRowStride, scaleBits];
  const tail = [f32Bits(a.softcap ?? 0), a.window ?? 0]; // Params.softcap, Params.window (then tokenOffset: split only)
  const variant = a.variant ?? defaultAttentionVariant(enc.ctx);
  if (variant === 'thread') {
    if (a.split) throw new KernelArgError('attention', "the 'thread' variant has no split-context form");
    const pipeline = enc.ctx.pipeline(`attention-thread/${kvType}/wg${WG}`, withKvType('attention', threadCode, kvType), { WG });
    const params = enc.uniforms.push('attention', [...common, 1, 0, ...tail, 0]);
    const [gx, gy] = splitGroups(Math.ceil((a.numTokens * a.numHeads) / WG));
    dispatch(enc, pipeline, [a.q, a.kPool, a.vPool, a.tokenMeta, a.blockTables, a.out, params], gx, gy);
    return;
  }
  if (!a.split) {
    const pipeline = enc.ctx.pipeline(`attention/${variantKey}`, codeK, constants);
    const params = enc.uniforms.push('attention', [...common, 1, 0, ...tail, 0]);
    dispatch(enc, pipeline, [a.q, a.kPool, a.vPool, a.tokenMeta, a.blockTables, a.out, params], a.numHeads / group, ty, tz);
    return;
  }
  const { plan, scratch } = a.split;
  if (plan.numParts > MAX_WORKGROUPS_PER_DIM || plan.numParts < 1 || plan.partLen < 1) {
    throw new KernelArgError('attention', `bad split plan ${plan.numParts} x ${plan.partLen} for ${a.numTokens} tokens`);
  }
  if (scratch.size < attentionScratchBytes(1, a.numHeads, a.headDim, plan)) throw new KernelArgError('attention', "split scratch too small for one token's partials");
  if (scratch === a.out || scratch === a.q) throw new KernelArgError('attention', 'split scratch must not alias q or out');
  const partial = enc.ctx.pipeline(`attention-partial/${variantKey}`, codeK, constants, 'partial');
  const combine = enc.ctx.pipeline(`attention-combine/${variantKey}`, codeK, constants, 'combine');
  // The scratch holds `chunk` tokens' partials; tokens are independent, so running them in
  // chunks changes no bits.
  const chunk = splitChunkTokens(a.numHeads, a.headDim, plan, scratch.size);
  for (let t0 = 0; t0 < a.numTokens; t0 += chunk) {
    const n = Math.min(chunk, a.numTokens - t0);
    const params = enc.uniforms.push('attention', [...common, plan.numParts, plan.partLen, ...tail, t0]);
    dispatch(enc, partial, [a.q, a.kPool, a.vPool, a.tokenMeta, a.blockTables, scratch, params], a.numHeads / group, n, plan.numParts);
    dispatch(enc, combine, [scratch, a.out, params], a.numHeads, n);
  }
}
