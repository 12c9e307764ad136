// ggml tensor type traits (block size in elements, block size in bytes) and the scalar
// conversions every quant format needs: f32 <-> f16 and f32 <-> bf16, round-to-nearest-even.
// Block layouts (bytes, in file order) from ggml's block structs:
//   Q4_0  [d f16][qs 16 B: element j in low nibble of qs[j], element j+16 in high nibble]  = 18 B / 32
//   Q4_1  [d f16][m f16][qs 16 B]                                                          = 20 B / 32
//   Q5_0  [d f16][qh 4 B: bit j = 5th bit of element j][qs 16 B as Q4_0]                   = 22 B / 32
//   Q5_1  [d f16][m f16][qh 4 B][qs 16 B]                                                  = 24 B / 32
//   IQ4_NL [d f16][qs 16 B as Q4_0, each nibble an index into KVALUES_IQ4NL]               = 18 B / 32
//   Q8_0  [d f16][qs 32 x i8]                                                              = 34 B / 32
//   Q4_K  [d f16][dmin f16][scales 12 B: 8 x (6-bit scale, 6-bit min)][qs 128 B]          = 144 B / 256
//   Q5_K  [d f16][dmin f16][scales 12 B][qh 32 B][qs 128 B]                                = 176 B / 256
//   Q6_K  [ql 128 B][qh 64 B][scales 16 x i8][d f16]                                       = 210 B / 256
//   Q2_K  [scales 16 B: 4-bit scale | 4-bit min << 4][qs 64 B: 2-bit][d f16][dmin f16]     = 84 B / 256
//   Q3_K  [hmask 32 B][qs 64 B: low 2 bits][scales 12 B: 16 x 6-bit][d f16]                = 110 B / 256
//   IQ4_XS [d f16][scales_h u16: 2 high bits x 8][scales_l 4 B: 4 low bits x 8][qs 128 B]  = 136 B / 256
import { GGUFError } from './errors';
import { GGMLType } from './types';

export interface TypeTraits {
  name: string;
  /** Elements per block. */
  blockSize: number;
  /** Bytes per block. */
  blockBytes: number;
}

export const QK4_0 = 32;
export const QK8_0 = 32;
export const QK_K = 256;
export const K_SCALE_BYTES = 12;

export const Q4_0_BLOCK_BYTES = 2 + QK4_0 / 2;
export const Q4_1_BLOCK_BYTES = 4 + QK4_0 / 2;
export const Q8_0_BLOCK_BYTES = 2 + QK8_0;
export const Q4_K_BLOCK_BYTES = 4 + K_SCALE_BYTES + QK_K / 2;
export const Q5_K_BLOCK_BYTES = 4 + K_SCALE_BYTES + QK_K / 8 + QK_K / 2;
export const Q6_K_BLOCK_BYTES = QK_K / 2 + QK_K / 4 + QK_K / 16 + 2;
export const Q5_0_BLOCK_BYTES = 2 + 4 + QK4_0 / 2;
export const Q5_1_BLOCK_BYTES = 4 + 4 + QK4_0 / 2;
export const IQ4_NL_BLOCK_BYTES = 2 + QK4_0 / 2;
export const Q2_K_BLOCK_BYTES = QK_K / 16 + QK_K / 4 + 4;
export const Q3_K_BLOCK_BYTES = QK_K / 8 + QK_K / 4 + K_SCALE_BYTES + 2;
export const IQ4_XS_BLOCK_BYTES = 2 + 2 + QK_K / 64 + QK_K / 2;

/** ggml's `kvalues_iq4nl`: the 16 non-linear levels of IQ4_NL and IQ4_XS (one nibble indexes one). */
export const KVALUES_IQ4NL: readonly number[] = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

// The sizes every kernel and repack relies on; a typo here would corrupt every tensor.
function assertSize(name: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`${name} block is ${actual} bytes, expected ${expected}`);
}
assertSize('Q4_0', Q4_0_BLOCK_BYTES, 18);
assertSize('Q4_1', Q4_1_BLOCK_BYTES, 20);
assertSize('Q8_0', Q8_0_BLOCK_BYTES, 34);
assertSize('Q4_K', Q4_K_BLOCK_BYTES, 144);
assertSize('Q5_K', Q5_K_BLOCK_BYTES, 176);
assertSize('Q6_K', Q6_K_BLOCK_BYTES, 210);
assertSize('Q5_0', Q5_0_BLOCK_BYTES, 22);
assertSize('Q5_1', Q5_1_BLOCK_BYTES, 24);
assertSize('IQ4_NL', IQ4_NL_BLOCK_BYTES, 18);
assertSize('Q2_K', Q2_K_BLOCK_BYTES, 84);
assertSize('Q3_K', Q3_K_BLOCK_BYTES, 110);
assertSize('IQ4_XS', IQ4_XS_BLOCK_BYTES, 136);

const TRAITS: Partial<Record<GGMLType, TypeTraits>> = {
  [GGMLType.F32]: { name: 'F32', blockSize: 1, blockBytes: 4 },
  [GGMLType.F16]: { name: 'F16', blockSize: 1, blockBytes: 2 },
  [GGMLType.Q4_0]: { name: 'Q4_0', blockSize: 32, blockBytes: Q4_0_BLOCK_BYTES },
  [GGMLType.Q4_1]: { name: 'Q4_1', blockSize: 32, blockBytes: Q4_1_BLOCK_BYTES },
  [GGMLType.Q5_0]: { name: 'Q5_0', blockSize: 32, blockBytes: Q5_0_BLOCK_BYTES },
  [GGMLType.Q5_1]: { name: 'Q5_1', blockSize: 32, blockBytes: Q5_1_BLOCK_BYTES },
  [GGMLType.Q8_0]: { name: 'Q8_0', blockSize: 32, blockBytes: Q8_0_BLOCK_BYTES },
  [GGMLType.Q8_1]: { name: 'Q8_1', blockSize: 32, blockBytes: 36 },
  [GGMLType.Q2_K]: { name: 'Q2_K', blockSize: 256, blockBytes: Q2_K_BLOCK_BYTES },
  [GGMLType.Q3_K]: { name: 'Q3_K', blockSize: 256, blockBytes: Q3_K_BLOCK_BYTES },
  [GGMLType.Q4_K]: { name: 'Q4_K', blockSize: 256, blockBytes: Q4_K_BLOCK_BYTES },
  [GGMLType.Q5_K]: { name: 'Q5_K', blockSize: 256, blockBytes: Q5_K_BLOCK_BYTES },
  [GGMLType.Q6_K]: { name: 'Q6_K', blockSize: 256, blockBytes: Q6_K_BLOCK_BYTES },
  [GGMLType.Q8_K]: { name: 'Q8_K', blockSize: 256, blockBytes: 292 },
  [GGMLType.IQ2_XXS]: { name: 'IQ2_XXS', blockSize: 256, blockBytes: 66 },
  [GGMLType.IQ2_XS]: { name: 'IQ2_XS', blockSize: 256, blockBytes: 74 },
  [GGMLType.IQ3_XXS]: { name: 'IQ3_XXS', blockSize: 256, blockBytes: 98 },
  [GGMLType.IQ1_S]: { name: 'IQ1_S', blockSize: 256, blockBytes: 50 },
  [GGMLType.IQ4_NL]: { name: 'IQ4_NL', blockSize: 32, blockBytes: IQ4_NL_BLOCK_BYTES },
  [GGMLType.IQ3_S]: { name: 'IQ3_S', blockSize: 256, blockBytes: 110 },
  [GGMLType.IQ2_S]: { name: 'IQ2_S', blockSize: 256, blockBytes: 82 },
  [GGMLType.IQ4_XS]: { name: 'IQ4_XS', blockSize: 256, blockBytes: IQ4_XS_BLOCK_BYTES },
  [GGMLType.I8]: { name: 'I8', blockSize: 1, blockBytes: 1 },
  [GGMLType.I16]: { name: 'I16', blockSize: 1, blockBytes: 2 },
  [GGMLType.I32]: { name: 'I32', blockSize: 1, blockBytes: 4 },
  [GGMLType.I64]: { name: 'I64', blockSize: 1, blockBytes: 8 },
  [GGMLType.F64]: { name: 'F64', blockSize: 1, blockBytes: 8 },
  [GGMLType.IQ1_M]: { name: 'IQ1_M', blockSize: 256, blockBytes: 56 },
  [GGMLType.BF16]: { name: 'BF16', blockSize: 1, blockBytes: 2 },
  [GGMLType.TQ1_0]: { name: 'TQ1_0', blockSize: 256, blockBytes: 54 },
  [GGMLType.TQ2_0]: { name: 'TQ2_0', blockSize: 256, blockBytes: 66 },
};

/** Traits of a ggml type, or undefined when the id is not a known type. */
export function typeTraits(type: number): TypeTraits | undefined {
  return TRAITS[type as GGMLType];
}

export function typeName(type: number): string {
  return typeTraits(type)?.name ?? `type#${type}`;
}

/**
 * Bytes of a tensor with `numElements` elements of `type`. Throws `bad_shape` when the
 * count is not a whole number of blocks, `unknown_tensor_type` for an unknown id.
 */
export function tensorByteLength(type: number, numElements: number): number {
  const traits = typeTraits(type);
  if (!traits) throw new GGUFError('unknown_tensor_type', `unknown ggml type id ${type}`);
  if (numElements % traits.blockSize !== 0) {
    throw new GGUFError('bad_shape', `${numElements} elements is not a whole number of ${traits.name} blocks (${traits.blockSize})`);
  }
  return (numElements / traits.blockSize) * traits.blockBytes;
}

// ---- f16 / bf16 scalar conversions ----

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** Shifts right by `shift` (1..24) with round-to-nearest-even on the dropped bits. */
function shiftRoundEven(value: number, shift: number): number {
  const kept = value >>> shift;
  const dropped = value & ((1 << shift) - 1);
  const half = 1 << (shift - 1);
  return dropped > half || (dropped === half && (kept & 1) === 1) ? kept + 1 : kept;
}

/** f32 -> IEEE half bits, round-to-nearest-even (what F16C `_cvtss_sh(x, 0)` does). */
export function f32ToF16(value: number): number {
  scratchF32[0] = value;
  const bits = scratchU32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return mant ? sign | 0x7e00 | (mant >>> 13) : sign | 0x7c00;
  const halfExp = exp - 127 + 15;
  if (halfExp >= 0x1f) return sign | 0x7c00;
  if (halfExp <= 0) {
    // Subnormal half: units of 2^-24. The full 24-bit mantissa times 2^(exp-150) / 2^-24.
    const shift = 126 - exp;
    if (shift >= 25) return sign;
    return sign | shiftRoundEven(mant | 0x800000, shift);
  }
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | (((halfExp << 10) | (mant >>> 13)) + (shiftRoundEven(mant, 13) - (mant >>> 13)));
}

let f16Table: Float32Array | undefined;

/** Half bits -> f32 value (exact). */
export function f16ToF32(half: number): number {
  return (f16Table ??= buildF16Table())[half & 0xffff];
}

function buildF16Table(): Float32Array {
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) table[h] = sign * mant * 2 ** -24;
    else if (exp === 0x1f) table[h] = mant ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mant / 1024) * 2 ** (exp - 15);
  }
  return table;
}

/** The f16 lookup table (65536 entries), for hot dequant loops. */
export function f16LookupTable(): Float32Array {
  return (f16Table ??= buildF16Table());
}

/** f32 -> bfloat16 bits, round-to-nearest-even; NaN stays a quiet NaN. */
export function f32ToBF16(value: number): number {
  scratchF32[0] = value;
  const bits = scratchU32[0];
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 64) & 0xffff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16ToF32(bits: number): number {
  scratchU32[0] = (bits & 0xffff) << 16;
  return scratchF32[0];
}
