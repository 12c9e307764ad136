// Shared by every weight-type snippet (matmul-dequant-<type>.wgsl). The kernel body
// that includes these declares `w: array<u32>` — one repacked weight part (see
// src/gpu/repack.ts). Each type snippet defines
//   fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8
// returning the 8 dequantized weights row[k0 .. k0+8) (k0 a multiple of 8; elements
// at or past `cols` read as 0). Eight is the largest run that always shares one
// scale in every quant type (Q6_K sub-blocks are 16), so one call reads each scale once.
// and
//   fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32
// returning unit u of the row (elements 32u .. 32u+32) as its 4 runs of 8, each run the
// same f32 values loadW8 returns (the same expressions), its quants read through `w4` with
// 16-byte loads (every type; F16/F32/BF16 rows whose unit is not 16-byte aligned or not
// whole build it from four loadW8, `unitOf8`), its scales decoded once per unit. Only the
// GPU-set matvec calls loadUnit; the other bodies do not use `w4`, so it is not in their
// pipeline layouts.

// The same weight part as `w`, bound again as vec4 (binding 6; every body leaves 6 free).
// Its buffer is padded to 16 bytes (weights.ts), so the last words are reachable.
@group(0) @binding(6) var<storage, read> w4: array<vec4<u32>>; // [repacked part / 16 B] vec4<u32>

struct W8 {
  lo: vec4f,  // elements k0 .. k0+3
  hi: vec4f,  // elements k0+4 .. k0+7
}

// One unit: runs 0..3 (elements 32u + 8r .. 32u + 8r + 8).
alias W32 = array<W8, 4>;

// A unit as four loadW8 (ragged F16/F32/BF16 rows).
fn unitOf8(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let k0 = u * 32u;
  return W32(loadW8(row, k0, cols, scaleOff), loadW8(row, k0 + 8u, cols, scaleOff),
             loadW8(row, k0 + 16u, cols, scaleOff), loadW8(row, k0 + 24u, cols, scaleOff));
}

// The f16 at half-word index `h` of `w` (two per word, low half first).
fn halfAt(h: u32) -> f32 {
  let v = unpack2x16float(w[h >> 1u]);
  return select(v.x, v.y, (h & 1u) == 1u);
}

// Byte `j` (little-endian) of the words starting at `word`.
fn byteAt(word: u32, j: u32) -> u32 {
  return (w[word + (j >> 2u)] >> (8u * (j & 3u))) & 0xffu;
}

// The four bytes of `v` as signed integers, as floats.
fn i8x4(v: u32) -> vec4f {
  return vec4f((vec4i(bitcast<i32>(v << 24u), bitcast<i32>(v << 16u), bitcast<i32>(v << 8u), bitcast<i32>(v)) >> vec4u(24u)));
}

// One nibble (at bit `shift` of each byte, 0 or 4) of each of the four bytes of `v`.
fn nib4(v: u32, shift: u32) -> vec4f {
  return vec4f((vec4u(v) >> vec4u(shift, shift + 8u, shift + 16u, shift + 24u)) & vec4u(0xfu));
}

// Two bits (at bit `shift` of each byte) of each of the four bytes of `v`.
fn bits2x4(v: u32, shift: u32) -> vec4f {
  return vec4f((vec4u(v) >> vec4u(shift, shift + 8u, shift + 16u, shift + 24u)) & vec4u(3u));
}

// One bit (at bit `bit` of each byte) of each of the four bytes of `v`.
fn bit1x4(v: u32, bit: u32) -> vec4f {
  return vec4f((vec4u(v) >> vec4u(bit, bit + 8u, bit + 16u, bit + 24u)) & vec4u(1u));
}

// Q4_K, Q5_K: the 6-bit (scale, min) of sub-block s from the repacked scale words
// (src/gpu/repack-units.ts): `scWord` = the word holding byte s (word 1 + s/4 of the block:
// sc[s] | (m[s] >> 4) << 6), `mWord` = word 3 (m[s] & 15 as nibble s).
fn scaleMinK(scWord: u32, mWord: u32, s: u32) -> vec2f {
  let b = (scWord >> (8u * (s % 4u))) & 0xffu;
  return vec2f(f32(b & 63u), f32(((mWord >> (4u * s)) & 0xfu) | ((b >> 6u) << 4u)));
}

// Q4_K / Q5_K (repacked, repack-units.ts): (d·scale, dmin·min) of sub-block s from the block's
// head vec4 (x: f16 d, dmin; y, z: scale bytes of sub-blocks 0–3 / 4–7; w: the min nibbles).
fn headScaleOffset(head: vec4<u32>, s: u32) -> vec2f {
  let dm = unpack2x16float(head.x);
  let sm = scaleMinK(select(head.y, head.z, s >= 4u), head.w, s);
  return vec2f(dm.x * sm.x, dm.y * sm.y);
}

// The 32 nibbles of a unit stored as Q4_0's 16 bytes (byte i: element i low, element
// i + 16 high), in run order: [2r] = elements 8r .. 8r+3, [2r + 1] = 8r+4 .. 8r+7 (run r
// is words (2r) % 4 and (2r) % 4 + 1, the high nibbles for r >= 2; loadW8 reads the same).
fn nibRuns(q: vec4<u32>) -> array<vec4f, 8> {
  return array<vec4f, 8>(nib4(q.x, 0u), nib4(q.y, 0u), nib4(q.z, 0u), nib4(q.w, 0u),
                         nib4(q.x, 4u), nib4(q.y, 4u), nib4(q.z, 4u), nib4(q.w, 4u));
}

// One bit (at bits `bit` .. `bit + 3` of `v`) for each of four consecutive elements.
fn bitRun4(v: u32, bit: u32) -> vec4f {
  return vec4f((vec4u(v) >> vec4u(bit, bit + 1u, bit + 2u, bit + 3u)) & vec4u(1u));
}

// ggml's kvalues_iq4nl: the 16 non-linear levels of IQ4_NL and IQ4_XS.
var<private> KVALUES_IQ4NL: array<f32, 16> = array<f32, 16>(
  -127.0, -104.0, -83.0, -65.0, -49.0, -35.0, -22.0, -10.0, 1.0, 13.0, 25.0, 38.0, 53.0, 69.0, 89.0, 113.0);

// The table values at one nibble (at bit `shift`, 0 or 4) of each of the four bytes of `v`.
fn iq4nl4(v: u32, shift: u32) -> vec4f {
  let q = (vec4u(v) >> vec4u(shift, shift + 8u, shift + 16u, shift + 24u)) & vec4u(0xfu);
  return vec4f(KVALUES_IQ4NL[q.x], KVALUES_IQ4NL[q.y], KVALUES_IQ4NL[q.z], KVALUES_IQ4NL[q.w]);
}
