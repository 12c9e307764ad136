// Greedy sampling on the GPU: one id per logits row (engineer R's stand-in for temperature 0
// until src/kernels/sample.ts is wired into the runner).
import code from './runner-argmax.wgsl?raw';
import { dispatch, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';

const WG = 256;

export interface ArgmaxArgs {
  logits: GPUBuffer; // [numRows, vocabSize] f32
  ids: GPUBuffer; // [numRows] u32
  numRows: number;
  vocabSize: number;
}

export function argmaxRows(enc: KernelEncoder, a: ArgmaxArgs): void {
  if (!Number.isInteger(a.numRows) || a.numRows < 0 || a.numRows > MAX_WORKGROUPS_PER_DIM) throw new KernelArgError('argmax', `bad numRows ${a.numRows}`);
  if (!(a.vocabSize > 0)) throw new KernelArgError('argmax', `bad vocabSize ${a.vocabSize}`);
  if (a.logits.size < a.numRows * a.vocabSize * 4) throw new KernelArgError('argmax', 'logits smaller than [numRows, vocabSize]');
  if (a.ids.size < a.numRows * 4) throw new KernelArgError('argmax', 'ids shorter than numRows');
  if (a.numRows === 0) return;
  const pipeline = enc.ctx.pipeline(`runner-argmax/wg${WG}`, code, { WG });
  const params = enc.uniforms.push('argmax', [a.numRows, a.vocabSize]);
  dispatch(enc, pipeline, [a.logits, a.ids, params], a.numRows);
}
