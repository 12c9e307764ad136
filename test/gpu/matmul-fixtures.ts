// Test data for the weight/matmul/embedding GPU tests: random GGUF tensors of every
// supported type (random quant bytes — every bit pattern is a valid block — with
// f16 scales drawn from a chosen exponent range). The oracle is the shared float64
// CPU dequantizer (src/model/gguf/dequant.ts); `dequantLocal` is a second, independent
// one written here from ggml's block definitions, and tests check the two agree.
import { dequantizeF64 } from '../../src/model/gguf/dequant';
import { findNonFinite } from '../../src/model/gguf/finite';
import { GGMLType } from '../../src/model/gguf/types';
import { ggufRowBytes, quantLayout } from '../../src/gpu/repack';
import { rng } from '../helpers/rng';
export { rng };


export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A random finite f16 bit pattern with unbiased exponent in [expLo, expHi] (clamped to normal halves, -14..15). */
export function randomF16Bits(r: () => number, expLo: number, expHi: number, signed = true): number {
  const e = Math.min(15, Math.max(-14, expLo + Math.floor(r() * (expHi - expLo + 1)))) + 15;
  const m = Math.floor(r() * 1024);
  const s = signed && r() < 0.5 ? 0x8000 : 0;
  return s | (e << 10) | m;
}

export interface TensorGenOptions {
  /** Exponent range of f16 scales (and of F16/F32 values). Default [-8, -4]. */
  scaleExp?: [number, number];
}

/** Random GGUF bytes for a [rows, cols] tensor of `type`. */
export function randomTensorBytes(type: GGMLType, rows: number, cols: number, seed: number, opts: TensorGenOptions = {}): Uint8Array {
  const r = rng(seed);
  const [lo, hi] = opts.scaleExp ?? [-8, -4];
  const bytes = new Uint8Array(rows * ggufRowBytes(type, cols));
  const dv = new DataView(bytes.buffer);
  if (type === GGMLType.F32) {
    for (let i = 0; i < rows * cols; i++) dv.setFloat32(i * 4, (r() * 2 - 1) * 2 ** (lo + r() * (hi - lo) + 4), true);
    return bytes;
  }
  if (type === GGMLType.F16) {
    for (let i = 0; i < rows * cols; i++) dv.setUint16(i * 2, randomF16Bits(r, lo + 4, hi + 4), true);
    return bytes;
  }
  if (type === GGMLType.BF16) {
    // a random 7-bit mantissa, exponent in range: the top half of an f32
    for (let i = 0; i < rows * cols; i++) {
      const e = lo + 4 + Math.floor(r() * (hi - lo + 1)) + 127;
      dv.setUint16(i * 2, (r() < 0.5 ? 0x8000 : 0) | (e << 7) | Math.floor(r() * 128), true);
    }
    return bytes;
  }
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(r() * 256);
  const l = quantLayout(type);
  const numBlocks = bytes.length / l.blockBytes;
  for (let b = 0; b < numBlocks; b++) {
    const o = b * l.blockBytes;
    if (type === GGMLType.Q8_0 || type === GGMLType.Q4_0) dv.setUint16(o, randomF16Bits(r, lo, hi), true);
    else if (type === GGMLType.Q4_K || type === GGMLType.Q5_K) {
      // d, dmin are positive in real files; scales (6-bit) multiply them
      dv.setUint16(o, randomF16Bits(r, lo - 2, hi - 2, false), true);
      dv.setUint16(o + 2, randomF16Bits(r, lo - 2, hi - 2, false), true);
    } else if (type === GGMLType.Q6_K) dv.setUint16(o + 208, randomF16Bits(r, lo - 3, hi - 3), true);
    else if (type === GGMLType.Q5_0) dv.setUint16(o, randomF16Bits(r, lo - 1, hi - 1), true);
    else if (type === GGMLType.Q4_1 || type === GGMLType.Q5_1) {
      // d >= 0 as (max - min) / levels; m is the (signed) block minimum
      dv.setUint16(o, randomF16Bits(r, lo - 1, hi - 1, false), true);
      dv.setUint16(o + 2, randomF16Bits(r, lo + 2, hi + 2), true);
    } else if (type === GGMLType.IQ4_NL) dv.setUint16(o, randomF16Bits(r, lo - 4, hi - 4), true);
    else if (type === GGMLType.Q2_K) {
      dv.setUint16(o + 80, randomF16Bits(r, lo - 2, hi - 2, false), true);
      dv.setUint16(o + 82, randomF16Bits(r, lo - 2, hi - 2, false), true);
    } else if (type === GGMLType.Q3_K) dv.setUint16(o + 108, randomF16Bits(r, lo - 3, hi - 3), true);
    else if (type === GGMLType.IQ4_XS) dv.setUint16(o, randomF16Bits(r, lo - 8, hi - 8), true);
    else throw new Error(`randomTensorBytes: no scale fields for ${GGMLType[type]}`);
  }
  // Random bytes elsewhere must not leave a NaN/Inf scale (NaN == NaN would pass exactness checks).
  const bad = findNonFinite(type, bytes);
  if (bad) throw new Error(`randomTensorBytes: ${GGMLType[type]} block ${bad.index} ${bad.field} is ${bad.value}`);
  return bytes;
}

function scaleMinK4(j: number, q: Uint8Array, o: number): [number, number] {
  if (j < 4) return [q[o + j] & 63, q[o + j + 4] & 63];
  return [(q[o + j + 4] & 0xf) | ((q[o + j - 4] >> 6) << 4), (q[o + j + 4] >> 4) | ((q[o + j] >> 6) << 4)];
}

/** The oracle: the shared float64 dequantization of GGUF bytes of a [rows, cols] tensor. */
export function dequantRef(type: GGMLType, bytes: Uint8Array, rows: number, cols: number): Float64Array {
  const out = dequantizeF64(type, bytes);
  if (out.length !== rows * cols) throw new Error(`dequantRef: ${out.length} values for [${rows}, ${cols}]`);
  return out;
}

/** Independent float64 dequantization (from ggml-common.h) that cross-checks the shared one. */
export function dequantLocal(type: GGMLType, bytes: Uint8Array, rows: number, cols: number): Float64Array {
  const n = rows * cols;
  const out = new Float64Array(n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = (o: number) => f16ToF32(dv.getUint16(o, true));
  const l = quantLayout(type);
  for (let b = 0; b < n / l.blockElems; b++) {
    const o = b * l.blockBytes;
    const y = b * l.blockElems;
    switch (type) {
      case GGMLType.F32:
        out[y] = dv.getFloat32(o, true);
        break;
      case GGMLType.F16:
        out[y] = h(o);
        break;
      case GGMLType.Q8_0:
        for (let j = 0; j < 32; j++) out[y + j] = h(o) * dv.getInt8(o + 2 + j);
        break;
      case GGMLType.Q4_0:
        for (let j = 0; j < 16; j++) {
          out[y + j] = h(o) * ((bytes[o + 2 + j] & 0xf) - 8);
          out[y + j + 16] = h(o) * ((bytes[o + 2 + j] >> 4) - 8);
        }
        break;
      case GGMLType.Q4_K:
      case GGMLType.Q5_K: {
        const d = h(o);
        const dmin = h(o + 2);
        const five = type === GGMLType.Q5_K;
        const qs = o + (five ? 48 : 16);
        for (let s = 0; s < 8; s++) {
          const [sc, m] = scaleMinK4(s, bytes, o + 4);
          for (let i = 0; i < 32; i++) {
            const byte = bytes[qs + 32 * (s >> 1) + i];
            let q = s & 1 ? byte >> 4 : byte & 0xf;
            if (five && bytes[o + 16 + i] & (1 << s)) q += 16;
            out[y + 32 * s + i] = d * sc * q - dmin * m;
          }
        }
        break;
      }
      case GGMLType.Q6_K: {
        const d = h(o + 208);
        for (let e = 0; e < 256; e++) {
          const half = e >> 7;
          const g = (e & 127) >> 5;
          const i = e & 31;
          const qlByte = bytes[o + 64 * half + 32 * (g & 1) + i];
          const low = g >= 2 ? qlByte >> 4 : qlByte & 0xf;
          const high = (bytes[o + 128 + 32 * half + i] >> (2 * g)) & 3;
          const sc = dv.getInt8(o + 192 + 8 * half + (i >> 4) + 2 * g);
          out[y + e] = d * sc * ((low | (high << 4)) - 32);
        }
        break;
      }
      case GGMLType.BF16:
        out[y] = new Float32Array(new Uint32Array([dv.getUint16(o, true) * 65536]).buffer)[0];
        break;
      case GGMLType.Q4_1:
      case GGMLType.Q5_0:
      case GGMLType.Q5_1:
      case GGMLType.IQ4_NL:
        dequantLegacyLocal(type, bytes, dv, o, out, y);
        break;
      case GGMLType.Q2_K:
      case GGMLType.Q3_K:
        dequantQ23KLocal(type, bytes, dv, o, out, y);
        break;
      case GGMLType.IQ4_XS: {
        const d = h(o);
        const scalesH = dv.getUint16(o + 2, true);
        for (let e = 0; e < 256; e++) {
          const s = e >> 5;
          const ls = ((bytes[o + 4 + (s >> 1)] >> (s & 1 ? 4 : 0)) & 15) + 16 * ((scalesH >> (2 * s)) & 3);
          const byte = bytes[o + 8 + 16 * s + (e & 15)];
          out[y + e] = d * (ls - 32) * IQ4NL[(e & 31) < 16 ? byte & 15 : byte >> 4];
        }
        break;
      }
      default:
        throw new Error(`no reference dequant for ${GGMLType[type]}`);
    }
  }
  return out;
}

// ggml-common.h's kvalues_iq4nl, written out again here (not imported) for independence.
const IQ4NL = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

// Q4_1 {d, m, qs[16]}, Q5_0 {d, qh[4], qs[16]}, Q5_1 {d, m, qh[4], qs[16]}, IQ4_NL {d, qs[16]}:
// element j < 16 in the low nibble of qs[j], j >= 16 in the high nibble of qs[j - 16].
function dequantLegacyLocal(type: GGMLType, bytes: Uint8Array, dv: DataView, o: number, out: Float64Array, y: number): void {
  const d = f16ToF32(dv.getUint16(o, true));
  const hasMin = type === GGMLType.Q4_1 || type === GGMLType.Q5_1;
  const m = hasMin ? f16ToF32(dv.getUint16(o + 2, true)) : 0;
  const five = type === GGMLType.Q5_0 || type === GGMLType.Q5_1;
  const qhAt = o + (hasMin ? 4 : 2);
  const qs = qhAt + (five ? 4 : 0);
  const qh = five ? dv.getUint32(qhAt, true) : 0;
  for (let j = 0; j < 32; j++) {
    const nibble = j < 16 ? bytes[qs + j] & 15 : bytes[qs + j - 16] >> 4;
    const q = nibble + (five && (qh >>> j) & 1 ? 16 : 0);
    if (type === GGMLType.IQ4_NL) out[y + j] = d * IQ4NL[nibble];
    else if (type === GGMLType.Q5_0) out[y + j] = d * (q - 16);
    else out[y + j] = d * q + m;
  }
}

// Q2_K {scales[16], qs[64], d, dmin} and Q3_K {hmask[32], qs[64], scales[12], d}, from
// ggml's dequantize_row_q{2,3}_K loops: for each 128-value half n, four shifts j, two runs of 16.
function dequantQ23KLocal(type: GGMLType, bytes: Uint8Array, dv: DataView, o: number, out: Float64Array, y: number): void {
  const isQ2 = type === GGMLType.Q2_K;
  const d = f16ToF32(dv.getUint16(o + (isQ2 ? 80 : 108), true));
  const dmin = isQ2 ? f16ToF32(dv.getUint16(o + 82, true)) : 0;
  // Q3_K scales: ggml's aux[] unpacking of the 12 bytes into 16 6-bit values
  const q3 = (i: number): number => {
    const sc = o + 96;
    const low = i < 8 ? bytes[sc + i] & 15 : bytes[sc + i - 8] >> 4;
    return low | (((bytes[sc + 8 + (i % 4)] >> (2 * Math.floor(i / 4))) & 3) << 4);
  };
  const qs = o + (isQ2 ? 16 : 32);
  let is = 0;
  let mask = 1;
  let at = y;
  for (let n = 0; n < 2; n++) {
    for (let j = 0; j < 4; j++) {
      for (let run = 0; run < 2; run++) {
        const s = is++;
        for (let l = 0; l < 16; l++) {
          const idx = 32 * n + 16 * run + l;
          const q = (bytes[qs + idx] >> (2 * j)) & 3;
          if (isQ2) out[at++] = d * (bytes[o + s] & 15) * q - dmin * (bytes[o + s] >> 4);
          else out[at++] = d * (q3(s) - 32) * (q - (bytes[o + 16 * run + l] & mask ? 0 : 4));
        }
      }
      mask <<= 1;
    }
  }
}

/** y[t, n] = Σ_k x[t, k] w[n, k] (+ bias[n]) in float64, and the error scale Σ_k |x||w| per output. */
export function matmulRef(x: ArrayLike<number>, w: Float64Array, T: number, N: number, K: number, bias?: Float32Array) {
  const y = new Float64Array(T * N);
  const mag = new Float64Array(T * N);
  for (let t = 0; t < T; t++) {
    for (let n = 0; n < N; n++) {
      let s = bias ? bias[n] : 0;
      let m = bias ? Math.abs(bias[n]) : 0;
      for (let k = 0; k < K; k++) {
        const p = x[t * K + k] * w[n * K + k];
        s += p;
        m += Math.abs(p);
      }
      y[t * N + n] = s;
      mag[t * N + n] = m;
    }
  }
  return { y, mag };
}

export function randomActivations(count: number, seed: number, scale = 1): Float32Array<ArrayBuffer> {
  const r = rng(seed);
  return Float32Array.from({ length: count }, () => Math.fround((r() * 2 - 1) * scale));
}
