// CPU dequantization of GGUF tensor bytes, written from ggml's block structs and
// `dequantize_row_*`. Values are computed in float64 and stored: `dequantizeF64` keeps them
// exact (the oracle for GPU kernels and repacks), `dequantize` stores them as float32.
// Why the float32 result equals ggml's float32 arithmetic: in every format all products before
// the last operation are exact in float32 (f16 scale x 6- or 8-bit sub-scale x 4/5-bit level
// needs at most 22 significant bits; Q6_K's d*sc needs 19), so ggml rounds once, at the last
// operation, exactly as the float32 store does.
import { GGUFError } from './errors';
import { bf16ToF32, f16LookupTable, QK_K, typeName, typeTraits } from './quant';
import { scaleMinK4 } from './quantize-k';
import { GGMLType } from './types';

type Out = Float32Array | Float64Array;

function numBlocksOf(type: GGMLType, bytes: Uint8Array): number {
  const traits = typeTraits(type);
  if (!traits) throw new GGUFError('unknown_tensor_type', `unknown ggml type ${type}`);
  if (bytes.byteLength % traits.blockBytes !== 0) {
    throw new GGUFError('bad_tensor_data', `${bytes.byteLength} bytes is not a whole number of ${traits.name} blocks (${traits.blockBytes} B)`);
  }
  return bytes.byteLength / traits.blockBytes;
}

/** Number of values `bytes` of `type` hold. */
export function elementCount(type: GGMLType, bytes: Uint8Array): number {
  return numBlocksOf(type, bytes) * typeTraits(type)!.blockSize;
}

function decode(type: GGMLType, bytes: Uint8Array, y: Out): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const half = f16LookupTable();
  const f16 = (at: number): number => half[bytes[at] | (bytes[at + 1] << 8)];
  const numBlocks = numBlocksOf(type, bytes);
  switch (type) {
    case GGMLType.F32:
      for (let i = 0; i < numBlocks; i++) y[i] = view.getFloat32(4 * i, true);
      return;
    case GGMLType.F16:
      for (let i = 0; i < numBlocks; i++) y[i] = f16(2 * i);
      return;
    case GGMLType.BF16:
      for (let i = 0; i < numBlocks; i++) y[i] = bf16ToF32(view.getUint16(2 * i, true));
      return;
    case GGMLType.Q8_0: // {d f16, qs i8[32]}: y = q * d
      for (let b = 0; b < numBlocks; b++) {
        const at = 34 * b;
        const d = f16(at);
        for (let j = 0; j < 32; j++) y[32 * b + j] = ((bytes[at + 2 + j] << 24) >> 24) * d;
      }
      return;
    case GGMLType.Q4_0: // {d f16, qs u8[16]}: y[j] = (lo - 8) * d, y[j + 16] = (hi - 8) * d
      for (let b = 0; b < numBlocks; b++) {
        const at = 18 * b;
        const d = f16(at);
        for (let j = 0; j < 16; j++) {
          const q = bytes[at + 2 + j];
          y[32 * b + j] = ((q & 0xf) - 8) * d;
          y[32 * b + j + 16] = ((q >> 4) - 8) * d;
        }
      }
      return;
    case GGMLType.Q4_1: // {d f16, m f16, qs u8[16]}: y = q * d + m
      for (let b = 0; b < numBlocks; b++) {
        const at = 20 * b;
        const d = f16(at);
        const m = f16(at + 2);
        for (let j = 0; j < 16; j++) {
          const q = bytes[at + 4 + j];
          y[32 * b + j] = (q & 0xf) * d + m;
          y[32 * b + j + 16] = (q >> 4) * d + m;
        }
      }
      return;
    case GGMLType.Q4_K:
    case GGMLType.Q5_K:
      decodeQ45K(type, bytes, numBlocks, f16, y);
      return;
    case GGMLType.Q6_K:
      decodeQ6K(bytes, numBlocks, f16, y);
      return;
    default:
      throw new GGUFError('unsupported_tensor_type', `no CPU dequantization for ${typeName(type)}`);
  }
}

// {d f16, dmin f16, scales u8[12], (Q5_K: qh u8[32]), qs u8[128]}. Four chunks of 64 values;
// chunk c uses sub-blocks 2c (low nibbles) and 2c+1 (high nibbles): y = d*sc * q - dmin*m.
function decodeQ45K(type: GGMLType, bytes: Uint8Array, numBlocks: number, f16: (at: number) => number, y: Out): void {
  const isQ5 = type === GGMLType.Q5_K;
  const blockBytes = isQ5 ? 176 : 144;
  for (let b = 0; b < numBlocks; b++) {
    const at = blockBytes * b;
    const d = f16(at);
    const dmin = f16(at + 2);
    const qh = at + 16;
    const qs = at + (isQ5 ? 48 : 16);
    for (let c = 0; c < 4; c++) {
      const [sc1, m1] = scaleMinK4(2 * c, bytes, at + 4);
      const [sc2, m2] = scaleMinK4(2 * c + 1, bytes, at + 4);
      const d1 = d * sc1;
      const min1 = dmin * m1;
      const d2 = d * sc2;
      const min2 = dmin * m2;
      const base = QK_K * b + 64 * c;
      for (let l = 0; l < 32; l++) {
        const q = bytes[qs + 32 * c + l];
        let lo = q & 0xf;
        let hi = q >> 4;
        if (isQ5) {
          const h = bytes[qh + l];
          lo += (h >> (2 * c)) & 1 ? 16 : 0;
          hi += (h >> (2 * c + 1)) & 1 ? 16 : 0;
        }
        y[base + l] = d1 * lo - min1;
        y[base + 32 + l] = d2 * hi - min2;
      }
    }
  }
}

// {ql u8[128], qh u8[64], scales i8[16], d f16}: two halves of 128 values; value 128h+32k+l
// takes its low nibble from ql[64h + l + 32(k&1)] (high nibble when k >= 2), its top 2 bits from
// qh[32h + l] >> 2k, and scale index 8h + 2k + (l >> 4): y = d * sc * (q - 32).
function decodeQ6K(bytes: Uint8Array, numBlocks: number, f16: (at: number) => number, y: Out): void {
  const int8 = (at: number): number => (bytes[at] << 24) >> 24;
  for (let b = 0; b < numBlocks; b++) {
    const at = 210 * b;
    const d = f16(at + 208);
    for (let h = 0; h < 2; h++) {
      const ql = at + 64 * h;
      const qh = at + 128 + 32 * h;
      const sc = at + 192 + 8 * h;
      for (let l = 0; l < 32; l++) {
        const is = l >> 4;
        const high = bytes[qh + l];
        const q1 = ((bytes[ql + l] & 0xf) | ((high & 3) << 4)) - 32;
        const q2 = ((bytes[ql + l + 32] & 0xf) | (((high >> 2) & 3) << 4)) - 32;
        const q3 = ((bytes[ql + l] >> 4) | (((high >> 4) & 3) << 4)) - 32;
        const q4 = ((bytes[ql + l + 32] >> 4) | (((high >> 6) & 3) << 4)) - 32;
        const base = QK_K * b + 128 * h + l;
        y[base] = d * int8(sc + is) * q1;
        y[base + 32] = d * int8(sc + is + 2) * q2;
        y[base + 64] = d * int8(sc + is + 4) * q3;
        y[base + 96] = d * int8(sc + is + 6) * q4;
      }
    }
  }
}

/** Dequantizes tensor bytes of `type` to float32, matching ggml's CPU `dequantize_row_*`. */
export function dequantize(type: GGMLType, bytes: Uint8Array): Float32Array<ArrayBuffer> {
  const out = new Float32Array(elementCount(type, bytes));
  decode(type, bytes, out);
  return out;
}

/** Dequantizes exactly, in float64 (no rounding of the last operation to float32). */
export function dequantizeF64(type: GGMLType, bytes: Uint8Array): Float64Array<ArrayBuffer> {
  const out = new Float64Array(elementCount(type, bytes));
  decode(type, bytes, out);
  return out;
}

/** Types `dequantize` supports. */
export const DEQUANT_TYPES: readonly GGMLType[] = [
  GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K,
];
