// In-block reorders into per-unit layouts: every 32-weight unit (what one matvec lane reads
// at a time; a K-quant sub-block) gets its quants in one 16-byte-aligned vec4<u32> (or half
// of one: Q2_K/Q3_K's 2-bit quants are 8 bytes per unit), and the 6-bit (scale, min) pairs
// of Q4_K/Q5_K are stored so that one word decodes a sub-block's pair without a branch. Where
// a GGUF block is not a multiple of 16 bytes, its per-block side data (d/m, qh, scales) moves
// to a side segment of whole words (repack.ts `sideWords`), so every block's quants start on
// a 16-byte boundary. The bytes of a block stay the same number (a permutation), so the
// layouts keep ≈1.00× the file size and chunked uploads (weights.ts) stay block-aligned. The
// exact inverse gives the GGUF bytes back (tests, and the proof that nothing is lost).
//
//   Q4_K (144 B = 9 vec4)           Q5_K (176 B = 11 vec4)           Q6_K seg0 (208 B = 13 vec4; d in seg1)
//   vec4 0   d, dmin, scales'       vec4 0    d, dmin, scales'       vec4 0..7   ql': sub-block s
//   vec4 1+s nibbles' of sub-blk s  vec4 1..2 qh': word s = sub-blk s vec4 8..11  qh': 2 words per sub-block
//                                   vec4 3+s  nibbles' of sub-blk s  vec4 12     scales[16] i8 (as in GGUF)
//
//   Q2_K (80 B = 5 vec4 + side 1 word)      Q3_K (96 B = 6 vec4 + side 3 words; d in the halves)
//   vec4 0      scales[16] (as in GGUF)     vec4 0..1  hmask': word s = sub-block s's 3rd bits
//   vec4 1..4   q2': 2 words per sub-block  vec4 2..5  q2': 2 words per sub-block (low 2 bits)
//   side        f16 d, f16 dmin             side       scales[12] (as in GGUF)
//
//   Q4_1, Q5_0, Q5_1 (block b = vec4 b: its 16 bytes of nibbles, as in GGUF); side: Q4_1 f16 d, m |
//   Q5_0 qh (d in the halves) | Q5_1 f16 d, m then qh.   IQ4_XS (8 vec4: qs as in GGUF, sub-block s
//   = vec4 s); side: f16 d | scales_h << 16, then scales_l.
//
//   nibbles' (16 B per sub-block): byte i = element i (low nibble) | element i + 16 (high)
//   scales' (12 B): byte s (0..7) = sc[s] | (m[s] >> 4) << 6;  byte 8 + s/2, nibble s%2 = m[s] & 15
//   bit planes (Q5_K qh', Q3_K hmask'): bit i of word s = the bit of element i of sub-block s
//   2-bit pairs (Q6_K qh', Q2_K/Q3_K q2'): element i's 2 bits at word (i >> 2) & 1, byte i & 3,
//     bits 2(i >> 3), so run r is bits 2r of the bytes of word 0 (lo) and word 1 (hi)
// (a sub-block's elements are 32s .. 32s + 31 of the super-block, as in GGUF.)
// So run r (elements 8r .. 8r+7) of a sub-block is nibble words (2r) % 4 and (2r) % 4 + 1,
// the high nibbles when r >= 2 — the same words as Q4_0's block.
import { GGMLType } from '../model/gguf/types';

export interface BlockShuffle {
  /** Bytes per block of segment 0 (the quants, and Q4_K/Q5_K's head). */
  readonly bytes: number;
  /** Bytes per block of the side segment (repack.ts `sideWords` × 4); 0 for most types. */
  readonly sideBytes: number;
  /** GGUF order (`bytes + sideBytes` at src[from], d already left out) → per-unit order (segment 0
   * at dst[to], side data at dst[sideTo]); distinct arrays. Offsets, not subarrays: a subarray
   * per block was most of the load's repack time. */
  pack(src: Uint8Array, from: number, dst: Uint8Array, to: number, sideTo: number): void;
  /** Per-unit order (segment 0 at src[from], side data at src[sideFrom]) → GGUF order at dst[to]. */
  unpack(src: Uint8Array, from: number, sideFrom: number, dst: Uint8Array, to: number): void;
}

function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  for (let i = 0; i < n; i++) dst[to + i] = src[from + i];
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
  sideBytes: 0,
  pack(src, from, dst, to) {
    headerPack(src, from, dst, to);
    packNibblesK(src, from + 16, dst, to + 16);
  },
  unpack(src, from, _sideFrom, dst, to) {
    headerUnpack(src, from, dst, to);
    unpackNibblesK(src, from + 16, dst, to + 16);
  },
};

// Bit planes (Q5_K qh, Q3_K hmask): GGUF byte i (of 32) bit s ↔ unit word s bit i.
function packBitPlanes(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  for (let s = 0; s < 8; s++) {
    let word = 0;
    for (let i = 0; i < 32; i++) word |= ((src[from + i] >> s) & 1) << i;
    for (let b = 0; b < 4; b++) dst[to + 4 * s + b] = (word >>> (8 * b)) & 255;
  }
}

function unpackBitPlanes(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  for (let i = 0; i < 32; i++) {
    let byte = 0;
    for (let s = 0; s < 8; s++) byte |= ((src[from + 4 * s + (i >> 3)] >> (i & 7)) & 1) << s;
    dst[to + i] = byte;
  }
}

// 2-bit pairs (Q6_K qh, Q2_K/Q3_K qs; 64 B): GGUF element i of sub-block s = 4h + g at byte
// 32h + i, bits 2g ↔ unit byte 8s + PAIR_BYTE[i], bits 2(i >> 3).
const PAIR_BYTE = Uint8Array.from({ length: 32 }, (_, i) => 4 * ((i >> 2) & 1) + (i & 3));

function pack2Bits(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  dst.fill(0, to, to + 64);
  for (let s = 0; s < 8; s++) {
    const q = from + 32 * (s >> 2);
    const g2 = 2 * (s & 3);
    for (let i = 0; i < 32; i++) dst[to + 8 * s + PAIR_BYTE[i]] |= ((src[q + i] >> g2) & 3) << (2 * (i >> 3));
  }
}

function unpack2Bits(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
  dst.fill(0, to, to + 64);
  for (let s = 0; s < 8; s++) {
    const q = to + 32 * (s >> 2);
    const g2 = 2 * (s & 3);
    for (let i = 0; i < 32; i++) dst[q + i] |= ((src[from + 8 * s + PAIR_BYTE[i]] >> (2 * (i >> 3))) & 3) << g2;
  }
}

// Q5_K: qh (32 B at 16) as bit planes.
const Q5_K: BlockShuffle = {
  bytes: 176,
  sideBytes: 0,
  pack(src, from, dst, to) {
    headerPack(src, from, dst, to);
    packBitPlanes(src, from + 16, dst, to + 16);
    packNibblesK(src, from + 48, dst, to + 48);
  },
  unpack(src, from, _sideFrom, dst, to) {
    headerUnpack(src, from, dst, to);
    unpackBitPlanes(src, from + 16, dst, to + 16);
    unpackNibblesK(src, from + 48, dst, to + 48);
  },
};

// Q6_K element (sub-block s = 4h + g, i): GGUF low nibble at ql[64h + 32(g & 1) + i] (high
// nibble when g >= 2), 2 high bits at qh[32h + i] >> 2g (2-bit pairs). ql at 0, qh at 128,
// scales at 192.
const Q6_K: BlockShuffle = {
  bytes: 208,
  sideBytes: 0,
  pack(src, from, dst, to) {
    for (let s = 0; s < 8; s++) {
      const ql = from + 64 * (s >> 2) + 32 * (s & 1);
      const lowShift = (s & 3) >= 2 ? 4 : 0;
      for (let i = 0; i < 16; i++) dst[to + 16 * s + i] = ((src[ql + i] >> lowShift) & 15) | (((src[ql + i + 16] >> lowShift) & 15) << 4);
    }
    pack2Bits(src, from + 128, dst, to + 128);
    copyBytes(src, from + 192, dst, to + 192, 16);
  },
  unpack(src, from, _sideFrom, dst, to) {
    dst.fill(0, to, to + 128);
    for (let s = 0; s < 8; s++) {
      const ql = to + 64 * (s >> 2) + 32 * (s & 1);
      const lowShift = (s & 3) >= 2 ? 4 : 0;
      for (let i = 0; i < 32; i++) dst[ql + i] |= ((src[from + 16 * s + (i & 15)] >> (i >= 16 ? 4 : 0)) & 15) << lowShift;
    }
    unpack2Bits(src, from + 128, dst, to + 128);
    copyBytes(src, from + 192, dst, to + 192, 16);
  },
};

// Q2_K (84 B: scales[16] qs[64] d dmin): scales stay, qs as 2-bit pairs, d/dmin to the side.
const Q2_K: BlockShuffle = {
  bytes: 80,
  sideBytes: 4,
  pack(src, from, dst, to, sideTo) {
    copyBytes(src, from, dst, to, 16);
    pack2Bits(src, from + 16, dst, to + 16);
    copyBytes(src, from + 80, dst, sideTo, 4);
  },
  unpack(src, from, sideFrom, dst, to) {
    copyBytes(src, from, dst, to, 16);
    unpack2Bits(src, from + 16, dst, to + 16);
    copyBytes(src, sideFrom, dst, to + 80, 4);
  },
};

// Q3_K (108 B without d: hmask[32] qs[64] scales[12]): hmask as bit planes, qs as 2-bit
// pairs, scales to the side.
const Q3_K: BlockShuffle = {
  bytes: 96,
  sideBytes: 12,
  pack(src, from, dst, to, sideTo) {
    packBitPlanes(src, from, dst, to);
    pack2Bits(src, from + 32, dst, to + 32);
    copyBytes(src, from + 96, dst, sideTo, 12);
  },
  unpack(src, from, sideFrom, dst, to) {
    unpackBitPlanes(src, from, dst, to);
    unpack2Bits(src, from + 32, dst, to + 32);
    copyBytes(src, sideFrom, dst, to + 96, 12);
  },
};

// Blocks that are [side data | 16-byte quants] in GGUF (d of Q5_0 already left out): the side
// data moves to the side segment, the quants stay in order.
function sideFirst(sideBytes: number, bytes: number): BlockShuffle {
  return {
    bytes,
    sideBytes,
    pack(src, from, dst, to, sideTo) {
      copyBytes(src, from, dst, sideTo, sideBytes);
      copyBytes(src, from + sideBytes, dst, to, bytes);
    },
    unpack(src, from, sideFrom, dst, to) {
      copyBytes(src, sideFrom, dst, to, sideBytes);
      copyBytes(src, from, dst, to + sideBytes, bytes);
    },
  };
}

const SHUFFLES: Partial<Record<GGMLType, BlockShuffle>> = {
  [GGMLType.Q4_1]: sideFirst(4, 16), // f16 d, f16 m | qs[16]
  [GGMLType.Q5_0]: sideFirst(4, 16), // qh | qs[16]
  [GGMLType.Q5_1]: sideFirst(8, 16), // f16 d, f16 m, qh | qs[16]
  [GGMLType.IQ4_XS]: sideFirst(8, 128), // f16 d, u16 scales_h, scales_l[4] | qs[128]
  [GGMLType.Q2_K]: Q2_K,
  [GGMLType.Q3_K]: Q3_K,
  [GGMLType.Q4_K]: Q4_K,
  [GGMLType.Q5_K]: Q5_K,
  [GGMLType.Q6_K]: Q6_K,
};

/** The in-block reorder of `type`, if it has one. */
export function blockShuffle(type: GGMLType): BlockShuffle | undefined {
  return SHUFFLES[type];
}
