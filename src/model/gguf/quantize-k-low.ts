// Q2_K and Q3_K quantizers: 256-value super-blocks of sixteen 16-value sub-blocks. These are
// plain min/max fits (round to nearest level with the stored, rounded scales), not ggml's
// `quantize_row_q{2,3}_K_ref` search, so the bytes differ from ggml's; every consumer compares
// against the dequantized values of the same bytes, so only the block layout must be ggml's.
// Layouts (quant.ts): Q2_K {scales u8[16], qs u8[64], d f16, dmin f16},
//                     Q3_K {hmask u8[32], qs u8[64], scales u8[12], d f16}.
import { GGUFError } from './errors';
import { f16ToF32, f32ToF16, Q2_K_BLOCK_BYTES, Q3_K_BLOCK_BYTES, QK_K } from './quant';
import { nearestInt } from './quantize-k';

function checkSuperBlocks(values: Float32Array): number {
  if (values.length % QK_K !== 0) throw new GGUFError('bad_shape', `${values.length} values is not a whole number of 256-value K-quant blocks`);
  return values.length / QK_K;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * Stores value 128h + 32k + l (k = 0..3) of a super-block at bits 2k..2k+1 of qs[32h + l],
 * the 2-bit packing Q2_K and Q3_K share (`levels` are 0..3).
 */
function pack2Bit(out: Uint8Array, qs: number, levels: Uint8Array): void {
  for (let h = 0; h < 2; h++) {
    for (let l = 0; l < 32; l++) {
      let byte = 0;
      for (let k = 0; k < 4; k++) byte |= (levels[128 * h + 32 * k + l] & 3) << (2 * k);
      out[qs + 32 * h + l] = byte;
    }
  }
}

// Q2_K: x ≈ d * sc * q - dmin * m with q in 0..3 and 4-bit sc, m per 16 values.
export function quantizeQ2K(values: Float32Array): Uint8Array {
  const numBlocks = checkSuperBlocks(values);
  const out = new Uint8Array(numBlocks * Q2_K_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const scales = new Float64Array(16);
  const mins = new Float64Array(16); // subtracted: x ≈ scale * q - min
  const levels = new Uint8Array(QK_K);
  for (let b = 0; b < numBlocks; b++) {
    const x = b * QK_K;
    const at = b * Q2_K_BLOCK_BYTES;
    let maxScale = 0;
    let maxMin = 0;
    for (let s = 0; s < 16; s++) {
      let lo = 0; // the range always holds 0, so the min stays a subtraction (m >= 0)
      let hi = 0;
      for (let i = 0; i < 16; i++) {
        lo = Math.min(lo, values[x + 16 * s + i]);
        hi = Math.max(hi, values[x + 16 * s + i]);
      }
      scales[s] = (hi - lo) / 3;
      mins[s] = -lo;
      maxScale = Math.max(maxScale, scales[s]);
      maxMin = Math.max(maxMin, mins[s]);
    }
    const dHalf = f32ToF16(maxScale / 15);
    const dminHalf = f32ToF16(maxMin / 15);
    view.setUint16(at + 80, dHalf, true);
    view.setUint16(at + 82, dminHalf, true);
    const d = f16ToF32(dHalf);
    const dmin = f16ToF32(dminHalf);
    for (let s = 0; s < 16; s++) {
      const sc = d ? clamp(nearestInt(scales[s] / d), 0, 15) : 0;
      const m = dmin ? clamp(nearestInt(mins[s] / dmin), 0, 15) : 0;
      out[at + s] = sc | (m << 4);
      // Levels from the stored (rounded) scale and min, as dequantization will see them.
      const dl = d * sc;
      const ml = dmin * m;
      for (let i = 0; i < 16; i++) levels[16 * s + i] = dl ? clamp(nearestInt((values[x + 16 * s + i] + ml) / dl), 0, 3) : 0;
    }
    pack2Bit(out, at + 16, levels);
  }
  return out;
}

// Q3_K: x ≈ d * (sc - 32) * q with q in -4..3 and a 6-bit signed sub-scale per 16 values.
// A sub-block's scale is (its value of largest magnitude) / -4, so that value lands on -4.
export function quantizeQ3K(values: Float32Array): Uint8Array {
  const numBlocks = checkSuperBlocks(values);
  const out = new Uint8Array(numBlocks * Q3_K_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const scales = new Float64Array(16);
  const levels = new Uint8Array(QK_K); // q + 4: 0..7
  for (let b = 0; b < numBlocks; b++) {
    const x = b * QK_K;
    const at = b * Q3_K_BLOCK_BYTES;
    let maxScale = 0;
    for (let s = 0; s < 16; s++) {
      let max = 0;
      for (let i = 0; i < 16; i++) {
        const v = values[x + 16 * s + i];
        if (Math.abs(v) > Math.abs(max)) max = v;
      }
      scales[s] = max / -4;
      if (Math.abs(scales[s]) > Math.abs(maxScale)) maxScale = scales[s];
    }
    // The largest sub-scale maps to -32, the 6-bit level of largest magnitude.
    const dHalf = f32ToF16(maxScale / -32);
    view.setUint16(at + 108, dHalf, true);
    const d = f16ToF32(dHalf);
    for (let s = 0; s < 16; s++) {
      const sc = d ? clamp(nearestInt(scales[s] / d), -32, 31) : 0;
      const stored = sc + 32;
      // low 4 bits in byte s % 8 (high nibble for s >= 8), high 2 bits in byte 8 + s % 4 at bit 2 * (s >> 2)
      out[at + 96 + (s & 7)] |= (stored & 0xf) << (s < 8 ? 0 : 4);
      out[at + 96 + 8 + (s & 3)] |= (stored >> 4) << (2 * (s >> 2));
      const dl = d * sc;
      for (let i = 0; i < 16; i++) levels[16 * s + i] = (dl ? clamp(nearestInt(values[x + 16 * s + i] / dl), -4, 3) : 0) + 4;
    }
    // The 3rd bit of value 128h + 32k + l is bit 4h + k of hmask[l]; a set bit means q >= 0.
    for (let e = 0; e < QK_K; e++) {
      if (levels[e] & 4) out[at + (e & 31)] |= 1 << (4 * (e >> 7) + ((e >> 5) & 3));
    }
    pack2Bit(out, at + 32, levels);
  }
  return out;
}
