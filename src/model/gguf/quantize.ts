// F32 -> GGUF tensor encodings. The block quantizers here (Q8_0, Q4_0, Q4_1, Q5_0, Q5_1) follow
// ggml's reference quantizers (`quantize_row_*_ref`), evaluated in float32 (Math.fround at every
// step) so the bytes match what ggml's portable C code produces. Q2_K, Q3_K, IQ4_NL and IQ4_XS
// (quantize-k-low.ts, quantize-iq4.ts) are simpler fits, not ggml's bytes.
import { GGUFError } from './errors';
import { f32ToBF16, f32ToF16, Q4_0_BLOCK_BYTES, Q4_1_BLOCK_BYTES, Q5_0_BLOCK_BYTES, Q5_1_BLOCK_BYTES, Q8_0_BLOCK_BYTES, QK4_0, QK8_0, typeName } from './quant';
import { quantizeIQ4NL, quantizeIQ4XS } from './quantize-iq4';
import { quantizeQ4K, quantizeQ5K, quantizeQ6K } from './quantize-k';
import { quantizeQ2K, quantizeQ3K } from './quantize-k-low';
import { GGMLType } from './types';

const fr = Math.fround;

/** C `roundf`: halves away from zero. */
export function roundAway(x: number): number {
  return x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5);
}

function checkBlocks(values: Float32Array, blockSize: number, type: GGMLType): number {
  if (values.length % blockSize !== 0) {
    throw new GGUFError('bad_shape', `${values.length} values is not a whole number of ${typeName(type)} blocks (${blockSize})`);
  }
  return values.length / blockSize;
}

// Q8_0: d = max|x| / 127, q = roundf(x / d).
export function quantizeQ8_0(values: Float32Array): Uint8Array {
  const numBlocks = checkBlocks(values, QK8_0, GGMLType.Q8_0);
  const out = new Uint8Array(numBlocks * Q8_0_BLOCK_BYTES); // [numBlocks] x {d f16, qs i8[32]}
  const view = new DataView(out.buffer);
  for (let b = 0; b < numBlocks; b++) {
    const x = b * QK8_0;
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) amax = Math.max(amax, Math.abs(values[x + j]));
    const d = fr(amax / 127);
    const id = d ? fr(1 / d) : 0;
    const at = b * Q8_0_BLOCK_BYTES;
    view.setUint16(at, f32ToF16(d), true);
    for (let j = 0; j < QK8_0; j++) view.setInt8(at + 2 + j, roundAway(fr(values[x + j] * id)));
  }
  return out;
}

/** The value of largest magnitude in values[from, from + n), sign kept (the first on ties, as ggml). */
function largestMagnitude(values: Float32Array, from: number, n: number): number {
  let amax = 0;
  let max = 0;
  for (let j = 0; j < n; j++) {
    const v = values[from + j];
    if (amax < Math.abs(v)) {
      amax = Math.abs(v);
      max = v;
    }
  }
  return max;
}

// Q4_0: d = (signed value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5)).
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  const numBlocks = checkBlocks(values, QK4_0, GGMLType.Q4_0);
  const out = new Uint8Array(numBlocks * Q4_0_BLOCK_BYTES); // [numBlocks] x {d f16, qs u8[16]}
  const view = new DataView(out.buffer);
  for (let b = 0; b < numBlocks; b++) {
    const x = b * QK4_0;
    const max = largestMagnitude(values, x, QK4_0);
    const d = fr(max / -8);
    const id = d ? fr(1 / d) : 0;
    const at = b * Q4_0_BLOCK_BYTES;
    view.setUint16(at, f32ToF16(d), true);
    for (let j = 0; j < QK4_0 / 2; j++) {
      const q0 = Math.min(15, Math.trunc(fr(fr(values[x + j] * id) + 8.5)));
      const q1 = Math.min(15, Math.trunc(fr(fr(values[x + j + 16] * id) + 8.5)));
      out[at + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

// Q4_1: m = min, d = (max - min) / 15, q = min(15, trunc((x - m) / d + 0.5)).
export function quantizeQ4_1(values: Float32Array): Uint8Array {
  const numBlocks = checkBlocks(values, QK4_0, GGMLType.Q4_1);
  const out = new Uint8Array(numBlocks * Q4_1_BLOCK_BYTES); // [numBlocks] x {d f16, m f16, qs u8[16]}
  const view = new DataView(out.buffer);
  for (let b = 0; b < numBlocks; b++) {
    const x = b * QK4_0;
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < QK4_0; j++) {
      min = Math.min(min, values[x + j]);
      max = Math.max(max, values[x + j]);
    }
    const d = fr(fr(max - min) / 15);
    const id = d ? fr(1 / d) : 0;
    const at = b * Q4_1_BLOCK_BYTES;
    view.setUint16(at, f32ToF16(d), true);
    view.setUint16(at + 2, f32ToF16(min), true);
    for (let j = 0; j < QK4_0 / 2; j++) {
      const q0 = Math.min(15, Math.trunc(fr(fr(fr(values[x + j] - min) * id) + 0.5)));
      const q1 = Math.min(15, Math.trunc(fr(fr(fr(values[x + j + 16] - min) * id) + 0.5)));
      out[at + 4 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

// Q5_0: d = (signed value of largest magnitude) / -16, q = min(31, trunc(x / d + 16.5)); the 5th
// bit of element j goes to bit j of qh (little-endian u32).
export function quantizeQ5_0(values: Float32Array): Uint8Array {
  const numBlocks = checkBlocks(values, QK4_0, GGMLType.Q5_0);
  const out = new Uint8Array(numBlocks * Q5_0_BLOCK_BYTES); // [numBlocks] x {d f16, qh u32, qs u8[16]}
  const view = new DataView(out.buffer);
  for (let b = 0; b < numBlocks; b++) {
    const x = b * QK4_0;
    const max = largestMagnitude(values, x, QK4_0);
    const d = fr(max / -16);
    const id = d ? fr(1 / d) : 0;
    const at = b * Q5_0_BLOCK_BYTES;
    view.setUint16(at, f32ToF16(d), true);
    const level = (v: number) => Math.min(31, Math.trunc(fr(fr(v * id) + 16.5)));
    packQ5(out, view, at + 2, values, x, level);
  }
  return out;
}

// Q5_1: m = min, d = (max - min) / 31, q = trunc((x - m) / d + 0.5).
export function quantizeQ5_1(values: Float32Array): Uint8Array {
  const numBlocks = checkBlocks(values, QK4_0, GGMLType.Q5_1);
  const out = new Uint8Array(numBlocks * Q5_1_BLOCK_BYTES); // [numBlocks] x {d f16, m f16, qh u32, qs u8[16]}
  const view = new DataView(out.buffer);
  for (let b = 0; b < numBlocks; b++) {
    const x = b * QK4_0;
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < QK4_0; j++) {
      min = Math.min(min, values[x + j]);
      max = Math.max(max, values[x + j]);
    }
    const d = fr(fr(max - min) / 31);
    const id = d ? fr(1 / d) : 0;
    const at = b * Q5_1_BLOCK_BYTES;
    view.setUint16(at, f32ToF16(d), true);
    view.setUint16(at + 2, f32ToF16(min), true);
    // ggml stores (uint8_t) of the level and keeps its low 5 bits
    const level = (v: number) => Math.trunc(fr(fr(fr(v - min) * id) + 0.5)) & 31;
    packQ5(out, view, at + 4, values, x, level);
  }
  return out;
}

/** Writes qh (u32 at `qhAt`) and qs (16 bytes after it) of one Q5_0/Q5_1 block. */
function packQ5(out: Uint8Array, view: DataView, qhAt: number, values: Float32Array, x: number, level: (v: number) => number): void {
  let qh = 0;
  for (let j = 0; j < QK4_0 / 2; j++) {
    const q0 = level(values[x + j]);
    const q1 = level(values[x + j + 16]);
    out[qhAt + 4 + j] = (q0 & 0xf) | ((q1 & 0xf) << 4);
    qh |= ((q0 >> 4) << j) | ((q1 >> 4) << (j + 16));
  }
  view.setUint32(qhAt, qh >>> 0, true);
}

function encodeHalf(values: Float32Array, convert: (v: number) => number): Uint8Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = convert(values[i]);
  return new Uint8Array(out.buffer);
}

/** Encodes f32 values as `type` (the bytes of a GGUF tensor). */
export function quantize(type: GGMLType, values: Float32Array): Uint8Array {
  switch (type) {
    case GGMLType.F32: return new Uint8Array(values.slice().buffer);
    case GGMLType.F16: return encodeHalf(values, f32ToF16);
    case GGMLType.BF16: return encodeHalf(values, f32ToBF16);
    case GGMLType.Q8_0: return quantizeQ8_0(values);
    case GGMLType.Q4_0: return quantizeQ4_0(values);
    case GGMLType.Q4_1: return quantizeQ4_1(values);
    case GGMLType.Q5_0: return quantizeQ5_0(values);
    case GGMLType.Q5_1: return quantizeQ5_1(values);
    case GGMLType.Q2_K: return quantizeQ2K(values);
    case GGMLType.Q3_K: return quantizeQ3K(values);
    case GGMLType.IQ4_NL: return quantizeIQ4NL(values);
    case GGMLType.IQ4_XS: return quantizeIQ4XS(values);
    case GGMLType.Q4_K: return quantizeQ4K(values);
    case GGMLType.Q5_K: return quantizeQ5K(values);
    case GGMLType.Q6_K: return quantizeQ6K(values);
    default: throw new GGUFError('unsupported_tensor_type', `no quantizer for ${typeName(type)}`);
  }
}
