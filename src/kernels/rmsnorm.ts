// RMSNorm over rows [numRows, rowSize] (hidden states; also rows of headDim).
import code from './rmsnorm.wgsl?raw';
import { dispatch, f32Bits, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';

const WG = 64; // power of two (tree reduction)

export interface RmsNormArgs {
  x: GPUBuffer; // [numRows, rowSize] f32
  weight: GPUBuffer; // [rowSize] f32
  out: GPUBuffer; // [numRows, rowSize] f32, must not alias x
  numRows: number;
  rowSize: number;
  eps: number;
}

export function rmsNorm(enc: KernelEncoder, a: RmsNormArgs): void {
  if (a.x === a.out) throw new KernelArgError('rmsnorm', 'out must not alias x');
  if (!(a.rowSize > 0) || !(a.numRows >= 0)) throw new KernelArgError('rmsnorm', `bad shape [${a.numRows}, ${a.rowSize}]`);
  if (a.x.size < a.numRows * a.rowSize * 4 || a.out.size < a.numRows * a.rowSize * 4 || a.weight.size < a.rowSize * 4) {
    throw new KernelArgError('rmsnorm', 'buffer smaller than [numRows, rowSize]');
  }
  if (a.numRows === 0) return;
  const pipeline = enc.ctx.pipeline(`rmsnorm/wg${WG}`, code, { WG });
  const params = enc.uniforms.push('rmsnorm', [a.numRows, a.rowSize, f32Bits(a.eps)]);
  const gx = Math.min(a.numRows, MAX_WORKGROUPS_PER_DIM);
  dispatch(enc, pipeline, [a.x, a.weight, a.out, params], gx, Math.ceil(a.numRows / MAX_WORKGROUPS_PER_DIM));
}
