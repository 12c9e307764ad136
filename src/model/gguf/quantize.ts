// F32 -> GGUF tensor encodings. The block quantizers follow ggml's reference quantizers
// (`quantize_row_*_ref`), evaluated in float32 (Math.fround at every step) so the bytes
// match what ggml's portable C code produces.
import { GGUFError } from './errors';
import { f32ToBF16, f32ToF16, Q4_0_BLOCK_BYTES, Q4_1_BLOCK_BYTES, Q8_0_BLOCK_BYTES, QK4_0, QK8_0, typeName } from './quant';
import { quantizeQ4K, quantizeQ5K, quantizeQ6K } from './quantize-k';
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

// Q4_0: d = (signed value of largest magnitude) / -8, q = min(15, trunc(x / d + 8.5)).
export function quantizeQ4_0(values: Float32Array): Uint8Array {
  const numBlocks = checkBlocks(values, QK4_0, GGMLType.Q4_0);
  const out = new Uint8Array(numBlocks * Q4_0_BLOCK_BYTES); // [numBlocks] x {d f16, qs u8[16]}
  const view = new DataView(out.buffer);
  for (let b = 0; b < numBlocks; b++) {
    const x = b * QK4_0;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK4_0; j++) {
      const v = values[x + j];
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
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
    case GGMLType.Q4_K: return quantizeQ4K(values);
    case GGMLType.Q5_K: return quantizeQ5K(values);
    case GGMLType.Q6_K: return quantizeQ6K(values);
    default: throw new GGUFError('unsupported_tensor_type', `no quantizer for ${typeName(type)}`);
  }
}
