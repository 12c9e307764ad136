// Repacking GGUF weight rows into u32-aligned layouts for the WGSL kernels, and the
// exact inverse (used by tests to prove the repack loses nothing).
//
// GGUF blocks are not always 4-byte aligned (Q4_0 is 18 bytes, Q8_0 34, Q6_K 210),
// and WGSL storage reads are u32. Each quant type is split into separate segments
// inside one u32 array, so no byte is padded per block:
//
//   type   | block (elems, bytes) | segment 0: per-block words            | segment 1 (at scaleOffsetWords)
//   F32    | 1, 4                 | the floats                             | —
//   F16    | 1, 2                 | halves, two per word (element e in     | —
//   BF16   | 1, 2                 |   word e>>1, low half when e is even)  | —
//   Q8_0   | 32, 34               | 8 words: 32 i8 quants                  | f16 d, two blocks per word
//   Q4_0   | 32, 18               | 4 words: 16 bytes of nibbles           | f16 d, two blocks per word
//   IQ4_NL | 32, 18               | 4 words: 16 bytes of nibbles           | f16 d, two blocks per word
//   Q4_1   | 32, 20               | 5 words: the block as is (aligned)     | —
//   Q5_0   | 32, 22               | 5 words: qh[4] qs[16]                  | f16 d, two blocks per word
//   Q5_1   | 32, 24               | 6 words: the block as is (aligned)     | —
//   Q2_K   | 256, 84              | 21 words: the block as is (aligned)    | —
//   Q3_K   | 256, 110             | 27 words: hmask[32] qs[64] scales[12]  | f16 d, two blocks per word
//   Q4_K   | 256, 144             | 36 words: the block, reordered per unit | —
//   Q5_K   | 256, 176             | 44 words: the block, reordered per unit | —
//   Q6_K   | 256, 210             | 52 words: ql qh scales, reordered p. u. | f16 d, two blocks per word
//   IQ4_XS | 256, 136             | 34 words: the block as is (aligned)    | —
//
// Q4_K, Q5_K and Q6_K blocks are then reordered in place into per-unit layouts (one
// aligned vec4<u32> of quants per 32 weights, scales decodable per sub-block; see
// repack-units.ts), so the GPU-set matvec reads a unit with 16-byte loads. Every block
// starts on a 16-byte boundary (Q8_0: 2 vec4, Q4_0/IQ4_NL: 1, Q4_K: 9, Q5_K: 11, Q6_K: 13).
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
  /** u32 words per block in segment 0 (F32/F16: not used, see elementWords). */
  blockWords: number;
  /** Byte offset of the f16 scale `d` inside the GGUF block when it moves to segment 1; -1 when it stays. */
  dByteOffset: number;
}

const LAYOUTS: Partial<Record<GGMLType, QuantLayout>> = {
  [GGMLType.F32]: { type: GGMLType.F32, blockElems: 1, blockBytes: 4, blockWords: 1, dByteOffset: -1 },
  [GGMLType.F16]: { type: GGMLType.F16, blockElems: 1, blockBytes: 2, blockWords: 0, dByteOffset: -1 },
  [GGMLType.Q8_0]: { type: GGMLType.Q8_0, blockElems: 32, blockBytes: 34, blockWords: 8, dByteOffset: 0 },
  [GGMLType.Q4_0]: { type: GGMLType.Q4_0, blockElems: 32, blockBytes: 18, blockWords: 4, dByteOffset: 0 },
  [GGMLType.BF16]: { type: GGMLType.BF16, blockElems: 1, blockBytes: 2, blockWords: 0, dByteOffset: -1 },
  [GGMLType.IQ4_NL]: { type: GGMLType.IQ4_NL, blockElems: 32, blockBytes: 18, blockWords: 4, dByteOffset: 0 },
  [GGMLType.Q4_1]: { type: GGMLType.Q4_1, blockElems: 32, blockBytes: 20, blockWords: 5, dByteOffset: -1 },
  [GGMLType.Q5_0]: { type: GGMLType.Q5_0, blockElems: 32, blockBytes: 22, blockWords: 5, dByteOffset: 0 },
  [GGMLType.Q5_1]: { type: GGMLType.Q5_1, blockElems: 32, blockBytes: 24, blockWords: 6, dByteOffset: -1 },
  [GGMLType.Q2_K]: { type: GGMLType.Q2_K, blockElems: 256, blockBytes: 84, blockWords: 21, dByteOffset: -1 },
  [GGMLType.Q3_K]: { type: GGMLType.Q3_K, blockElems: 256, blockBytes: 110, blockWords: 27, dByteOffset: 108 },
  [GGMLType.IQ4_XS]: { type: GGMLType.IQ4_XS, blockElems: 256, blockBytes: 136, blockWords: 34, dByteOffset: -1 },
  [GGMLType.Q4_K]: { type: GGMLType.Q4_K, blockElems: 256, blockBytes: 144, blockWords: 36, dByteOffset: -1 },
  [GGMLType.Q5_K]: { type: GGMLType.Q5_K, blockElems: 256, blockBytes: 176, blockWords: 44, dByteOffset: -1 },
  [GGMLType.Q6_K]: { type: GGMLType.Q6_K, blockElems: 256, blockBytes: 210, blockWords: 52, dByteOffset: 208 },
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
  if (l.blockWords * 4 !== l.blockBytes - movedBytes) throw new Error(`${GGMLType[l.type]} layout: ${l.blockWords} words for a ${l.blockBytes} B block`);
  const shuffle = blockShuffle(l.type);
  if (shuffle && shuffle.bytes !== l.blockWords * 4) throw new Error(`${GGMLType[l.type]} reorder: ${shuffle.bytes} B for ${l.blockWords} words`);
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
  /** [totalWords] u32: segment 0 then segment 1. */
  words: Uint32Array<ArrayBuffer>;
  /** Word offset of segment 1 (the f16 scales); 0 when the type has none. */
  scaleOffsetWords: number;
}

/** Size in words of the repacked form of `rows` × `cols`, and the scale segment offset. */
export function repackedSize(type: GGMLType, rows: number, cols: number): { totalWords: number; scaleOffsetWords: number } {
  const l = quantLayout(type);
  ggufRowBytes(type, cols);
  const numBlocks = (rows * cols) / l.blockElems;
  if (type === GGMLType.F32) return { totalWords: numBlocks, scaleOffsetWords: 0 };
  if (isHalfWordType(type)) return { totalWords: Math.ceil(numBlocks / 2), scaleOffsetWords: 0 };
  const seg0 = numBlocks * l.blockWords;
  if (l.dByteOffset < 0) return { totalWords: seg0, scaleOffsetWords: 0 };
  return { totalWords: seg0 + Math.ceil(numBlocks / 2), scaleOffsetWords: seg0 };
}

/** Repacks GGUF bytes of whole rows (`bytes.length === rows * ggufRowBytes`). */
/**
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
    // F32, F16, BF16 and the word-aligned blocks (Q4_1, Q5_1, Q2_K, IQ4_XS): copy.
    out.set(bytes);
  } else {
    const qBytes = l.blockWords * 4; // bytes of segment 0 per block
    const scaleBase = scaleOffsetWords * 4;
    for (let b = 0; b < numBlocks; b++) {
      const src = b * l.blockBytes;
      // segment 0: every byte of the block except the two bytes of d (first or last), in order
      const from = l.dByteOffset === 0 ? src + 2 : src;
      if (shuffle) shuffle.pack(bytes, from, out, b * qBytes);
      else out.set(bytes.subarray(from, from + qBytes), b * qBytes);
      if (l.dByteOffset < 0) continue;
      const d = src + l.dByteOffset;
      out[scaleBase + 2 * b] = bytes[d];
      out[scaleBase + 2 * b + 1] = bytes[d + 1];
    }
  }
  return { words: new Uint32Array(out.buffer, 0, totalWords), scaleOffsetWords };
}

/** Exact inverse of repackRows: the GGUF bytes back. */
export function unrepackRows(type: GGMLType, words: Uint32Array, rows: number, cols: number): Uint8Array {
  const l = quantLayout(type);
  const rowBytes = ggufRowBytes(type, cols);
  const { totalWords, scaleOffsetWords } = repackedSize(type, rows, cols);
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
  const scaleBase = scaleOffsetWords * 4;
  for (let b = 0; b < numBlocks; b++) {
    const dst = b * l.blockBytes;
    const to = l.dByteOffset === 0 ? dst + 2 : dst;
    if (shuffle) shuffle.unpack(src, b * qBytes, out, to);
    else out.set(src.subarray(b * qBytes, (b + 1) * qBytes), to);
    if (l.dByteOffset < 0) continue;
    const d = dst + l.dByteOffset;
    out[d] = src[scaleBase + 2 * b];
    out[d + 1] = src[scaleBase + 2 * b + 1];
  }
  return out;
}
