// Pooling rows of an embedding batch into one vector per sequence (pool.wgsl): mean, cls
// (first row) or last row. The host side turns a pooling type into (first row, count) pairs.
import code from './pool.wgsl?raw';
import { dispatch, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';

const WG = 64;

export type PoolingKind = 'mean' | 'cls' | 'last';

/** [numSeqs, 2] u32 (first row, row count) of each sequence for `pooling`, from the sequences' lengths. */
export function poolingRows(lengths: readonly number[], pooling: PoolingKind): Uint32Array<ArrayBuffer> {
  const out = new Uint32Array(2 * lengths.length);
  let first = 0;
  lengths.forEach((n, s) => {
    if (!(Number.isInteger(n) && n > 0)) throw new KernelArgError('pool', `sequence ${s} has ${n} rows`);
    out[2 * s] = pooling === 'last' ? first + n - 1 : first;
    out[2 * s + 1] = pooling === 'mean' ? n : 1;
    first += n;
  });
  return out;
}

export interface PoolArgs {
  x: GPUBuffer; // [T, dim] f32
  seqRows: GPUBuffer; // [numSeqs, 2] u32 from poolingRows
  out: GPUBuffer; // [numSeqs, dim] f32
  numSeqs: number;
  dim: number;
}

export function poolRows(enc: KernelEncoder, a: PoolArgs): void {
  if (a.out === a.x) throw new KernelArgError('pool', 'out must not alias x');
  if (a.seqRows.size < a.numSeqs * 8 || a.out.size < a.numSeqs * a.dim * 4) throw new KernelArgError('pool', 'buffer smaller than [numSeqs, ·]');
  if (a.numSeqs * a.dim === 0) return;
  const pipeline = enc.ctx.pipeline(`pool/wg${WG}`, code, { WG });
  const params = enc.uniforms.push('pool', [a.numSeqs, a.dim]);
  const groups = Math.ceil((a.numSeqs * a.dim) / WG);
  const gx = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
  dispatch(enc, pipeline, [a.x, a.seqRows, a.out, params], gx, Math.ceil(groups / gx));
}
