// The NaN/Inf weight check (src/model/gguf/finite.ts) against the dequantizer as oracle:
// for every quantized type we can decode, poisoning any 2-byte slot of a block with 0xffff
// (an f16 NaN) makes the dequantized block non-finite exactly when the check flags it — so
// the float fields it scans are the right ones, and scanning only them misses nothing.
import { describe, expect, it } from 'vitest';
import { dequantize, GGUFError, quantize, typeTraits } from '../../../src/model/gguf';
import { assertFiniteWeights, findNonFinite } from '../../../src/model/gguf/finite';
import { GGMLType } from '../../../src/model/gguf/types';
import { rng } from '../../helpers/rng';

function randomValues(n: number, seed: number): Float32Array {
  const rand = rng(seed);
  return Float32Array.from({ length: n }, () => (rand() - 0.5) * 4);
}

const QUANTIZED = [
  GGMLType.Q8_0, GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q5_1, GGMLType.IQ4_NL,
  GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K, GGMLType.IQ4_XS,
];

describe('findNonFinite on quantized blocks', () => {
  for (const type of QUANTIZED) {
    const { name, blockBytes, blockSize } = typeTraits(type)!;
    it(`${name}: flags a poisoned slot exactly when the block dequantizes to NaN/Inf`, () => {
      const clean = quantize(type, randomValues(3 * blockSize, type));
      expect(findNonFinite(type, clean)).toBeUndefined();
      expect(dequantize(type, clean).every(Number.isFinite)).toBe(true);
      let flagged = 0;
      for (let at = 0; at + 1 < blockBytes; at += 2) {
        const bytes = clean.slice();
        const base = blockBytes; // block 1 of 3
        bytes[base + at] = 0xff;
        bytes[base + at + 1] = 0xff;
        const found = findNonFinite(type, bytes);
        const decodedFinite = dequantize(type, bytes).every(Number.isFinite);
        expect(found === undefined, `${name} slot at byte ${at}: check ${JSON.stringify(found)}, dequant finite ${decodedFinite}`).toBe(decodedFinite);
        if (found) {
          expect(found).toMatchObject({ index: 1, value: 'NaN' });
          flagged++;
        }
      }
      expect(flagged).toBeGreaterThan(0);
    });
  }

  it('names the field and the sign of an infinity (Q4_K dmin, Q6_K d)', () => {
    const q4k = quantize(GGMLType.Q4_K, randomValues(512, 1));
    q4k.set([0x00, 0xfc], 144 + 2); // block 1 dmin = -Inf (f16 0xfc00)
    expect(findNonFinite(GGMLType.Q4_K, q4k)).toEqual({ index: 1, field: 'dmin', value: '-Inf' });
    const q6k = quantize(GGMLType.Q6_K, randomValues(256, 2));
    q6k.set([0x00, 0x7c], 208); // d = +Inf
    expect(findNonFinite(GGMLType.Q6_K, q6k)).toEqual({ index: 0, field: 'd', value: '+Inf' });
  });
});

describe('findNonFinite on float tensors', () => {
  it('F32, F16 and BF16: the first NaN or Inf element, also in an unaligned view', () => {
    for (const type of [GGMLType.F32, GGMLType.F16, GGMLType.BF16]) {
      const values = randomValues(101, 3);
      expect(findNonFinite(type, quantize(type, values))).toBeUndefined();
      values[77] = Number.NEGATIVE_INFINITY;
      values[90] = Number.NaN;
      const bytes = quantize(type, values);
      expect(findNonFinite(type, bytes)).toEqual({ index: 77, value: '-Inf' });
      const unaligned = new Uint8Array(bytes.byteLength + 1).subarray(1);
      unaligned.set(bytes);
      expect(findNonFinite(type, unaligned)).toEqual({ index: 77, value: '-Inf' });
      values[77] = 0;
      expect(findNonFinite(type, quantize(type, values))).toEqual({ index: 90, value: 'NaN' });
    }
  });

  it('the largest finite values pass (f16 65504, f32 max)', () => {
    expect(findNonFinite(GGMLType.F16, quantize(GGMLType.F16, Float32Array.of(65504, -65504)))).toBeUndefined();
    expect(findNonFinite(GGMLType.F32, new Uint8Array(Float32Array.of(3.4028234663852886e38, -3.4028234663852886e38).buffer))).toBeUndefined();
  });
});

describe('assertFiniteWeights', () => {
  it('throws invalid_weights naming the tensor and the element or block in the whole tensor', () => {
    const values = randomValues(64, 4);
    values[5] = Number.NaN;
    // The chunk starts at byte 400 of the tensor: element 100 + 5.
    expect(() => assertFiniteWeights('blk.3.attn_q.weight', GGMLType.F32, quantize(GGMLType.F32, values), 400)).toThrow(
      expect.objectContaining({ code: 'invalid_weights', message: expect.stringMatching(/tensor "blk\.3\.attn_q\.weight": element 105 is NaN/) }),
    );
    const q8 = quantize(GGMLType.Q8_0, randomValues(64, 5));
    q8.set([0x00, 0x7c], 34); // block 1's d = +Inf
    let err: unknown;
    try {
      assertFiniteWeights('output.weight', GGMLType.Q8_0, q8, 34 * 10);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GGUFError);
    expect((err as GGUFError).message).toMatch(/tensor "output\.weight": block 11 has Q8_0 d = \+Inf/);
  });
});
