// LayerNorm (weight and bias) over rows [numRows, rowSize]: the encoders' (bert, nomic-bert) norm.
import code from './layernorm.wgsl?raw';
import { dispatch, f32Bits, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';

const WG = 64; // power of two (tree reduction)

export interface LayerNormArgs {
  x: GPUBuffer; // [numRows, rowSize] f32
  weight: GPUBuffer; // [rowSize] f32
  bias: GPUBuffer; // [rowSize] f32
  out: GPUBuffer; // [numRows, rowSize] f32, must not alias x
  numRows: number;
  rowSize: number;
  eps: number;
  /** 'workgroup' (a workgroup per row) or 'thread' (an invocation per row). Default: 'thread' on software adapters. */
  variant?: 'workgroup' | 'thread';
}

export function layerNorm(enc: KernelEncoder, a: LayerNormArgs): void {
  if (a.x === a.out) throw new KernelArgError('layernorm', 'out must not alias x');
  if (!(a.rowSize > 0) || !(a.numRows >= 0)) throw new KernelArgError('layernorm', `bad shape [${a.numRows}, ${a.rowSize}]`);
  if (a.x.size < a.numRows * a.rowSize * 4 || a.out.size < a.numRows * a.rowSize * 4 || a.weight.size < a.rowSize * 4 || a.bias.size < a.rowSize * 4) {
    throw new KernelArgError('layernorm', 'buffer smaller than [numRows, rowSize]');
  }
  if (!(a.eps >= 0)) throw new KernelArgError('layernorm', `eps ${a.eps} must be a non-negative number`);
  if (a.numRows === 0) return;
  const variant = a.variant ?? (enc.ctx.software ? 'thread' : 'workgroup');
  const params = enc.uniforms.push('layernorm', [a.numRows, a.rowSize, f32Bits(a.eps)]);
  const bindings = [a.x, a.weight, a.bias, a.out, params];
  if (variant === 'thread') {
    const pipeline = enc.ctx.pipeline(`layernorm-thread/wg${WG}`, code, { WG }, 'perThread');
    const groups = Math.ceil(a.numRows / WG);
    const gx = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
    dispatch(enc, pipeline, bindings, gx, Math.ceil(groups / gx));
    return;
  }
  const pipeline = enc.ctx.pipeline(`layernorm/wg${WG}`, code, { WG });
  const gx = Math.min(a.numRows, MAX_WORKGROUPS_PER_DIM);
  dispatch(enc, pipeline, bindings, gx, Math.ceil(a.numRows / MAX_WORKGROUPS_PER_DIM));
}
