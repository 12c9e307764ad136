// Paged causal attention over the flattened batch (GQA, head dims up to 256).
import code from './attention.wgsl?raw';
import { dispatch, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';
import { withKvType, type KvType } from './kv-type';

const WG = 64;
export const ATTENTION_MAX_HEAD_DIM = 256;

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
  if (a.numTokens === 0) return;
  const scale = a.scale ?? 1 / Math.sqrt(a.headDim);
  const pipeline = enc.ctx.pipeline(`attention/${kvType}/wg${WG}`, withKvType('attention', code, kvType), { WG });
  const f32 = new Float32Array([scale]);
  const params = enc.uniforms.push('attention', [
    a.numTokens, a.numHeads, a.numKvHeads, a.headDim, qRowStride, qColOffset, a.numHeads * a.headDim, new Uint32Array(f32.buffer)[0],
  ]);
  const ty = Math.min(a.numTokens, MAX_WORKGROUPS_PER_DIM);
  dispatch(enc, pipeline, [a.q, a.kPool, a.vPool, a.tokenMeta, a.blockTables, a.out, params], a.numHeads, ty, Math.ceil(a.numTokens / MAX_WORKGROUPS_PER_DIM));
}
