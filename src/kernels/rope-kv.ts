// RoPE of q and k (with the optional per-head q/k norm) and the KV-pool write in one
// dispatch, for a layer whose q, k, v come out of one fused matmul (rope-kv.wgsl has the
// row layout). Layers with separate q/k/v buffers use rope.ts twice and kv-write.ts.
import { ropeWorkgroupSize, type RopeStyle } from './rope';
import common from './rope-common.wgsl?raw';
import body from './rope-kv.wgsl?raw';
import { dispatch, f32Bits, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';
import { kvBytesPerElement, withKvType, type KvType } from './kv-type';

const CODE = common + body;

export interface RopeKvArgs {
  /** [numTokens, rowStride] f32: q heads, then k heads, then v heads; q and k rotated in place. */
  qkv: GPUBuffer;
  positions: GPUBuffer; // [numTokens] i32
  /** [ropeDim / 2, 2] u32 from createRopeTable / ropeTurnTableFromFrequencies. */
  turns: GPUBuffer;
  /** [numTokens] i32: blockTable[pos >> 4] * 16 + (pos & 15). */
  slotMapping: GPUBuffer;
  kPool: GPUBuffer; // [numBlocks, 16, numKvHeads, headDim] kvType
  vPool: GPUBuffer; // [numBlocks, 16, numKvHeads, headDim] kvType
  kvType?: KvType;
  numTokens: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  ropeDim: number;
  style: RopeStyle;
  /** Default numHeads * headDim + 2 * numKvHeads * headDim. */
  rowStride?: number;
  /** Multiplies cos and sin (YaRN); default 1. */
  magnitude?: number;
  /** Per-head RMSNorm of q and k before rotation (qwen3, gemma3): weights [headDim] f32. */
  norm?: { q: GPUBuffer; k: GPUBuffer; eps: number };
}

export function ropeKv(enc: KernelEncoder, a: RopeKvArgs): void {
  const qDim = a.numHeads * a.headDim;
  const kvDim = a.numKvHeads * a.headDim;
  const rowStride = a.rowStride ?? qDim + 2 * kvDim;
  const kvType = a.kvType ?? 'f32';
  if (!(a.headDim > 0) || a.ropeDim % 2 !== 0 || a.ropeDim > a.headDim || a.ropeDim <= 0) throw new KernelArgError('rope-kv', `ropeDim ${a.ropeDim} vs headDim ${a.headDim}`);
  if (!(a.numHeads > 0) || !(a.numKvHeads > 0)) throw new KernelArgError('rope-kv', `bad head counts ${a.numHeads}/${a.numKvHeads}`);
  if (qDim + 2 * kvDim > rowStride) throw new KernelArgError('rope-kv', 'q, k, v heads overrun the row');
  if (a.qkv.size < a.numTokens * rowStride * 4) throw new KernelArgError('rope-kv', 'qkv smaller than [numTokens, rowStride]');
  if (a.positions.size < a.numTokens * 4 || a.slotMapping.size < a.numTokens * 4) throw new KernelArgError('rope-kv', 'positions / slotMapping shorter than numTokens');
  if (a.turns.size < a.ropeDim * 4) throw new KernelArgError('rope-kv', 'frequency table shorter than ropeDim / 2 pairs');
  if (a.norm && (a.norm.q.size < a.headDim * 4 || a.norm.k.size < a.headDim * 4)) throw new KernelArgError('rope-kv', 'norm weights shorter than headDim');
  if (a.kPool === a.vPool) throw new KernelArgError('rope-kv', 'kPool and vPool must differ');
  if (kvType === 'f16' && !enc.ctx.features.f16) throw new KernelArgError('rope-kv', "kvType 'f16' needs the 'shader-f16' feature");
  const slotBytes = kvDim * kvBytesPerElement(kvType);
  if (a.kPool.size < slotBytes || a.vPool.size < slotBytes) throw new KernelArgError('rope-kv', 'pool smaller than one slot');
  if (a.numHeads + a.numKvHeads > MAX_WORKGROUPS_PER_DIM) throw new KernelArgError('rope-kv', 'too many heads');
  if (a.numTokens === 0) return;
  const wg = ropeWorkgroupSize(a.headDim);
  const hasNorm = a.norm !== undefined;
  const pipeline = enc.ctx.pipeline(`rope-kv/${kvType}/wg${wg}/norm${hasNorm ? 1 : 0}`, withKvType('rope-kv', CODE, kvType), {
    WG: wg, HAS_NORM: hasNorm ? 1 : 0,
  });
  const params = enc.uniforms.push('rope-kv', [
    a.numTokens, a.numHeads, a.numKvHeads, a.headDim, a.ropeDim, a.style === 'neox' ? 1 : 0, rowStride, f32Bits(a.norm?.eps ?? 0),
    f32Bits(a.magnitude ?? 1),
  ]);
  const ty = Math.min(a.numTokens, MAX_WORKGROUPS_PER_DIM);
  // Without a norm the turns table stands in for the (unread) weight bindings: all read-only.
  dispatch(enc, pipeline, [a.qkv, a.positions, a.turns, a.norm?.q ?? a.turns, a.norm?.k ?? a.turns, a.slotMapping, a.kPool, a.vPool, params],
    a.numHeads + a.numKvHeads, ty, Math.ceil(a.numTokens / MAX_WORKGROUPS_PER_DIM));
}
