// RMSNorm over rows [numRows, rowSize] (hidden states; also rows of headDim).
import code from './rmsnorm.wgsl?raw';
import { dispatch, f32Bits, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';

/** Threads per row of the 'workgroup' variant: a power of two (tree reduction); add-rmsnorm.ts sums with the same tree. */
export const RMSNORM_WG = 64;
const WG = RMSNORM_WG;

export type RmsNormVariant = 'workgroup' | 'thread';

export interface RmsNormArgs {
  x: GPUBuffer; // [numRows, rowSize] f32
  weight: GPUBuffer; // [rowSize] f32
  out: GPUBuffer; // [numRows, rowSize] f32, must not alias x
  numRows: number;
  rowSize: number;
  eps: number;
  /** 'workgroup' (a workgroup per row) or 'thread' (an invocation per row). Default: 'thread' on software adapters. */
  variant?: RmsNormVariant;
}

export function rmsNorm(enc: KernelEncoder, a: RmsNormArgs): void {
  if (a.x === a.out) throw new KernelArgError('rmsnorm', 'out must not alias x');
  if (!(a.rowSize > 0) || !(a.numRows >= 0)) throw new KernelArgError('rmsnorm', `bad shape [${a.numRows}, ${a.rowSize}]`);
  if (a.x.size < a.numRows * a.rowSize * 4 || a.out.size < a.numRows * a.rowSize * 4 || a.weight.size < a.rowSize * 4) {
    throw new KernelArgError('rmsnorm', 'buffer smaller than [numRows, rowSize]');
  }
  if (a.numRows === 0) return;
  const variant = a.variant ?? (enc.ctx.software ? 'thread' : 'workgroup');
  const params = enc.uniforms.push('rmsnorm', [a.numRows, a.rowSize, f32Bits(a.eps)]);
  if (variant === 'thread') {
    const pipeline = enc.ctx.pipeline(`rmsnorm-thread/wg${WG}`, code, { WG }, 'perThread');
    const groups = Math.ceil(a.numRows / WG);
    const gx = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
    dispatch(enc, pipeline, [a.x, a.weight, a.out, params], gx, Math.ceil(groups / gx));
    return;
  }
  const pipeline = enc.ctx.pipeline(`rmsnorm/wg${WG}`, code, { WG });
  const gx = Math.min(a.numRows, MAX_WORKGROUPS_PER_DIM);
  dispatch(enc, pipeline, [a.x, a.weight, a.out, params], gx, Math.ceil(a.numRows / MAX_WORKGROUPS_PER_DIM));
}
