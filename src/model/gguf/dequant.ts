// CPU dequantization of GGUF tensor bytes, written from ggml's block structs and
// `dequantize_row_*`. Values are computed in float64 and stored: `dequantizeF64` keeps them
// exact (the oracle for GPU kernels and repacks), `dequantize` stores them as float32.
// Why the float32 result equals ggml's float32 arithmetic: in every format all products before
// the last operation are exact in float32 (f16 scale x 6- or 8-bit sub-scale x 4/5-bit level
// needs at most 22 significant bits; Q6_K's d*sc needs 19; IQ4_XS's d x (ls - 32) x kvalue
// needs 23), so ggml rounds once, at the last operation, exactly as the float32 store does.
import { GGUFError } from './errors';
import {
  bf16ToF32, f16LookupTable, IQ4_NL_BLOCK_BYTES, IQ4_XS_BLOCK_BYTES, KVALUES_IQ4NL, Q2_K_BLOCK_BYTES, Q3_K_BLOCK_BYTES,
  Q5_0_BLOCK_BYTES, Q5_1_BLOCK_BYTES, QK_K, typeName, typeTraits,
} from './quant';
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
    case GGMLType.Q5_0: // {d f16, qh u32, qs u8[16]}: y = ((nibble | hbit << 4) - 16) * d
    case GGMLType.Q5_1: // {d f16, m f16, qh u32, qs u8[16]}: y = (nibble | hbit << 4) * d + m
      decodeQ5(type, bytes, numBlocks, f16, y);
      return;
    case GGMLType.IQ4_NL: // {d f16, qs u8[16]}: y[j] = d * kvalues[lo], y[j + 16] = d * kvalues[hi]
      for (let b = 0; b < numBlocks; b++) {
        const at = IQ4_NL_BLOCK_BYTES * b;
        const d = f16(at);
        for (let j = 0; j < 16; j++) {
          const q = bytes[at + 2 + j];
          y[32 * b + j] = d * KVALUES_IQ4NL[q & 0xf];
          y[32 * b + j + 16] = d * KVALUES_IQ4NL[q >> 4];
        }
      }
      return;
    case GGMLType.Q2_K:
      decodeQ2K(bytes, numBlocks, f16, y);
      return;
    case GGMLType.Q3_K:
      decodeQ3K(bytes, numBlocks, f16, y);
      return;
    case GGMLType.IQ4_XS:
      decodeIQ4XS(bytes, numBlocks, f16, y);
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

function decodeQ5(type: GGMLType, bytes: Uint8Array, numBlocks: number, f16: (at: number) => number, y: Out): void {
  const hasMin = type === GGMLType.Q5_1;
  const blockBytes = hasMin ? Q5_1_BLOCK_BYTES : Q5_0_BLOCK_BYTES;
  const qhAt = hasMin ? 4 : 2;
  for (let b = 0; b < numBlocks; b++) {
    const at = blockBytes * b;
    const d = f16(at);
    const m = hasMin ? f16(at + 2) : 0;
    const qh = (bytes[at + qhAt] | (bytes[at + qhAt + 1] << 8) | (bytes[at + qhAt + 2] << 16) | (bytes[at + qhAt + 3] << 24)) >>> 0;
    for (let j = 0; j < 16; j++) {
      const q = bytes[at + qhAt + 4 + j];
      const x0 = (q & 0xf) | (((qh >>> j) & 1) << 4);
      const x1 = (q >> 4) | (((qh >>> (j + 16)) & 1) << 4);
      if (hasMin) {
        y[32 * b + j] = x0 * d + m;
        y[32 * b + j + 16] = x1 * d + m;
      } else {
        y[32 * b + j] = (x0 - 16) * d;
        y[32 * b + j + 16] = (x1 - 16) * d;
      }
    }
  }
}

// {scales u8[16], qs u8[64], d f16, dmin f16}. Two halves of 128 values; value 128h + 32k + l
// (k = 0..3) is bits 2k..2k+1 of qs[32h + l], sub-block 8h + 2k + (l >> 4):
// y = d * (sc & 15) * q - dmin * (sc >> 4).
function decodeQ2K(bytes: Uint8Array, numBlocks: number, f16: (at: number) => number, y: Out): void {
  for (let b = 0; b < numBlocks; b++) {
    const at = Q2_K_BLOCK_BYTES * b;
    const d = f16(at + 80);
    const dmin = f16(at + 82);
    for (let e = 0; e < QK_K; e++) {
      const h = e >> 7;
      const k = (e >> 5) & 3;
      const l = e & 31;
      const sc = bytes[at + 8 * h + 2 * k + (l >> 4)];
      const q = (bytes[at + 16 + 32 * h + l] >> (2 * k)) & 3;
      y[QK_K * b + e] = d * (sc & 0xf) * q - dmin * (sc >> 4);
    }
  }
}

/** Q3_K's 6-bit scale j (0..15) from the 12 scale bytes at `at`: low 4 bits in byte j % 8 (high nibble when j >= 8), high 2 bits in byte 8 + j % 4 at bit 2 * (j >> 2). */
export function scaleQ3K(j: number, bytes: Uint8Array, at: number): number {
  const low = j < 8 ? bytes[at + j] & 0xf : bytes[at + j - 8] >> 4;
  const high = (bytes[at + 8 + (j & 3)] >> (2 * (j >> 2))) & 3;
  return low | (high << 4);
}

// {hmask u8[32], qs u8[64], scales u8[12], d f16}. Value 128h + 32k + l: low 2 bits as in Q2_K,
// 3rd bit = bit 4h + k of hmask[l] (a clear bit subtracts 4), sub-block 8h + 2k + (l >> 4):
// y = d * (scale - 32) * (q - (hbit ? 0 : 4)).
function decodeQ3K(bytes: Uint8Array, numBlocks: number, f16: (at: number) => number, y: Out): void {
  for (let b = 0; b < numBlocks; b++) {
    const at = Q3_K_BLOCK_BYTES * b;
    const d = f16(at + 108);
    for (let e = 0; e < QK_K; e++) {
      const h = e >> 7;
      const k = (e >> 5) & 3;
      const l = e & 31;
      const dl = d * (scaleQ3K(8 * h + 2 * k + (l >> 4), bytes, at + 96) - 32);
      const low = (bytes[at + 32 + 32 * h + l] >> (2 * k)) & 3;
      const hbit = (bytes[at + l] >> (4 * h + k)) & 1;
      y[QK_K * b + e] = dl * (low - (hbit ? 0 : 4));
    }
  }
}

// {d f16, scales_h u16, scales_l u8[4], qs u8[128]}: eight sub-blocks of 32 laid out like an
// IQ4_NL block each (16 bytes of nibbles); ls = 4 low bits | 2 high bits << 4:
// y = d * (ls - 32) * kvalues[nibble].
function decodeIQ4XS(bytes: Uint8Array, numBlocks: number, f16: (at: number) => number, y: Out): void {
  for (let b = 0; b < numBlocks; b++) {
    const at = IQ4_XS_BLOCK_BYTES * b;
    const d = f16(at);
    const scalesH = bytes[at + 2] | (bytes[at + 3] << 8);
    for (let s = 0; s < 8; s++) {
      const ls = ((bytes[at + 4 + (s >> 1)] >> (4 * (s & 1))) & 0xf) | (((scalesH >> (2 * s)) & 3) << 4);
      const dl = d * (ls - 32);
      for (let j = 0; j < 16; j++) {
        const q = bytes[at + 8 + 16 * s + j];
        y[QK_K * b + 32 * s + j] = dl * KVALUES_IQ4NL[q & 0xf];
        y[QK_K * b + 32 * s + j + 16] = dl * KVALUES_IQ4NL[q >> 4];
      }
    }
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
  GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1,
  GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.IQ4_NL, GGMLType.IQ4_XS,
];
