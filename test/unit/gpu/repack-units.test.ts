// The per-unit layouts of repack.ts / repack-units.ts, read back on the CPU: a reader
// written here from the layout tables (not from the packing code) dequantizes the repacked
// words, and every value equals the float64 dequantization of the GGUF bytes. Also: the
// repack is its own exact inverse, every unit's quants start on a 16-byte boundary, and
// the Q4_K/Q5_K scale rewrite covers all 2^12 (sc, m) pairs of a sub-block.
// Reordered types: Q4_1, Q5_0, Q5_1, IQ4_XS (side data moved out of the block), Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K (quants reordered per unit).
import { describe, expect, it } from 'vitest';
import { quantLayout, repackRows, unrepackRows } from '../../../src/gpu/repack';
import { KVALUES_IQ4NL } from '../../../src/model/gguf/quant';
import { blockShuffle } from '../../../src/gpu/repack-units';
import { GGMLType } from '../../../src/model/gguf/types';
import { dequantRef, f16ToF32, randomTensorBytes } from '../../gpu/matmul-fixtures';

const ROWS = 3;
const COLS = 256 * 3; // three super-blocks per row, nine in all (an odd count of f16 d words)
const ROWS_32 = 5;
const COLS_32 = 32 * 3; // 32-weight blocks: 15 in all (odd)

const half = (words: Uint32Array, h: number): number => f16ToF32((words[h >> 1] >>> (16 * (h & 1))) & 0xffff);
const byteOf = (word: number, j: number): number => (word >>> (8 * j)) & 0xff;
// Element i (0..31) of a unit's 16 nibble bytes starting at word q: byte i % 16, high nibble for i >= 16.
const nibble = (words: Uint32Array, q: number, i: number): number =>
  (byteOf(words[q + ((i & 15) >> 2)], i & 3) >> (i >= 16 ? 4 : 0)) & 15;

// Element i (0..31) of a unit's 2-bit pairs (Q2_K/Q3_K q2', Q6_K qh') starting at word q: word
// (i >> 2) & 1, byte i & 3, bits 2(i >> 3).
const pair = (words: Uint32Array, q: number, i: number): number => (byteOf(words[q + ((i >> 2) & 1)], i & 3) >> (2 * (i >> 3))) & 3;

/** Element e of 32-weight block b, read from the repacked words as the WGSL snippets document it. */
function readBlock32Layout(type: GGMLType, words: Uint32Array, scaleOff: number, b: number, e: number): number {
  const q = nibble(words, 4 * b, e); // every type here: block b's nibbles are vec4 b
  if (type === GGMLType.Q4_1) return half(words, 2 * (scaleOff + b)) * q + half(words, 2 * (scaleOff + b) + 1);
  if (type === GGMLType.Q5_1) {
    const q5 = q + 16 * ((words[scaleOff + 2 * b + 1] >>> e) & 1);
    return half(words, 2 * (scaleOff + 2 * b)) * q5 + half(words, 2 * (scaleOff + 2 * b) + 1);
  }
  if (type === GGMLType.Q5_0) {
    const q5 = q + 16 * ((words[scaleOff + b] >>> e) & 1);
    const numBlocks = scaleOff / 4;
    return half(words, 2 * (scaleOff + numBlocks) + b) * (q5 - 16);
  }
  throw new Error(`no unit reader for ${GGMLType[type]}`);
}

/** Element e of super-block b, read from the repacked words as the WGSL snippets document it. */
function readUnitLayout(type: GGMLType, words: Uint32Array, scaleOff: number, b: number, e: number): number {
  const s = e >> 5;
  const i = e & 31;
  const j = e >> 4; // the 16-element scale of Q2_K, Q3_K, Q6_K
  if (type === GGMLType.Q2_K) {
    const base = b * 20;
    const sc = byteOf(words[base + (j >> 2)], j & 3);
    const q = pair(words, base + 4 + 2 * s, i);
    return half(words, 2 * (scaleOff + b)) * (sc & 15) * q - half(words, 2 * (scaleOff + b) + 1) * (sc >> 4);
  }
  if (type === GGMLType.Q3_K) {
    const base = b * 24;
    const high = (words[base + s] >>> i) & 1;
    const q = pair(words, base + 8 + 2 * s, i) - 4 + 4 * high;
    const side = scaleOff + 3 * b;
    const low4 = (byteOf(words[side + ((j % 8) >> 2)], j % 4) >> (j >= 8 ? 4 : 0)) & 15;
    const high2 = (byteOf(words[side + 2], j % 4) >> (2 * (j >> 2))) & 3;
    const numBlocks = scaleOff / 24;
    return half(words, 2 * (scaleOff + 3 * numBlocks) + b) * ((low4 | (high2 << 4)) - 32) * q;
  }
  if (type === GGMLType.IQ4_XS) {
    const head = words[scaleOff + 2 * b];
    const ls = ((byteOf(words[scaleOff + 2 * b + 1], s >> 1) >> (4 * (s & 1))) & 15) | (((head >>> (16 + 2 * s)) & 3) << 4);
    return half(words, 2 * (scaleOff + 2 * b)) * (ls - 32) * KVALUES_IQ4NL[nibble(words, 32 * b + 4 * s, i)];
  }
  if (type === GGMLType.Q4_K || type === GGMLType.Q5_K) {
    const five = type === GGMLType.Q5_K;
    const base = b * (five ? 44 : 36);
    const d = half(words, 2 * base);
    const dmin = half(words, 2 * base + 1);
    const scByte = byteOf(words[base + 1 + (s >> 2)], s & 3);
    const sc = scByte & 63;
    const m = ((words[base + 3] >>> (4 * s)) & 15) | ((scByte >> 6) << 4);
    let q = nibble(words, base + (five ? 12 : 4) + 4 * s, i);
    if (five) q += 16 * ((words[base + 4 + s] >>> i) & 1);
    return d * sc * q - dmin * m;
  }
  if (type === GGMLType.Q6_K) {
    const base = b * 52;
    const low = nibble(words, base + 4 * s, i);
    const high = pair(words, base + 32 + 2 * s, i);
    const scByte = byteOf(words[base + 48 + (e >> 6)], (e >> 4) & 3);
    const sc = scByte >= 128 ? scByte - 256 : scByte;
    return half(words, 2 * scaleOff + b) * sc * ((low | (high << 4)) - 32);
  }
  throw new Error(`no unit reader for ${GGMLType[type]}`);
}

const SUPER_TYPES = [['Q2_K', GGMLType.Q2_K], ['Q3_K', GGMLType.Q3_K], ['Q4_K', GGMLType.Q4_K], ['Q5_K', GGMLType.Q5_K], ['Q6_K', GGMLType.Q6_K], ['IQ4_XS', GGMLType.IQ4_XS]] as const;
const BLOCK32_TYPES = [['Q4_1', GGMLType.Q4_1], ['Q5_0', GGMLType.Q5_0], ['Q5_1', GGMLType.Q5_1]] as const;

describe('per-unit layouts', () => {
  it.each(SUPER_TYPES)(
    '%s: the repacked words dequantize to the GGUF values exactly, and undo to the GGUF bytes',
    (_name, type) => {
      const bytes = randomTensorBytes(type, ROWS, COLS, 21);
      const packed = repackRows(type, bytes, ROWS, COLS);
      const want = dequantRef(type, bytes, ROWS, COLS);
      const got = new Float64Array(want.length);
      for (let k = 0; k < got.length; k++) got[k] = readUnitLayout(type, packed.words, packed.scaleOffsetWords, k >> 8, k & 255);
      expect(got).toEqual(want);
      expect(unrepackRows(type, packed.words, ROWS, COLS)).toEqual(bytes);
    },
  );

  it.each(BLOCK32_TYPES)(
    '%s: the repacked words dequantize to the GGUF values exactly, and undo to the GGUF bytes',
    (_name, type) => {
      const bytes = randomTensorBytes(type, ROWS_32, COLS_32, 22);
      const packed = repackRows(type, bytes, ROWS_32, COLS_32);
      const want = dequantRef(type, bytes, ROWS_32, COLS_32);
      const got = new Float64Array(want.length);
      for (let k = 0; k < got.length; k++) got[k] = readBlock32Layout(type, packed.words, packed.scaleOffsetWords, k >> 5, k & 31);
      expect(got).toEqual(want);
      expect(unrepackRows(type, packed.words, ROWS_32, COLS_32)).toEqual(bytes);
    },
  );

  it('the reorder is not the identity (a reader of the GGUF order would fail)', () => {
    for (const [, type] of [...SUPER_TYPES, ...BLOCK32_TYPES]) {
      const cols = quantLayout(type).blockElems;
      const bytes = randomTensorBytes(type, 1, cols, 5);
      const packed = new Uint8Array(repackRows(type, bytes, 1, cols).words.buffer);
      expect(packed.subarray(0, bytes.length - 2), GGMLType[type]).not.toEqual(bytes.subarray(0, bytes.length - 2));
    }
  });

  it('every unit of every 16-byte-loaded type starts on a 16-byte boundary', () => {
    // [type, word of the vec4 holding unit s's quants within the block (as the reader above and
    // the WGSL read it; Q2_K/Q3_K: the vec4 of 2-bit pairs holding its 2 words)]
    const units: [GGMLType, (s: number) => number][] = [
      [GGMLType.Q8_0, () => 0],
      [GGMLType.Q4_0, () => 0],
      [GGMLType.IQ4_NL, () => 0],
      [GGMLType.Q4_1, () => 0],
      [GGMLType.Q5_0, () => 0],
      [GGMLType.Q5_1, () => 0],
      [GGMLType.Q2_K, (s) => 4 + 4 * (s >> 1)],
      [GGMLType.Q3_K, (s) => 8 + 4 * (s >> 1)],
      [GGMLType.Q4_K, (s) => 4 + 4 * s],
      [GGMLType.Q5_K, (s) => 12 + 4 * s],
      [GGMLType.Q6_K, (s) => 4 * s],
      [GGMLType.IQ4_XS, (s) => 4 * s],
    ];
    for (const [type, unitWord] of units) {
      expect(quantLayout(type).blockWords % 4, GGMLType[type]).toBe(0);
      for (let s = 0; s < 8; s++) expect(unitWord(s) % 4, GGMLType[type]).toBe(0);
    }
  });

  it('Q4_K scales: every (sc, m) pair of every sub-block survives the rewrite', () => {
    const shuffle = blockShuffle(GGMLType.Q4_K)!;
    const src = new Uint8Array(144);
    const mid = new Uint8Array(144);
    const back = new Uint8Array(144);
    const wrong: string[] = [];
    for (let v = 0; v < 4096; v++) {
      // sub-block s gets (sc, m) = (v + s) mod 2^12 split in two 6-bit halves
      const sc = new Uint8Array(8);
      const m = new Uint8Array(8);
      for (let s = 0; s < 8; s++) {
        const x = (v + 97 * s) & 4095;
        sc[s] = x & 63;
        m[s] = x >> 6;
      }
      // GGUF's packing (ggml's make_qkx2_quants writers, inverse of get_scale_min_k4)
      for (let j = 0; j < 4; j++) {
        src[4 + j] = sc[j] | ((sc[j + 4] >> 4) << 6);
        src[8 + j] = m[j] | ((m[j + 4] >> 4) << 6);
        src[12 + j] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4);
      }
      shuffle.pack(src, 0, mid, 0, 0);
      for (let s = 0; s < 8; s++) {
        const b = mid[4 + s];
        const got = [b & 63, ((mid[12 + (s >> 1)] >> (4 * (s & 1))) & 15) | ((b >> 6) << 4)];
        if (got[0] !== sc[s] || got[1] !== m[s]) wrong.push(`v=${v} s=${s}: ${got} for ${sc[s]},${m[s]}`);
      }
      shuffle.unpack(mid, 0, 0, back, 0);
      if (back.subarray(4, 16).some((x, j) => x !== src[4 + j])) wrong.push(`v=${v}: GGUF scales not restored`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });
});
