// Residual add, SiLU/GELU(gate) x up (incl. phi3's fused gate/up row; in place over a fused
// row for the software set's FFN), row gather,
// in-place scale, soft-cap and GELU, and a row broadcast add.
import activation from './activation.wgsl?raw';
import body from './elementwise.wgsl?raw';
import { dispatch, f32Bits, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';

const WG = 256;
const code = activation + body;

function grid(total: number): [number, number] {
  const groups = Math.max(1, Math.ceil(total / WG));
  const x = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
  return [x, Math.min(Math.ceil(groups / x), MAX_WORKGROUPS_PER_DIM)];
}

/** x += y over the first n elements (residual connection). */
export function addInPlace(enc: KernelEncoder, a: { x: GPUBuffer; y: GPUBuffer; n: number }): void {
  if (a.x === a.y) throw new KernelArgError('add', 'y must not alias x');
  if (a.x.size < a.n * 4 || a.y.size < a.n * 4) throw new KernelArgError('add', `buffers shorter than ${a.n} f32`);
  if (a.n === 0) return;
  const pipeline = enc.ctx.pipeline(`add_inplace/wg${WG}`, code, { WG }, 'add_inplace');
  const params = enc.uniforms.push('add', [a.n, 1, 0, 0, 0, 0, 0, 0]);
  dispatch(enc, pipeline, [a.x, a.y, params], ...grid(a.n));
}

export interface SiluMulArgs {
  gate: GPUBuffer; // [numRows, gateStride] f32, gate at gateOffset
  up: GPUBuffer; // [numRows, upStride] f32, up at upOffset (may be the gate buffer)
  out: GPUBuffer; // [numRows, n] f32
  numRows: number;
  n: number;
  gateStride?: number;
  gateOffset?: number;
  upStride?: number;
  upOffset?: number;
  /** Activation of gate: 'silu' (default) or 'gelu' (tanh approximation, as ggml_gelu). */
  act?: 'silu' | 'gelu';
}

/** out = act(gate) * up, per row. */
export function siluMul(enc: KernelEncoder, a: SiluMulArgs): void {
  const gs = a.gateStride ?? a.n, go = a.gateOffset ?? 0, us = a.upStride ?? a.n, uo = a.upOffset ?? 0;
  if (go + a.n > gs || uo + a.n > us) throw new KernelArgError('silu_mul', 'slice overruns the row');
  if (a.gate.size < a.numRows * gs * 4 || a.up.size < a.numRows * us * 4 || a.out.size < a.numRows * a.n * 4) {
    throw new KernelArgError('silu_mul', 'buffer smaller than its [numRows, stride]');
  }
  if (a.out === a.gate || a.out === a.up) throw new KernelArgError('silu_mul', 'out must not alias the inputs');
  if (a.numRows * a.n === 0) return;
  const pipeline = enc.ctx.pipeline(`silu_mul/wg${WG}`, code, { WG }, 'silu_mul');
  const params = enc.uniforms.push('silu_mul', [a.n, a.numRows, gs, go, us, uo, a.act === 'gelu' ? 1 : 0, 0]);
  dispatch(enc, pipeline, [a.gate, a.up, a.out, params], ...grid(a.numRows * a.n));
}

/**
 * gateUp[t, i] = act(gateUp[t, i]) * gateUp[t, n + i] for i < n: siluMul's expression (the
 * same bits) written over the gate half of fused gate|up rows [numRows, 2n] f32. The
 * software set's FFN then feeds the down matmul the first n columns of each row (matmul's
 * xStride 2n), with no [numRows, n] buffer: 9.5 MiB of host memory for the Qwen2.5-0.5B
 * shape's 512-token steps, 16 MiB for Llama-3.2-1B's (#18).
 */
export function gluInPlace(enc: KernelEncoder, a: { gateUp: GPUBuffer; numRows: number; n: number; act?: 'silu' | 'gelu' }): void {
  if (a.gateUp.size < a.numRows * 2 * a.n * 4) throw new KernelArgError('glu_inplace', `gateUp holds ${a.gateUp.size} B, needs [${a.numRows}, ${2 * a.n}] f32`);
  if (a.numRows * a.n === 0) return;
  const pipeline = enc.ctx.pipeline(`glu_inplace/wg${WG}`, code, { WG }, 'glu_inplace');
  const params = enc.uniforms.push('glu_inplace', [a.n, a.numRows, 2 * a.n, 0, 0, a.n, a.act === 'gelu' ? 1 : 0, 0]);
  dispatch(enc, pipeline, [a.gateUp, params], ...grid(a.numRows * a.n));
}

/** out[r, :] = x[rowIds[r], :] for r < numRows; rowIds [numRows] u32. */
export function gatherRows(enc: KernelEncoder, a: { x: GPUBuffer; rowIds: GPUBuffer; out: GPUBuffer; numRows: number; rowLen: number }): void {
  if (a.out === a.x) throw new KernelArgError('gather_rows', 'out must not alias x');
  if (a.out.size < a.numRows * a.rowLen * 4 || a.rowIds.size < a.numRows * 4) throw new KernelArgError('gather_rows', 'buffer too small');
  if (a.numRows * a.rowLen === 0) return;
  const pipeline = enc.ctx.pipeline(`gather_rows/wg${WG}`, code, { WG }, 'gather_rows');
  const params = enc.uniforms.push('gather_rows', [a.rowLen, a.numRows, 0, 0, 0, 0, 0, 0]);
  dispatch(enc, pipeline, [a.x, a.rowIds, a.out, params], ...grid(a.numRows * a.rowLen));
}

/** x *= scale over the first n elements (gemma's embedding scale). */
export function scaleInPlace(enc: KernelEncoder, a: { x: GPUBuffer; n: number; scale: number }): void {
  mapInPlace(enc, a.x, a.n, 0, a.scale, 'scale');
}

/** x = cap · tanh(x / cap) over the first n elements (logit soft-capping). */
export function softcapInPlace(enc: KernelEncoder, a: { x: GPUBuffer; n: number; cap: number }): void {
  if (!(a.cap > 0 && Number.isFinite(a.cap))) throw new KernelArgError('softcap', `cap ${a.cap} must be a positive number`);
  mapInPlace(enc, a.x, a.n, 1, a.cap, 'softcap');
}

/** x = gelu_tanh(x) over the first n elements (bert's FFN activation, ggml_gelu's formula). */
export function geluInPlace(enc: KernelEncoder, a: { x: GPUBuffer; n: number }): void {
  mapInPlace(enc, a.x, a.n, 2, 0, 'gelu');
}

/** x[t, :] += row for t < numRows; row [n] f32 (one bias row added to every token). */
export function addRowInPlace(enc: KernelEncoder, a: { x: GPUBuffer; row: GPUBuffer; numRows: number; n: number }): void {
  if (a.x === a.row) throw new KernelArgError('add_row', 'row must not alias x');
  if (a.x.size < a.numRows * a.n * 4 || a.row.size < a.n * 4) throw new KernelArgError('add_row', `buffers shorter than [${a.numRows}, ${a.n}] f32`);
  if (a.numRows * a.n === 0) return;
  const pipeline = enc.ctx.pipeline(`add_row/wg${WG}`, code, { WG }, 'add_row');
  const params = enc.uniforms.push('add_row', [a.n, a.numRows, 0, 0, 0, 0, 0, 0]);
  dispatch(enc, pipeline, [a.x, a.row, params], ...grid(a.numRows * a.n));
}

function mapInPlace(enc: KernelEncoder, x: GPUBuffer, n: number, op: number, s: number, kernel: string): void {
  if (x.size < n * 4) throw new KernelArgError(kernel, `buffer shorter than ${n} f32`);
  if (n === 0) return;
  const pipeline = enc.ctx.pipeline(`map_inplace/wg${WG}`, code, { WG }, 'map_inplace');
  const params = enc.uniforms.push(kernel, [n, 1, 0, 0, 0, 0, op, f32Bits(s)]);
  dispatch(enc, pipeline, [x, params], ...grid(n));
}
