// NaN/Inf in weights: a check over tensor bytes the loader already holds in memory, so a
// corrupt file is refused by name instead of loading silently and producing garbage.
//
//   F32 / F16 / BF16 / F64   every element (exponent bits all ones = NaN or ±Inf)
//   quantized blocks         the block's float fields only: its scale d, and min m / dmin / s
//                            where the type has one. The quants themselves are small integers,
//                            so a block dequantizes to finite values iff these fields are finite.
//
// One pass of integer tests over typed-array views; scripts/bench-check-weights.ts measures it.
import { GGUFError } from './errors';
import { typeTraits } from './quant';
import { GGMLType } from './types';

interface FloatField {
  /** Byte offset inside the block. */
  at: number;
  kind: 'f16' | 'f32';
  name: string;
}

const d16 = (at: number, name = 'd'): FloatField => ({ at, kind: 'f16', name });

/** The float fields of each block type, from ggml's block structs (quant.ts has the layouts). */
const BLOCK_FLOATS: Partial<Record<GGMLType, readonly FloatField[]>> = {
  [GGMLType.Q4_0]: [d16(0)],
  [GGMLType.Q4_1]: [d16(0), d16(2, 'm')],
  [GGMLType.Q5_0]: [d16(0)],
  [GGMLType.Q5_1]: [d16(0), d16(2, 'm')],
  [GGMLType.Q8_0]: [d16(0)],
  [GGMLType.Q8_1]: [d16(0), d16(2, 's')],
  // [scales 16][qs 64][d][dmin]
  [GGMLType.Q2_K]: [d16(80), d16(82, 'dmin')],
  // [hmask 32][qs 64][scales 12][d]
  [GGMLType.Q3_K]: [d16(108)],
  [GGMLType.Q4_K]: [d16(0), d16(2, 'dmin')],
  [GGMLType.Q5_K]: [d16(0), d16(2, 'dmin')],
  // [ql 128][qh 64][scales 16][d]
  [GGMLType.Q6_K]: [d16(208)],
  [GGMLType.IQ4_NL]: [d16(0)],
  // [d][scales_h 2][scales_l 4][qs 128]
  [GGMLType.IQ4_XS]: [d16(0)],
  // [d f32][qs 256][bsums 16 x i16]
  [GGMLType.Q8_K]: [{ at: 0, kind: 'f32', name: 'd' }],
};

export interface NonFinite {
  /** Element index (float types) or block index (quantized types) within the bytes checked. */
  index: number;
  /** For quantized types: the block field that is not finite. */
  field?: string;
  value: 'NaN' | '+Inf' | '-Inf';
}

const F16_EXP = 0x7c00;
const BF16_EXP = 0x7f80;
const F32_EXP = 0x7f800000;

function f16Value(h: number): NonFinite['value'] {
  return (h & 0x3ff) !== 0 ? 'NaN' : h & 0x8000 ? '-Inf' : '+Inf';
}
function f32Value(w: number): NonFinite['value'] {
  return (w & 0x7fffff) !== 0 ? 'NaN' : w >>> 31 ? '-Inf' : '+Inf';
}

/** A view of `bytes` as `T`, copying only when the bytes are not aligned for it. */
function view<T>(bytes: Uint8Array, elemBytes: number, make: (buf: ArrayBufferLike, offset: number, length: number) => T): T {
  const length = Math.floor(bytes.byteLength / elemBytes);
  if (bytes.byteOffset % elemBytes === 0) return make(bytes.buffer, bytes.byteOffset, length);
  return make(bytes.slice(0, length * elemBytes).buffer, 0, length);
}

/**
 * The first non-finite value in `bytes` (whole elements or blocks of `type`), or undefined.
 * Types without floats (I8…I64) and the IQ types other than IQ4_NL/IQ4_XS (not loadable here) pass unchecked.
 */
export function findNonFinite(type: GGMLType, bytes: Uint8Array): NonFinite | undefined {
  if (type === GGMLType.F32) {
    const words = view(bytes, 4, (b, o, n) => new Uint32Array(b, o, n));
    for (let i = 0; i < words.length; i++) {
      if ((words[i]! & F32_EXP) === F32_EXP) return { index: i, value: f32Value(words[i]!) };
    }
    return undefined;
  }
  if (type === GGMLType.F16 || type === GGMLType.BF16) {
    const exp = type === GGMLType.F16 ? F16_EXP : BF16_EXP;
    const halves = view(bytes, 2, (b, o, n) => new Uint16Array(b, o, n));
    for (let i = 0; i < halves.length; i++) {
      const h = halves[i]!;
      if ((h & exp) === exp) {
        const value = type === GGMLType.F16 ? f16Value(h) : f32Value(h << 16);
        return { index: i, value };
      }
    }
    return undefined;
  }
  if (type === GGMLType.F64) {
    const values = view(bytes, 8, (b, o, n) => new Float64Array(b, o, n));
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (!Number.isFinite(v)) return { index: i, value: Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf' };
    }
    return undefined;
  }
  const fields = BLOCK_FLOATS[type];
  if (!fields) return undefined;
  const blockBytes = typeTraits(type)!.blockBytes;
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const numBlocks = Math.floor(bytes.byteLength / blockBytes);
  for (let b = 0; b < numBlocks; b++) {
    const base = b * blockBytes;
    for (const f of fields) {
      if (f.kind === 'f16') {
        const h = data.getUint16(base + f.at, true);
        if ((h & F16_EXP) === F16_EXP) return { index: b, field: f.name, value: f16Value(h) };
      } else {
        const w = data.getUint32(base + f.at, true);
        if ((w & F32_EXP) === F32_EXP) return { index: b, field: f.name, value: f32Value(w) };
      }
    }
  }
  return undefined;
}

/**
 * Throws `invalid_weights`, naming the tensor and where, when `bytes` (read at byte
 * `tensorOffset` of tensor `name`, whole elements or blocks) hold a NaN or an Inf.
 */
export function assertFiniteWeights(name: string, type: GGMLType, bytes: Uint8Array, tensorOffset: number): void {
  const bad = findNonFinite(type, bytes);
  if (!bad) return;
  const traits = typeTraits(type)!;
  const first = tensorOffset / traits.blockBytes;
  const where = traits.blockSize === 1
    ? `element ${first + bad.index} is ${bad.value}`
    : `block ${first + bad.index} has ${traits.name} ${bad.field} = ${bad.value}`;
  throw new GGUFError('invalid_weights', `tensor "${name}": ${where}; the file is corrupt (refusing to load weights that would make every output garbage)`);
}
