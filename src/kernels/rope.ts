// RoPE (adjacent-pair and NeoX, partial ropeDim) in place, with optional fused per-head
// RMSNorm (qwen3 q/k norm) and a cos/sin magnitude (YaRN). Also builds the fixed-point
// frequency table the kernel reads; RoPE scaling is folded into that table on the CPU.
import common from './rope-common.wgsl?raw';
import body from './rope.wgsl?raw';
import type { GpuContext } from '../gpu/types';
import { dispatch, f32Bits, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';

const WG = 64;
const code = common + body;

/**
 * Per rotated pair i < ropeDim/2: freq_i = theta^(-2i/ropeDim) as a fraction of a turn,
 * freq_i / (2 pi), in 64-bit fixed point: [gLo, gHi] u32 with g = (gHi * 2^32 + gLo) / 2^64.
 * Computed in float64 (53 bits: turn error <= pos * 2^-53).
 */
export function ropeTurnTable(theta: number, ropeDim: number): Uint32Array<ArrayBuffer> {
  if (!(theta > 0) || !(ropeDim > 0) || ropeDim % 2 !== 0) throw new KernelArgError('rope', `bad theta ${theta} / ropeDim ${ropeDim}`);
  return ropeTurnTableFromFrequencies(Array.from({ length: ropeDim / 2 }, (_, i) => Math.pow(theta, (-2 * i) / ropeDim)));
}

/**
 * The same fixed-point table from any per-pair frequencies (radians per position), e.g.
 * with Llama 3 divisors or linear / YaRN scaling applied (model/rope-scaling.ts).
 */
export function ropeTurnTableFromFrequencies(radPerPos: ArrayLike<number>): Uint32Array<ArrayBuffer> {
  const out = new Uint32Array(radPerPos.length * 2); // [ropeDim / 2, 2] u32
  for (let i = 0; i < radPerPos.length; i++) {
    if (!(radPerPos[i] >= 0) || !Number.isFinite(radPerPos[i])) throw new KernelArgError('rope', `bad frequency ${radPerPos[i]} for pair ${i}`);
    const turnsPerPos = radPerPos[i] / (2 * Math.PI);
    const turns = turnsPerPos - Math.floor(turnsPerPos); // whole turns per position do not matter
    const g = BigInt(Math.floor(turns * 2 ** 64)) & ((1n << 64n) - 1n);
    out[2 * i] = Number(g & 0xffffffffn);
    out[2 * i + 1] = Number(g >> 32n);
  }
  return out;
}

export function createRopeTable(ctx: GpuContext, theta: number, ropeDim: number, label = 'rope-turns'): GPUBuffer {
  return ctx.upload(label, ropeTurnTable(theta, ropeDim));
}

/**
 * Threads per (token, head): a power of two near headDim / 2, so small heads do not leave
 * most of a 64-wide workgroup idle (costly on software adapters). It depends on the head
 * size alone, so a token's result (the q/k norm's reduction order) does not depend on the
 * batch, and rope-kv.ts, using the same size, computes the same bits.
 */
export function ropeWorkgroupSize(headDim: number): number {
  let wg = 4;
  while (wg < WG && wg < headDim / 2) wg *= 2;
  return wg;
}

export type RopeStyle = 'adjacent' | 'neox';

export interface RopeArgs {
  /** [numTokens, rowStride] f32, rotated in place at colOffset + h * headDim. */
  x: GPUBuffer;
  positions: GPUBuffer; // [numTokens] i32
  /** [ropeDim / 2, 2] u32 from createRopeTable(theta, ropeDim) or ropeTurnTableFromFrequencies. */
  turns: GPUBuffer;
  numTokens: number;
  numHeads: number;
  headDim: number;
  ropeDim: number;
  style: RopeStyle;
  /** Defaults: rowStride = numHeads * headDim, colOffset = 0. */
  rowStride?: number;
  colOffset?: number;
  /** Multiplies cos and sin (YaRN's mscale times rope.scaling.attn_factor); default 1. */
  magnitude?: number;
  /** Per-head RMSNorm before rotation (qwen3): weight [headDim] f32. */
  norm?: { weight: GPUBuffer; eps: number };
}

export function rope(enc: KernelEncoder, a: RopeArgs): void {
  const rowStride = a.rowStride ?? a.numHeads * a.headDim;
  const colOffset = a.colOffset ?? 0;
  if (a.ropeDim % 2 !== 0 || a.ropeDim > a.headDim || a.ropeDim <= 0) throw new KernelArgError('rope', `ropeDim ${a.ropeDim} vs headDim ${a.headDim}`);
  if (colOffset + a.numHeads * a.headDim > rowStride) throw new KernelArgError('rope', 'heads overrun the row');
  if (a.x.size < a.numTokens * rowStride * 4) throw new KernelArgError('rope', 'x smaller than [numTokens, rowStride]');
  if (a.turns.size < a.ropeDim * 4) throw new KernelArgError('rope', 'frequency table shorter than ropeDim / 2 pairs');
  if (a.positions.size < a.numTokens * 4) throw new KernelArgError('rope', 'positions shorter than numTokens');
  if (a.numHeads > MAX_WORKGROUPS_PER_DIM) throw new KernelArgError('rope', 'too many heads');
  if (a.numTokens === 0) return;
  const hasNorm = a.norm !== undefined;
  const wg = ropeWorkgroupSize(a.headDim);
  const pipeline = enc.ctx.pipeline(`rope/wg${wg}/norm${hasNorm ? 1 : 0}`, code, { WG: wg, HAS_NORM: hasNorm ? 1 : 0 });
  const params = enc.uniforms.push('rope', [
    a.numTokens, a.numHeads, a.headDim, a.ropeDim, a.style === 'neox' ? 1 : 0, rowStride, colOffset, f32Bits(a.norm?.eps ?? 0),
    f32Bits(a.magnitude ?? 1),
  ]);
  const ty = Math.min(a.numTokens, MAX_WORKGROUPS_PER_DIM);
  dispatch(enc, pipeline, [a.x, a.positions, a.turns, a.norm?.weight ?? a.turns, params], a.numHeads, ty, Math.ceil(a.numTokens / MAX_WORKGROUPS_PER_DIM));
}
