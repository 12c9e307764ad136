// KV write: scatter new tokens' K/V into the paged pool through a per-token slot mapping.
import code from './kv-write.wgsl?raw';
import { dispatch, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';
import { kvBytesPerElement, withKvType, type KvType } from './kv-type';

const WG = 64;

export interface KvWriteArgs {
  k: GPUBuffer; // [numTokens, kRowStride] f32
  v: GPUBuffer; // [numTokens, vRowStride] f32 (may be the same buffer as k: fused qkv)
  /** [numTokens] i32: blockTable[pos >> 4] * 16 + (pos & 15). */
  slotMapping: GPUBuffer;
  kPool: GPUBuffer; // [numBlocks, 16, nKvHeads, headDim] kvType
  vPool: GPUBuffer; // [numBlocks, 16, nKvHeads, headDim] kvType
  /** Pool element type; 'f16' needs a device with 'shader-f16'. Default 'f32'. */
  kvType?: KvType;
  numTokens: number;
  /** nKvHeads * headDim */
  kvDim: number;
  kRowStride?: number;
  kColOffset?: number;
  vRowStride?: number;
  vColOffset?: number;
}

export function kvWrite(enc: KernelEncoder, a: KvWriteArgs): void {
  const kRowStride = a.kRowStride ?? a.kvDim, vRowStride = a.vRowStride ?? a.kvDim;
  const kColOffset = a.kColOffset ?? 0, vColOffset = a.vColOffset ?? 0;
  if (kColOffset + a.kvDim > kRowStride || vColOffset + a.kvDim > vRowStride) throw new KernelArgError('kv-write', 'kv heads overrun the row');
  if (a.k.size < a.numTokens * kRowStride * 4 || a.v.size < a.numTokens * vRowStride * 4) throw new KernelArgError('kv-write', 'k/v smaller than [numTokens, rowStride]');
  if (a.slotMapping.size < a.numTokens * 4) throw new KernelArgError('kv-write', 'slotMapping shorter than numTokens');
  if (a.kPool === a.vPool) throw new KernelArgError('kv-write', 'kPool and vPool must differ');
  const kvType = a.kvType ?? 'f32';
  if (kvType === 'f16' && !enc.ctx.features.f16) throw new KernelArgError('kv-write', "kvType 'f16' needs the 'shader-f16' feature");
  const slotBytes = a.kvDim * kvBytesPerElement(kvType);
  if (a.kPool.size < slotBytes || a.vPool.size < slotBytes) throw new KernelArgError('kv-write', 'pool smaller than one slot');
  if (a.numTokens === 0) return;
  const pipeline = enc.ctx.pipeline(`kv-write/${kvType}/wg${WG}`, withKvType('kv-write', code, kvType), { WG });
  const params = enc.uniforms.push('kv-write', [a.numTokens, a.kvDim, kRowStride, kColOffset, vRowStride, vColOffset]);
  const groups = Math.ceil((a.numTokens * a.kvDim) / WG);
  const gx = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
  dispatch(enc, pipeline, [a.k, a.v, a.slotMapping, a.kPool, a.vPool, params], gx, Math.min(Math.ceil(groups / gx), MAX_WORKGROUPS_PER_DIM));
}
