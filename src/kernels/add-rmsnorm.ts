// Residual add fused with the RMSNorm that follows it (and gemma's post-norm before it):
// x += y (or y / rms(y) · postWeight); out = x / rms(x) · weight. One dispatch where the
// unfused graph had two or three; add-rmsnorm.wgsl sums in rmsnorm.wgsl's order.
import code from './add-rmsnorm.wgsl?raw';
import { dispatch, f32Bits, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';
import { RMSNORM_WG, type RmsNormVariant } from './rmsnorm';

export interface AddRmsNormArgs {
  x: GPUBuffer; // [numRows, rowSize] f32, the residual stream, updated in place
  y: GPUBuffer; // [numRows, rowSize] f32, added to x
  /** gemma2/3: y is RMS-normalized with this weight [rowSize] f32 before the add. */
  postWeight?: GPUBuffer;
  weight: GPUBuffer; // [rowSize] f32, of the norm of the updated x
  out: GPUBuffer; // [numRows, rowSize] f32, must not alias x or y
  numRows: number;
  rowSize: number;
  eps: number;
  /** Default: 'thread' on software adapters, as rmsNorm. */
  variant?: RmsNormVariant;
}

export function addRmsNorm(enc: KernelEncoder, a: AddRmsNormArgs): void {
  const { numRows, rowSize } = a;
  if (!(rowSize > 0) || !(numRows >= 0)) throw new KernelArgError('add-rmsnorm', `bad shape [${numRows}, ${rowSize}]`);
  if (a.x === a.y || a.out === a.x || a.out === a.y) throw new KernelArgError('add-rmsnorm', 'x, y and out must be distinct');
  const rowBytes = numRows * rowSize * 4;
  if (a.x.size < rowBytes || a.y.size < rowBytes || a.out.size < rowBytes) throw new KernelArgError('add-rmsnorm', 'buffer smaller than [numRows, rowSize]');
  if (a.weight.size < rowSize * 4 || (a.postWeight && a.postWeight.size < rowSize * 4)) throw new KernelArgError('add-rmsnorm', 'weight shorter than rowSize');
  if (numRows === 0) return;
  const variant = a.variant ?? (enc.ctx.software ? 'thread' : 'workgroup');
  const hasPost = a.postWeight !== undefined;
  const key = `add-rmsnorm${variant === 'thread' ? '-thread' : ''}/wg${RMSNORM_WG}/post${hasPost ? 1 : 0}`;
  const pipeline = enc.ctx.pipeline(key, code, { WG: RMSNORM_WG, HAS_POST: hasPost ? 1 : 0 }, variant === 'thread' ? 'perThread' : 'main');
  // The last word is add-rmsnorm.wgsl's `zero` (see rounded() there).
  const params = enc.uniforms.push('add-rmsnorm', [numRows, rowSize, f32Bits(a.eps), 0]);
  // Without a post-norm, y stands in for the (unread) postWeight binding: both are read-only.
  const bindings = [a.x, a.y, a.postWeight ?? a.y, a.weight, a.out, params];
  const groups = variant === 'thread' ? Math.ceil(numRows / RMSNORM_WG) : numRows;
  const gx = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
  dispatch(enc, pipeline, bindings, gx, Math.ceil(groups / gx));
}
