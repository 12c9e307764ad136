// Quantization formats: block sizes, dequantization of hand-built blocks (golden values derived
// from the format definitions by hand), quantize -> dequantize error bounds per format, and
// byte-identity with ggml's reference quantizers (hashes in ggml-golden/golden.ts).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bf16ToF32, dequantize, dequantizeF64, f16ToF32, f32ToBF16, f32ToF16, GGMLType, quantize, tensorByteLength, typeTraits,
} from '../../../src/model/gguf';
import { GGML_DEQUANT_GOLDEN_SHA256, GGML_DEQUANT_OWN_SHA256, GGML_GOLDEN_SHA256 } from './ggml-golden/golden';
import { DATA_KINDS, GOLDEN_VALUES, quantTestData } from './quant-data';

const T = GGMLType;

describe('block sizes', () => {
  it('match ggml (elements per block, bytes per block)', () => {
    const sizes = Object.fromEntries(
      [T.F32, T.F16, T.BF16, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.IQ4_NL, T.Q8_0, T.Q4_K, T.Q5_K, T.Q6_K, T.Q2_K, T.Q3_K, T.IQ4_XS].map((t) => [T[t], [typeTraits(t)!.blockSize, typeTraits(t)!.blockBytes]]),
    );
    expect(sizes).toEqual({
      F32: [1, 4], F16: [1, 2], BF16: [1, 2], Q4_0: [32, 18], Q4_1: [32, 20], Q5_0: [32, 22], Q5_1: [32, 24], IQ4_NL: [32, 18], Q8_0: [32, 34],
      Q4_K: [256, 144], Q5_K: [256, 176], Q6_K: [256, 210], Q2_K: [256, 84], Q3_K: [256, 110], IQ4_XS: [256, 136],
    });
    expect(tensorByteLength(T.Q4_K, 4096 * 4096)).toBe(4096 * 16 * 144);
    expect(typeTraits(4)).toBeUndefined(); // Q4_2 was removed from ggml
  });
});

describe('f16 and bf16 conversion', () => {
  it('round-trips every finite half exactly', () => {
    const mismatches: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN
      if (f32ToF16(f16ToF32(h)) !== h) mismatches.push(h);
    }
    expect(mismatches).toEqual([]);
  });

  it('rounds to nearest even, overflows to infinity, keeps subnormals', () => {
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even mantissa 0
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even mantissa 2
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(f32ToF16(65504)).toBe(0x7bff);
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(65520)).toBe(0x7c00); // the tie above max rounds to infinity
    expect(f32ToF16(-Infinity)).toBe(0xfc00);
    expect(f32ToF16(2 ** -24)).toBe(0x0001);
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie -> even (zero)
    expect(f32ToF16(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16(2 ** -14 - 2 ** -25)).toBe(0x0400); // rounds up into the smallest normal
    expect(f32ToF16(-0)).toBe(0x8000);
    expect(f32ToF16(NaN) & 0x7e00).toBe(0x7e00);
    expect(f16ToF32(0x3555)).toBe(0.333251953125);
  });

  it('bf16 keeps the top 16 bits with round-to-nearest-even', () => {
    expect(f32ToBF16(1)).toBe(0x3f80);
    expect(f32ToBF16(-2)).toBe(0xc000);
    expect(f32ToBF16(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBF16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(bf16ToF32(0x7f80)).toBe(Infinity);
    expect(bf16ToF32(0x0001)).toBe(2 ** -133);
    expect(Number.isNaN(bf16ToF32(f32ToBF16(NaN)))).toBe(true);
  });
});

/** Bytes from numbers / little-endian halves. */
const half = (h: number): number[] => [h & 0xff, h >> 8];

describe('dequantization of hand-built blocks', () => {
  it('Q4_0: d = 1, qs[j] = j | (15 - j) << 4 gives y[j] = j - 8, y[j + 16] = 7 - j', () => {
    const block = new Uint8Array([...half(0x3c00), ...Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4))]);
    const expected = [...Array.from({ length: 16 }, (_, j) => j - 8), ...Array.from({ length: 16 }, (_, j) => 7 - j)];
    expect(Array.from(dequantize(T.Q4_0, block))).toEqual(expected);
    // d = -0.5 scales and flips.
    block[0] = 0x00;
    block[1] = 0xb8;
    expect(Array.from(dequantize(T.Q4_0, block))).toEqual(expected.map((v) => v * -0.5));
  });

  it('Q8_0: d = 0.5, qs = -128, -127, ..., -97 gives q / 2', () => {
    const qs = Array.from({ length: 32 }, (_, j) => -128 + j);
    const block = new Uint8Array([...half(0x3800), ...qs.map((q) => q & 0xff)]);
    expect(Array.from(dequantize(T.Q8_0, block))).toEqual(qs.map((q) => q / 2));
  });

  it('Q4_1: d = 2, m = -1, nibbles j and 15 - j give 2q - 1', () => {
    const block = new Uint8Array([...half(0x4000), ...half(0xbc00), ...Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4))]);
    const q = [...Array.from({ length: 16 }, (_, j) => j), ...Array.from({ length: 16 }, (_, j) => 15 - j)];
    expect(Array.from(dequantize(T.Q4_1, block))).toEqual(q.map((v) => 2 * v - 1));
  });

  it('Q5_0: d = 0.25, qh = 0xaaaa5555 (even elements of the first half, odd of the second, get the 5th bit)', () => {
    const nibbles = Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4));
    const block = new Uint8Array([...half(0x3400), 0x55, 0x55, 0xaa, 0xaa, ...nibbles]);
    const q = (e: number): number => (e < 16 ? e : 31 - e) + ((e < 16 ? e % 2 === 0 : e % 2 === 1) ? 16 : 0);
    expect(Array.from(dequantize(T.Q5_0, block))).toEqual(Array.from({ length: 32 }, (_, e) => 0.25 * (q(e) - 16)));
  });

  it('Q5_1: d = 2, m = -1, qh = 0xffff0000 (only the second half gets the 5th bit)', () => {
    const nibbles = Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4));
    const block = new Uint8Array([...half(0x4000), ...half(0xbc00), 0, 0, 0xff, 0xff, ...nibbles]);
    const q = (e: number): number => (e < 16 ? e : 31 - e + 16);
    expect(Array.from(dequantize(T.Q5_1, block))).toEqual(Array.from({ length: 32 }, (_, e) => 2 * q(e) - 1));
  });

  // ggml-common.h's kvalues_iq4nl
  const KV = [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];

  it('IQ4_NL: d = 0.5, nibbles j and 15 - j index the non-linear table', () => {
    const block = new Uint8Array([...half(0x3800), ...Array.from({ length: 16 }, (_, j) => j | ((15 - j) << 4))]);
    const expected = [...KV.map((v) => v / 2), ...[...KV].reverse().map((v) => v / 2)];
    expect(Array.from(dequantize(T.IQ4_NL, block))).toEqual(expected);
    expect(Array.from(dequantizeF64(T.IQ4_NL, block))).toEqual(expected);
  });

  it('IQ4_XS: d = 1, sub-block s has ls = s + 30 (scales_l nibbles, 2 high bits in scales_h), all nibbles 15', () => {
    const ls = Array.from({ length: 8 }, (_, s) => s + 30); // 30..37: (ls - 32) = -2..5
    const scalesL = [0, 1, 2, 3].map((i) => (ls[2 * i] & 15) | ((ls[2 * i + 1] & 15) << 4));
    const scalesH = ls.reduce((h, v, s) => h | ((v >> 4) << (2 * s)), 0);
    const block = new Uint8Array([...half(0x3c00), ...half(scalesH), ...scalesL, ...new Array(128).fill(0xff)]);
    const expected = Array.from({ length: 256 }, (_, e) => (ls[e >> 5] - 32) * 113);
    expect(Array.from(dequantize(T.IQ4_XS, block))).toEqual(expected);
  });

  it('Q2_K: d = 1, dmin = 0.5, sub-block s has scale s & 15 and min 15 - s; value 128h + 32k + l is q = k', () => {
    // qs[32h + l] holds the four values of k = 0..3 at bits 2k: byte 0b11100100 gives q = k
    const scales = Array.from({ length: 16 }, (_, s) => (s & 15) | ((15 - s) << 4));
    const block = new Uint8Array([...scales, ...new Array(64).fill(0b11100100), ...half(0x3c00), ...half(0x3800)]);
    const expected = Array.from({ length: 256 }, (_, e) => {
      const k = (e >> 5) & 3;
      const s = 8 * (e >> 7) + 2 * k + ((e & 31) >> 4); // the sub-block of 16 holding value e
      return (s & 15) * k - 0.5 * (15 - s);
    });
    expect(Array.from(dequantize(T.Q2_K, block))).toEqual(expected);
  });

  it('Q3_K: d = 0.5, 6-bit scales 32 + s - 8 packed by hand; hmask bit 4h + k set for even l only', () => {
    const sc = Array.from({ length: 16 }, (_, s) => 32 + s - 8); // 24..39 → (sc - 32) = -8..7
    // bytes 0..7: low nibbles of sc[0..7] | low nibbles of sc[8..15] << 4; bytes 8..11: 2-bit highs,
    // byte 8 + (j % 4) at bit 2 * (j >> 2)
    const packed = new Array(12).fill(0);
    sc.forEach((v, j) => {
      packed[j % 8] |= (v & 15) << (j < 8 ? 0 : 4);
      packed[8 + (j % 4)] |= (v >> 4) << (2 * (j >> 2));
    });
    const hmask = Array.from({ length: 32 }, (_, l) => (l % 2 === 0 ? 0xff : 0));
    const block = new Uint8Array([...hmask, ...new Array(64).fill(0b11100100), ...packed, ...half(0x3800)]);
    const expected = Array.from({ length: 256 }, (_, e) => {
      const k = (e >> 5) & 3;
      const l = e & 31;
      const s = 8 * (e >> 7) + 2 * k + (l >> 4);
      return 0.5 * (sc[s] - 32) * (k - (l % 2 === 0 ? 0 : 4));
    });
    expect(Array.from(dequantize(T.Q3_K, block))).toEqual(expected);
  });

  it('BF16 and F16 words', () => {
    expect(Array.from(dequantize(T.BF16, new Uint8Array([...half(0x3f80), ...half(0xc000), ...half(0x4049)])))).toEqual([1, -2, 3.140625]);
    expect(Array.from(dequantize(T.F16, new Uint8Array([...half(0x3c00), ...half(0xc000), ...half(0x7bff), ...half(0x0001)])))).toEqual([1, -2, 65504, 2 ** -24]);
  });

  // Sub-block scales and mins (6 bits each), and their 12-byte packing worked out by hand:
  // bytes 0-3: sc[0..3] | (sc[4..7] >> 4) << 6; bytes 4-7: m[0..3] | (m[4..7] >> 4) << 6;
  // bytes 8-11: (sc[4..7] & 15) | (m[4..7] & 15) << 4.
  const SC = [1, 2, 3, 4, 17, 18, 19, 63];
  const M = [0, 1, 2, 3, 16, 33, 4, 63];
  const SCALES = [65, 66, 67, 196, 64, 129, 2, 195, 1, 18, 67, 255];
  // Chunk c (values 64c..64c+63) uses sub-block 2c for low nibbles, 2c+1 for high nibbles.
  const lowNibble = (c: number, l: number): number => l & 15;
  const highNibble = (c: number, l: number): number => (l + c) & 15;
  const qs = Array.from({ length: 128 }, (_, i) => lowNibble(i >> 5, i & 31) | (highNibble(i >> 5, i & 31) << 4));

  it('Q4_K: d = 1, dmin = 0.5: y = sc * q - 0.5 * m', () => {
    const block = new Uint8Array([...half(0x3c00), ...half(0x3800), ...SCALES, ...qs]);
    const expected: number[] = [];
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) expected.push(SC[2 * c] * lowNibble(c, l) - 0.5 * M[2 * c]);
      for (let l = 0; l < 32; l++) expected.push(SC[2 * c + 1] * highNibble(c, l) - 0.5 * M[2 * c + 1]);
    }
    expect(Array.from(dequantize(T.Q4_K, block))).toEqual(expected);
  });

  it('Q5_K: the fifth bit of value 64c + l is bit 2c of qh[l] (64c + 32 + l: bit 2c + 1)', () => {
    const qh = Array.from({ length: 32 }, (_, l) => (l * 37) & 0xff);
    const block = new Uint8Array([...half(0x3c00), ...half(0x3800), ...SCALES, ...qh, ...qs]);
    const expected: number[] = [];
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) expected.push(SC[2 * c] * (lowNibble(c, l) + 16 * ((qh[l] >> (2 * c)) & 1)) - 0.5 * M[2 * c]);
      for (let l = 0; l < 32; l++) expected.push(SC[2 * c + 1] * (highNibble(c, l) + 16 * ((qh[l] >> (2 * c + 1)) & 1)) - 0.5 * M[2 * c + 1]);
    }
    expect(Array.from(dequantize(T.Q5_K, block))).toEqual(expected);
  });

  it('Q6_K: d = 0.25, value i = d * scales[i >> 4] * (q6(i) - 32)', () => {
    const q6 = (i: number): number => (i * 7 + 3) % 64;
    const scales = Array.from({ length: 16 }, (_, k) => (k % 2 ? -1 : 1) * (k + 1) * 7); // int8, -112..105
    // Layout from the block definition: half h = i >> 7; within it k = (i >> 5) & 3, l = i & 31.
    // Low 4 bits: ql[64h + l + 32 (k & 1)], low nibble for k < 2, high nibble for k >= 2.
    // High 2 bits: qh[32h + l] bits 2k..2k+1.
    const ql = new Array(128).fill(0);
    const qh = new Array(64).fill(0);
    for (let i = 0; i < 256; i++) {
      const h = i >> 7;
      const k = (i >> 5) & 3;
      const l = i & 31;
      ql[64 * h + l + 32 * (k & 1)] |= (q6(i) & 15) << (k >= 2 ? 4 : 0);
      qh[32 * h + l] |= (q6(i) >> 4) << (2 * k);
    }
    const block = new Uint8Array([...ql, ...qh, ...scales.map((s) => s & 0xff), ...half(0x3400)]);
    const expected = Array.from({ length: 256 }, (_, i) => 0.25 * scales[i >> 4] * (q6(i) - 32));
    expect(Array.from(dequantize(T.Q6_K, block))).toEqual(expected);
    expect(Array.from(dequantizeF64(T.Q6_K, block))).toEqual(expected);
  });

  it('rejects byte counts that are not whole blocks', () => {
    expect(() => dequantize(T.Q4_K, new Uint8Array(145))).toThrow(expect.objectContaining({ code: 'bad_tensor_data' }));
    expect(() => dequantize(T.IQ2_XXS, new Uint8Array(66))).toThrow(expect.objectContaining({ code: 'unsupported_tensor_type' }));
    expect(() => quantize(T.Q8_0, new Float32Array(33))).toThrow(expect.objectContaining({ code: 'bad_shape' }));
  });
});

describe('byte-identical to ggml reference quantizers', () => {
  for (const type of Object.keys(GGML_GOLDEN_SHA256)) {
    it(type, () => {
      const ggmlType = { f16: T.F16, bf16: T.BF16, q8_0: T.Q8_0, q4_0: T.Q4_0, q4_1: T.Q4_1, q5_0: T.Q5_0, q5_1: T.Q5_1, q4_K: T.Q4_K, q5_K: T.Q5_K, q6_K: T.Q6_K }[type]!;
      const hashes = DATA_KINDS.map((_, kind) => createHash('sha256').update(quantize(ggmlType, quantTestData(kind, GOLDEN_VALUES))).digest('hex'));
      expect(hashes).toEqual(GGML_GOLDEN_SHA256[type]);
    });
  }
});

describe('float32 dequantization identical to ggml dequantize_row_*', () => {
  for (const type of Object.keys(GGML_DEQUANT_GOLDEN_SHA256)) {
    it(type, () => {
      const ggmlType = { q4_K: T.Q4_K, q5_K: T.Q5_K, q6_K: T.Q6_K }[type]!;
      const hashes = DATA_KINDS.map((_, kind) => {
        const values = dequantize(ggmlType, quantize(ggmlType, quantTestData(kind, GOLDEN_VALUES)));
        return createHash('sha256').update(new Uint8Array(values.buffer)).digest('hex');
      });
      expect(hashes).toEqual(GGML_DEQUANT_GOLDEN_SHA256[type]);
    });
  }
});

// Q2_K, Q3_K, IQ4_NL and IQ4_XS are quantized tabllm's own way (quantize-k-low.ts, quantize-iq4.ts),
// so the check is on the dequantizer: ggml's dequantize_row_* of the very bytes tabllm writes.
describe('float32 dequantization of tabllm-quantized bytes identical to ggml dequantize_row_*', () => {
  const TYPES: Record<string, GGMLType> = { q4_1: T.Q4_1, q5_0: T.Q5_0, q5_1: T.Q5_1, q2_K: T.Q2_K, q3_K: T.Q3_K, iq4_nl: T.IQ4_NL, iq4_xs: T.IQ4_XS };
  it('covers every type listed', () => expect(Object.keys(GGML_DEQUANT_OWN_SHA256).sort()).toEqual(Object.keys(TYPES).sort()));
  for (const type of Object.keys(GGML_DEQUANT_OWN_SHA256)) {
    it(type, () => {
      const hashes = DATA_KINDS.map((_, kind) => {
        const values = dequantize(TYPES[type], quantize(TYPES[type], quantTestData(kind, GOLDEN_VALUES)));
        return createHash('sha256').update(new Uint8Array(values.buffer)).digest('hex');
      });
      expect(hashes).toEqual(GGML_DEQUANT_OWN_SHA256[type]);
    });
  }
});
