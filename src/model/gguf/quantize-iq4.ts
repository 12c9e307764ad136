// IQ4_NL and IQ4_XS quantizers: each 32-value sub-block is d * KVALUES_IQ4NL[index] with 4-bit
// indices into ggml's fixed non-linear table. The fit follows the shape of ggml's
// `quantize_row_iq4_nl_impl` (x² weights, a small search over inverse scales for the best
// weighted least-squares scale), computed in float64, so the bytes are close to but not ggml's;
// consumers compare against the dequantized values of the same bytes.
// Layouts (quant.ts): IQ4_NL {d f16, qs u8[16]}; IQ4_XS {d f16, scales_h u16, scales_l u8[4], qs u8[128]}.
import { GGUFError } from './errors';
import { f16ToF32, f32ToF16, IQ4_NL_BLOCK_BYTES, IQ4_XS_BLOCK_BYTES, KVALUES_IQ4NL, QK4_0, QK_K } from './quant';
import { nearestInt } from './quantize-k';

const TRIES = 7;

function checkBlocks(values: Float32Array, blockSize: number, name: string): number {
  if (values.length % blockSize !== 0) throw new GGUFError('bad_shape', `${values.length} values is not a whole number of ${name} blocks (${blockSize})`);
  return values.length / blockSize;
}

/** Index of the table value nearest to `v` (ggml's best_index_int8: the lower one on a tie). */
function nearestIndex(v: number): number {
  const t = KVALUES_IQ4NL;
  if (v <= t[0]) return 0;
  if (v >= t[15]) return 15;
  let lo = 0;
  let hi = 15;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (v < t[mid]) hi = mid;
    else lo = mid;
  }
  return v - t[lo] <= t[hi] - v ? lo : hi;
}

/** The weighted least-squares scale of 32 values at `x` (0 for an all-zero run). */
function fitScale(values: Float32Array, x: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < 32; j++) {
    if (Math.abs(values[x + j]) > amax) {
      amax = Math.abs(values[x + j]);
      max = values[x + j];
    }
  }
  if (amax === 0) return 0;
  // sumqx / sumq2 over weights x² for one inverse scale; returns [sumqx, sumq2].
  const sums = (id: number): [number, number] => {
    let sumqx = 0;
    let sumq2 = 0;
    for (let j = 0; j < 32; j++) {
      const xj = values[x + j];
      const q = KVALUES_IQ4NL[nearestIndex(id * xj)];
      const w = xj * xj;
      sumqx += w * q * xj;
      sumq2 += w * q * q;
    }
    return [sumqx, sumq2];
  };
  let [sumqx, sumq2] = sums(KVALUES_IQ4NL[0] / max);
  let d = sumqx / sumq2;
  let best = d * sumqx;
  for (let t = -TRIES; t <= TRIES; t++) {
    [sumqx, sumq2] = sums((t + KVALUES_IQ4NL[0]) / max);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      d = sumqx / sumq2;
      best = d * sumqx;
    }
  }
  return d;
}

/** Writes the 16 bytes of nibbles of 32 values at `x` for scale `d`: element j low, j + 16 high. */
function packNibbles(out: Uint8Array, at: number, values: Float32Array, x: number, d: number): void {
  const id = d ? 1 / d : 0;
  for (let j = 0; j < 16; j++) out[at + j] = nearestIndex(id * values[x + j]) | (nearestIndex(id * values[x + j + 16]) << 4);
}

export function quantizeIQ4NL(values: Float32Array): Uint8Array {
  const numBlocks = checkBlocks(values, QK4_0, 'IQ4_NL');
  const out = new Uint8Array(numBlocks * IQ4_NL_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < numBlocks; b++) {
    const at = b * IQ4_NL_BLOCK_BYTES;
    const dHalf = f32ToF16(fitScale(values, 32 * b));
    view.setUint16(at, dHalf, true);
    packNibbles(out, at + 2, values, 32 * b, f16ToF32(dHalf));
  }
  return out;
}

// IQ4_XS: the eight sub-block scales become 6-bit levels ls - 32 of d = -(largest scale) / 32.
export function quantizeIQ4XS(values: Float32Array): Uint8Array {
  const numBlocks = checkBlocks(values, QK_K, 'IQ4_XS');
  const out = new Uint8Array(numBlocks * IQ4_XS_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const scales = new Float64Array(8);
  for (let b = 0; b < numBlocks; b++) {
    const at = b * IQ4_XS_BLOCK_BYTES;
    let maxScale = 0;
    for (let s = 0; s < 8; s++) {
      scales[s] = fitScale(values, QK_K * b + 32 * s);
      if (Math.abs(scales[s]) > Math.abs(maxScale)) maxScale = scales[s];
    }
    const dHalf = f32ToF16(-maxScale / 32);
    view.setUint16(at, dHalf, true);
    const d = f16ToF32(dHalf);
    let scalesH = 0;
    for (let s = 0; s < 8; s++) {
      const l = d ? Math.max(-32, Math.min(31, nearestInt(scales[s] / d))) : 0;
      const ls = l + 32;
      out[at + 4 + (s >> 1)] |= (ls & 0xf) << (4 * (s & 1));
      scalesH |= (ls >> 4) << (2 * s);
      packNibbles(out, at + 8 + 16 * s, values, QK_K * b + 32 * s, d * l);
    }
    view.setUint16(at + 2, scalesH, true);
  }
  return out;
}
