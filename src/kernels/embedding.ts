// Embedding gather for every weight type: out[T, dim] = dequant(W[tokenIds[t], :]).
// The table may be split by rows into parts (large vocabularies): one dispatch per
// part, each writing the tokens whose ids it holds. Out-of-range ids give zero rows
// (validate ids on the CPU before they reach the GPU; this only keeps output defined).
import type { GpuWeight } from '../gpu/types';
import { dispatch, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';
import body from './embedding.wgsl?raw';
import { typeName, withDequant } from './matmul-dequant';

const WG = 64;

export interface EmbeddingArgs {
  weight: GpuWeight; // [vocab, dim] repacked
  tokenIds: GPUBuffer; // [T] i32
  out: GPUBuffer; // [T, dim] f32
  numTokens: number; // T
}

export function embedding(enc: KernelEncoder, a: EmbeddingArgs): void {
  const T = a.numTokens;
  const dim = a.weight.cols;
  if (!Number.isInteger(T) || T < 0) throw new KernelArgError('embedding', `bad numTokens ${T}`);
  if (a.tokenIds.size < T * 4) throw new KernelArgError('embedding', `tokenIds holds ${a.tokenIds.size} B, needs [${T}] i32`);
  if (a.out.size < T * dim * 4) throw new KernelArgError('embedding', `out holds ${a.out.size} B, needs [${T}, ${dim}] f32`);
  if (T === 0) return;
  const runs = Math.ceil(dim / 8);
  const gx = Math.ceil(runs / WG);
  if (gx > MAX_WORKGROUPS_PER_DIM) throw new KernelArgError('embedding', `dim ${dim} too large`);
  const gy = Math.min(T, MAX_WORKGROUPS_PER_DIM);
  const gz = Math.ceil(T / MAX_WORKGROUPS_PER_DIM);
  const pipeline = enc.ctx.pipeline(`embedding/${typeName(a.weight.type)}`, withDequant(a.weight.type, 'embedding', body));
  a.weight.parts.forEach((part, i) => {
    const params = enc.uniforms.push('embedding', [T, dim, part.rowStart, part.rows, part.scaleOffsetWords, a.weight.rows, 0, i === 0 ? 1 : 0]);
    dispatch(enc, pipeline, [part.buffer, a.tokenIds, a.out, params], gx, gy, gz);
  });
}
