// Repacking GGUF weight rows into u32-aligned layouts for the WGSL kernels, and the
// exact inverse (used by tests to prove the repack loses nothing).
//
// GGUF blocks are not always 4-byte aligned (Q4_0 is 18 bytes, Q8_0 34, Q6_K 210),
// and WGSL storage reads are u32. Each quant type is split into up to three segments
// inside one u32 array, so no byte is padded per block:
//
//   segment 0 (quants)  [numBlocks, blockWords]  at word 0
//   side                [numBlocks, sideWords]   at scaleOffsetWords (the uniform `scaleOff`)
//   halves              [numBlocks] f16 d, two per word, after the side words
//
//   type   | block (elems, bytes) | segment 0: words per block             | side words   | halves
//   F32    | 1, 4                 | the floats                             | —            | —
//   F16    | 1, 2                 | halves, two per word (element e in     | —            | —
//   BF16   | 1, 2                 |   word e>>1, low half when e is even)  | —            | —
//   Q8_0   | 32, 34               | 8: 32 i8 quants                        | —            | d
//   Q4_0   | 32, 18               | 4: 16 bytes of nibbles                 | —            | d
//   IQ4_NL | 32, 18               | 4: 16 bytes of nibbles                 | —            | d
//   Q4_1   | 32, 20               | 4: 16 bytes of nibbles                 | 1: d, m      | —
//   Q5_0   | 32, 22               | 4: 16 bytes of nibbles                 | 1: qh        | d
//   Q5_1   | 32, 24               | 4: 16 bytes of nibbles                 | 2: d, m; qh  | —
//   Q2_K   | 256, 84              | 20: scales, qs reordered per unit      | 1: d, dmin   | —
//   Q3_K   | 256, 110             | 24: hmask, qs reordered per unit       | 3: scales    | d
//   Q4_K   | 256, 144             | 36: the block, reordered per unit      | —            | —
//   Q5_K   | 256, 176             | 44: the block, reordered per unit      | —            | —
//   Q6_K   | 256, 210             | 52: ql qh scales, reordered per unit   | —            | d
//   IQ4_XS | 256, 136             | 32: qs                                 | 2: d, scales | —
//
// Every quant type's blocks are reordered in place into per-unit layouts (one aligned
// vec4<u32> of quants per 32 weights, or half of one for 2-bit quants; scales decodable per
// sub-block; see repack-units.ts), so the GPU-set matvec reads a unit with 16-byte loads.
// Segment 0 is a whole number of vec4 per block, so every block starts on a 16-byte boundary.
// A kernel finds the halves after the side words from scaleOff alone (numBlocks =
// scaleOff / blockWords): Q5_0 at scaleOff + scaleOff / 4, Q3_K at scaleOff + scaleOff / 8.
//
// Repacked size is the GGUF size rounded up to one word (plus one word of scales
// when the block count is odd), so GPU weight memory ≈ 1.00 × file bytes.
import { GGMLType } from '../model/gguf/types';
import { blockShuffle } from './repack-units';

export interface QuantLayout {
  type: GGMLType;
  /** Elements per block along a row (K must be a multiple of it). */
  blockElems: number;
  /** Bytes per block in GGUF. */
  blockBytes: number;
  /** u32 words per block in segment 0 (F32/F16/BF16: not used). */
  blockWords: number;
  /** u32 words per block in the side segment (after segment 0; written by the type's shuffle). */
  sideWords: number;
  /** Byte offset of the f16 scale `d` inside the GGUF block when it moves to the halves; -1 when it stays. */
  dByteOffset: number;
}

const LAYOUTS: Partial<Record<GGMLType, QuantLayout>> = {
  [GGMLType.F32]: { type: GGMLType.F32, blockElems: 1, blockBytes: 4, blockWords: 1, sideWords: 0, dByteOffset: -1 },
  [GGMLType.F16]: { type: GGMLType.F16, blockElems: 1, blockBytes: 2, blockWords: 0, sideWords: 0, dByteOffset: -1 },
  [GGMLType.Q8_0]: { type: GGMLType.Q8_0, blockElems: 32, blockBytes: 34, blockWords: 8, sideWords: 0, dByteOffset: 0 },
  [GGMLType.Q4_0]: { type: GGMLType.Q4_0, blockElems: 32, blockBytes: 18, blockWords: 4, sideWords: 0, dByteOffset: 0 },
  [GGMLType.BF16]: { type: GGMLType.BF16, blockElems: 1, blockBytes: 2, blockWords: 0, sideWords: 0, dByteOffset: -1 },
  [GGMLType.IQ4_NL]: { type: GGMLType.IQ4_NL, blockElems: 32, blockBytes: 18, blockWords: 4, sideWords: 0, dByteOffset: 0 },
  [GGMLType.Q4_1]: { type: GGMLType.Q4_1, blockElems: 32, blockBytes: 20, blockWords: 4, sideWords: 1, dByteOffset: -1 },
  [GGMLType.Q5_0]: { type: GGMLType.Q5_0, blockElems: 32, blockBytes: 22, blockWords: 4, sideWords: 1, dByteOffset: 0 },
  [GGMLType.Q5_1]: { type: GGMLType.Q5_1, blockElems: 32, blockBytes: 24, blockWords: 4, sideWords: 2, dByteOffset: -1 },
  [GGMLType.Q2_K]: { type: GGMLType.Q2_K, blockElems: 256, blockBytes: 84, blockWords: 20, sideWords: 1, dByteOffset: -1 },
  [GGMLType.Q3_K]: { type: GGMLType.Q3_K, blockElems: 256, blockBytes: 110, blockWords: 24, sideWords: 3, dByteOffset: 108 },
  [GGMLType.IQ4_XS]: { type: GGMLType.IQ4_XS, blockElems: 256, blockBytes: 136, blockWords: 32, sideWords: 2, dByteOffset: -1 },
  [GGMLType.Q4_K]: { type: GGMLType.Q4_K, blockElems: 256, blockBytes: 144, blockWords: 36, sideWords: 0, dByteOffset: -1 },
  [GGMLType.Q5_K]: { type: GGMLType.Q5_K, blockElems: 256, blockBytes: 176, blockWords: 44, sideWords: 0, dByteOffset: -1 },
  [GGMLType.Q6_K]: { type: GGMLType.Q6_K, blockElems: 256, blockBytes: 210, blockWords: 52, sideWords: 0, dByteOffset: 208 },
};

export const SUPPORTED_WEIGHT_TYPES: readonly GGMLType[] = Object.keys(LAYOUTS).map(Number);

/** 16-bit element types (F16, BF16): two elements per word, no blocks. */
export function isHalfWordType(type: GGMLType): boolean {
  return type === GGMLType.F16 || type === GGMLType.BF16;
}

// Each layout's words hold exactly its GGUF block minus the moved d: a typo here would
// shift every block after the first.
for (const l of Object.values(LAYOUTS)) {
  if (l.blockElems === 1) continue;
  const movedBytes = l.dByteOffset < 0 ? 0 : 2;
  const words = l.blockWords + l.sideWords;
  if (words * 4 !== l.blockBytes - movedBytes) throw new Error(`${GGMLType[l.type]} layout: ${words} words for a ${l.blockBytes} B block`);
  const shuffle = blockShuffle(l.type);
  if (shuffle && (shuffle.bytes !== l.blockWords * 4 || shuffle.sideBytes !== l.sideWords * 4)) {
    throw new Error(`${GGMLType[l.type]} reorder: ${shuffle.bytes} + ${shuffle.sideBytes} B for ${l.blockWords} + ${l.sideWords} words`);
  }
  if (l.sideWords > 0 && !shuffle) throw new Error(`${GGMLType[l.type]} layout: side words need a reorder`);
}

export class RepackError extends Error {
  override readonly name = 'RepackError';
  constructor(
    readonly code: 'unsupported_type' | 'bad_shape' | 'bad_length',
    message: string,
  ) {
    super(message);
  }
}

export function quantLayout(type: GGMLType): QuantLayout {
  const l = LAYOUTS[type];
  if (!l) throw new RepackError('unsupported_type', `weight type ${GGMLType[type] ?? type} is not supported on the GPU`);
  return l;
}

/** GGUF bytes of `rows` rows of `cols` elements; throws bad_shape when cols is not a whole number of blocks. */
export function ggufRowBytes(type: GGMLType, cols: number): number {
  const l = quantLayout(type);
  if (!Number.isInteger(cols) || cols <= 0 || cols % l.blockElems !== 0) {
    throw new RepackError('bad_shape', `${GGMLType[type]} rows need a multiple of ${l.blockElems} elements, got ${cols}`);
  }
  return (cols / l.blockElems) * l.blockBytes;
}

export interface RepackedRows {
  /** [totalWords] u32: segment 0, then the side words and the f16 halves (segmentsOf). */
  words: Uint32Array<ArrayBuffer>;
  /** Word offset of the segments after segment 0 (side words, else the f16 halves); 0 when the type has none. */
  scaleOffsetWords: number;
}

/** One segment of a repacked run of blocks: its first word and its length in words. */
export interface Segment {
  start: number;
  words: number;
}

/**
 * The segments of `numBlocks` repacked blocks, in order (segment 0, then the side words and
 * the f16 halves where the type has them); F32/F16/BF16 are one segment.
 */
export function segmentsOf(type: GGMLType, numBlocks: number): Segment[] {
  const l = quantLayout(type);
  if (type === GGMLType.F32) return [{ start: 0, words: numBlocks }];
  if (isHalfWordType(type)) return [{ start: 0, words: Math.ceil(numBlocks / 2) }];
  const out: Segment[] = [{ start: 0, words: numBlocks * l.blockWords }];
  const next = (words: number) => out.push({ start: out[out.length - 1].start + out[out.length - 1].words, words });
  if (l.sideWords > 0) next(numBlocks * l.sideWords);
  if (l.dByteOffset >= 0) next(Math.ceil(numBlocks / 2));
  return out;
}

/** Size in words of the repacked form of `rows` × `cols`, and the offset of the segments after segment 0. */
export function repackedSize(type: GGMLType, rows: number, cols: number): { totalWords: number; scaleOffsetWords: number } {
  const l = quantLayout(type);
  ggufRowBytes(type, cols);
  const segs = segmentsOf(type, (rows * cols) / l.blockElems);
  const last = segs[segs.length - 1];
  return { totalWords: last.start + last.words, scaleOffsetWords: segs.length > 1 ? segs[1].start : 0 };
}

/**
 * Where a chunk's repacked words go inside its part: for blocks [blockStart, blockStart +
 * chunkBlocks) of a part of `partBlocks` blocks (blockStart even, so the halves start on a
 * word), each segment of the chunk (`src`, a word offset into repackRows' words) lands at
 * `dst` of the part's words.
 */
export function chunkPlacement(type: GGMLType, partBlocks: number, blockStart: number, chunkBlocks: number): { src: number; dst: number; words: number }[] {
  const part = segmentsOf(type, partBlocks);
  const chunk = segmentsOf(type, chunkBlocks);
  const before = segmentsOf(type, blockStart); // the words the blocks before the chunk take in each segment
  return chunk.map((seg, i) => ({ src: seg.start, dst: part[i].start + before[i].words, words: seg.words }));
}

/**
 * Repacks GGUF bytes of whole rows (`bytes.length === rows * ggufRowBytes`).
 * `scratch`: where to write (at least totalWords * 4 bytes; zeroed first, so the padding
 * bytes are the same zeros as in a new array), reused by the weight upload across chunks;
 * the returned words are a view of it, valid until the next call with the same scratch.
 */
export function repackRows(type: GGMLType, bytes: Uint8Array, rows: number, cols: number, scratch?: ArrayBuffer): RepackedRows {
  const l = quantLayout(type);
  const expected = rows * ggufRowBytes(type, cols);
  if (bytes.length !== expected) {
    throw new RepackError('bad_length', `${GGMLType[type]} [${rows}, ${cols}] needs ${expected} bytes, got ${bytes.length}`);
  }
  const { totalWords, scaleOffsetWords } = repackedSize(type, rows, cols);
  let out: Uint8Array<ArrayBuffer>;
  if (scratch) {
    if (scratch.byteLength < totalWords * 4) throw new Error(`internal: repack scratch holds ${scratch.byteLength} B, need ${totalWords * 4}`);
    out = new Uint8Array(scratch, 0, totalWords * 4).fill(0);
  } else {
    out = new Uint8Array(totalWords * 4);
  }
  const numBlocks = (rows * cols) / l.blockElems;
  const shuffle = blockShuffle(type);
  if (l.dByteOffset < 0 && !shuffle) {
    // F32, F16, BF16: copy.
    out.set(bytes);
  } else {
    const qBytes = l.blockWords * 4; // bytes of segment 0 per block
    const segs = segmentsOf(type, numBlocks);
    const sideBase = l.sideWords > 0 ? segs[1].start * 4 : 0;
    const halfBase = segs[segs.length - 1].start * 4;
    for (let b = 0; b < numBlocks; b++) {
      const src = b * l.blockBytes;
      // segments 0 and side: every byte of the block except the two bytes of d (first or last)
      const from = l.dByteOffset === 0 ? src + 2 : src;
      if (shuffle) shuffle.pack(bytes, from, out, b * qBytes, sideBase + b * 4 * l.sideWords);
      else out.set(bytes.subarray(from, from + qBytes), b * qBytes);
      if (l.dByteOffset < 0) continue;
      const d = src + l.dByteOffset;
      out[halfBase + 2 * b] = bytes[d];
      out[halfBase + 2 * b + 1] = bytes[d + 1];
    }
  }
  return { words: new Uint32Array(out.buffer, 0, totalWords), scaleOffsetWords };
}

/** Exact inverse of repackRows: the GGUF bytes back. */
export function unrepackRows(type: GGMLType, words: Uint32Array, rows: number, cols: number): Uint8Array {
  const l = quantLayout(type);
  const rowBytes = ggufRowBytes(type, cols);
  const { totalWords } = repackedSize(type, rows, cols);
  if (words.length < totalWords) throw new RepackError('bad_length', `need ${totalWords} words, got ${words.length}`);
  const src = new Uint8Array(words.buffer, words.byteOffset, totalWords * 4);
  const out = new Uint8Array(rows * rowBytes);
  const numBlocks = (rows * cols) / l.blockElems;
  const shuffle = blockShuffle(type);
  if (l.dByteOffset < 0 && !shuffle) {
    out.set(src.subarray(0, out.length));
    return out;
  }
  const qBytes = l.blockWords * 4;
  const segs = segmentsOf(type, numBlocks);
  const sideBase = l.sideWords > 0 ? segs[1].start * 4 : 0;
  const halfBase = segs[segs.length - 1].start * 4;
  for (let b = 0; b < numBlocks; b++) {
    const dst = b * l.blockBytes;
    const to = l.dByteOffset === 0 ? dst + 2 : dst;
    if (shuffle) shuffle.unpack(src, b * qBytes, sideBase + b * 4 * l.sideWords, out, to);
    else out.set(src.subarray(b * qBytes, (b + 1) * qBytes), to);
    if (l.dByteOffset < 0) continue;
    const d = dst + l.dByteOffset;
    out[d] = src[halfBase + 2 * b];
    out[d + 1] = src[halfBase + 2 * b + 1];
  }
  return out;
}
