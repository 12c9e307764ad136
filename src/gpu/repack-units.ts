// In-block reorders of the K-quant super-blocks (Q4_K, Q5_K, Q6_K) into per-unit layouts:
// every 32-weight sub-block ("unit", what one matvec lane reads at a time) gets its quants
// as one 16-byte-aligned vec4<u32>, and the 6-bit (scale, min) pairs of Q4_K/Q5_K are
// stored so that one word decodes a sub-block's pair without a branch. The bytes of a
// block stay the same number (a permutation of bits), so the layouts keep ≈1.00× the file
// size and chunked uploads (weights.ts) stay block-aligned. The exact inverse gives the
// GGUF bytes back (tests, and the proof that nothing is lost).
//
//   Q4_K (144 B = 9 vec4)           Q5_K (176 B = 11 vec4)           Q6_K seg0 (208 B = 13 vec4; d in seg1)
//   vec4 0   d, dmin, scales'       vec4 0    d, dmin, scales'       vec4 0..7   ql': sub-block s
//   vec4 1+s nibbles' of sub-blk s  vec4 1..2 qh': word s = sub-blk s vec4 8..11  qh': 2 words per sub-block
//                                   vec4 3+s  nibbles' of sub-blk s  vec4 12     scales[16] i8 (as in GGUF)
//
//   nibbles' (16 B per sub-block): byte i = element i (low nibble) | element i + 16 (high)
//   scales' (12 B): byte s (0..7) = sc[s] | (m[s] >> 4) << 6;  byte 8 + s/2, nibble s%2 = m[s] & 15
//   Q5_K qh' : bit i of word s = 5th bit of element i of sub-block s
//   Q6_K qh' : element i's 2 high bits at word (i >> 2) & 1, byte i & 3, bits 2(i >> 3)
// (a sub-block's elements are 32s .. 32s + 31 of the super-block, as in GGUF.)
// So run r (elements 8r .. 8r+7) of a sub-block is nibble words (2r) % 4 and (2r) % 4 + 1,
// the high nibbles when r >= 2 — the same words as Q4_0's block.
import { GGMLType } from '../model/gguf/types';

export interface BlockShuffle {
  /** Bytes per block that are reordered (segment 0 of the block). */
  readonly bytes: number;
  /** GGUF order (`bytes` at src[from]) → per-unit order (at dst[to]); distinct arrays. Offsets,
   * not subarrays: a subarray per block was most of the load's repack time. */
  pack(src: Uint8Array, from: number, dst: Uint8Array, to: number): void;
  /** Per-unit order → GGUF order. */
  unpack(src: Uint8Array, from: number, dst: Uint8Array, to: number): void;
}

// ggml's get_scale_min_k4 over all 8 sub-blocks: 12 packed bytes at `o` → (sc, m) 6-bit.
function unpackScales12(q: Uint8Array, o: number, sc: Uint8Array, m: Uint8Array): void {
  for (let j = 0; j < 4; j++) {
    sc[j] = q[o + j] & 63;
    m[j] = q[o + j + 4] & 63;
    sc[j + 4] = (q[o + j + 8] & 15) | ((q[o + j] >> 6) << 4);
    m[j + 4] = (q[o + j + 8] >> 4) | ((q[o + j + 4] >> 6) << 4);
  }
}

// The inverse: every one of the 96 bits is a bit of some sc or m, so this is exact.
function packScales12(sc: Uint8Array, m: Uint8Array, q: Uint8Array, o: number): void {
  for (let j = 0; j < 4; j++) {
    q[o + j] = sc[j] | ((sc[j + 4] >> 4) << 6);
    q[o + j + 4] = m[j] | ((m[j + 4] >> 4) << 6);
    q[o + j + 8] = (sc[j + 4] & 15) | ((m[j + 4] & 15) << 4);
  }
}

// scales' (see the header) ↔ (sc, m).
function writeScalesUnit(sc: Uint8Array, m: Uint8Array, q: Uint8Array, o: number): void {
  for (let s = 0; s < 8; s++) q[o + s] = sc[s] | ((m[s] >> 4) << 6);
  for (let j = 0; j < 4; j++) q[o + 8 + j] = (m[2 * j] & 15) | ((m[2 * j + 1] & 15) << 4);
}

function readScalesUnit(q: Uint8Array, o: number, sc: Uint8Array, m: Uint8Array): void {
  for (let s = 0; s < 8; s++) {
    sc[s] = q[o + s] & 63;
    m[s] = ((q[o + 8 + (s >> 1)] >> (4 * (s & 1))) & 15) | ((q[o + s] >> 6) << 4);
  }
}

const sc8 = new Uint8Array(8);
const m8 = new Uint8Array(8);

// Q4_K/Q5_K nibbles: GGUF chunk j (32 B at `from`) holds sub-block 2j (low) and 2j+1 (high)
// at byte e; the unit layout gives sub-block s 16 B at `to + 16s`.
function packNibblesK(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  for (let s = 0; s < 8; s++) {
    const chunk = from + 32 * (s >> 1);
    const shift = 4 * (s & 1);
    for (let i = 0; i < 16; i++) {
      dst[to + 16 * s + i] = ((src[chunk + i] >> shift) & 15) | (((src[chunk + i + 16] >> shift) & 15) << 4);
    }
  }
}

function unpackNibblesK(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  for (let j = 0; j < 4; j++) {
    const lo = from + 32 * j; // sub-block 2j
    const hi = lo + 16; // sub-block 2j + 1
    for (let i = 0; i < 16; i++) {
      dst[to + 32 * j + i] = (src[lo + i] & 15) | ((src[hi + i] & 15) << 4);
      dst[to + 32 * j + i + 16] = (src[lo + i] >> 4) | ((src[hi + i] >> 4) << 4);
    }
  }
}

function headerPack(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  for (let i = 0; i < 4; i++) dst[to + i] = src[from + i]; // d, dmin
  unpackScales12(src, from + 4, sc8, m8);
  writeScalesUnit(sc8, m8, dst, to + 4);
}

function headerUnpack(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  for (let i = 0; i < 4; i++) dst[to + i] = src[from + i];
  readScalesUnit(src, from + 4, sc8, m8);
  packScales12(sc8, m8, dst, to + 4);
}

const Q4_K: BlockShuffle = {
  bytes: 144,
  pack(src, from, dst, to) {
    headerPack(src, from, dst, to);
    packNibblesK(src, from + 16, dst, to + 16);
  },
  unpack(src, from, dst, to) {
    headerUnpack(src, from, dst, to);
    unpackNibblesK(src, from + 16, dst, to + 16);
  },
};

// Q5_K qh: GGUF byte i (of 32, at 16) bit s ↔ unit word s (at 16 + 4s) bit i.
const Q5_K: BlockShuffle = {
  bytes: 176,
  pack(src, from, dst, to) {
    headerPack(src, from, dst, to);
    for (let s = 0; s < 8; s++) {
      let word = 0;
      for (let i = 0; i < 32; i++) word |= ((src[from + 16 + i] >> s) & 1) << i;
      for (let b = 0; b < 4; b++) dst[to + 16 + 4 * s + b] = (word >>> (8 * b)) & 255;
    }
    packNibblesK(src, from + 48, dst, to + 48);
  },
  unpack(src, from, dst, to) {
    headerUnpack(src, from, dst, to);
    for (let i = 0; i < 32; i++) {
      let byte = 0;
      for (let s = 0; s < 8; s++) byte |= ((src[from + 16 + 4 * s + (i >> 3)] >> (i & 7)) & 1) << s;
      dst[to + 16 + i] = byte;
    }
    unpackNibblesK(src, from + 48, dst, to + 48);
  },
};

// Q6_K element (sub-block s = 4h + g, i): GGUF low nibble at ql[64h + 32(g & 1) + i] (high
// nibble when g >= 2), 2 high bits at qh[32h + i] >> 2g. ql at 0, qh at 128, scales at 192.
// Unit layout: high bits of element i of sub-block s at byte 128 + 8s + Q6_HIGH_BYTE[i], bit
// 2(i >> 3).
const Q6_HIGH_BYTE = Uint8Array.from({ length: 32 }, (_, i) => 4 * ((i >> 2) & 1) + (i & 3));

const Q6_K: BlockShuffle = {
  bytes: 208,
  pack(src, from, dst, to) {
    dst.fill(0, to, to + 192);
    for (let s = 0; s < 8; s++) {
      const ql = from + 64 * (s >> 2) + 32 * (s & 1);
      const lowShift = (s & 3) >= 2 ? 4 : 0;
      for (let i = 0; i < 16; i++) dst[to + 16 * s + i] = ((src[ql + i] >> lowShift) & 15) | (((src[ql + i + 16] >> lowShift) & 15) << 4);
      const qh = from + 128 + 32 * (s >> 2);
      const g2 = 2 * (s & 3);
      for (let i = 0; i < 32; i++) dst[to + 128 + 8 * s + Q6_HIGH_BYTE[i]] |= ((src[qh + i] >> g2) & 3) << (2 * (i >> 3));
    }
    for (let i = 192; i < 208; i++) dst[to + i] = src[from + i];
  },
  unpack(src, from, dst, to) {
    dst.fill(0, to, to + 192);
    for (let s = 0; s < 8; s++) {
      const ql = to + 64 * (s >> 2) + 32 * (s & 1);
      const lowShift = (s & 3) >= 2 ? 4 : 0;
      const qh = to + 128 + 32 * (s >> 2);
      const g2 = 2 * (s & 3);
      for (let i = 0; i < 32; i++) {
        dst[ql + i] |= ((src[from + 16 * s + (i & 15)] >> (i >= 16 ? 4 : 0)) & 15) << lowShift;
        dst[qh + i] |= ((src[from + 128 + 8 * s + Q6_HIGH_BYTE[i]] >> (2 * (i >> 3))) & 3) << g2;
      }
    }
    for (let i = 192; i < 208; i++) dst[to + i] = src[from + i];
  },
};

const SHUFFLES: Partial<Record<GGMLType, BlockShuffle>> = {
  [GGMLType.Q4_K]: Q4_K,
  [GGMLType.Q5_K]: Q5_K,
  [GGMLType.Q6_K]: Q6_K,
};

/** The in-block reorder of `type`, if it has one. */
export function blockShuffle(type: GGMLType): BlockShuffle | undefined {
  return SHUFFLES[type];
}
