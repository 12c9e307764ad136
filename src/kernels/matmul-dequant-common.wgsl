// Shared by every weight-type snippet (matmul-dequant-<type>.wgsl). The kernel body
// that includes these declares `w: array<u32>` — one repacked weight part (see
// src/gpu/repack.ts). Each type snippet defines
//   fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8
// returning the 8 dequantized weights row[k0 .. k0+8) (k0 a multiple of 8; elements
// at or past `cols` read as 0). Eight is the largest run that always shares one
// scale in every quant type (Q6_K sub-blocks are 16), so one call reads each scale once.

struct W8 {
  lo: vec4f,  // elements k0 .. k0+3
  hi: vec4f,  // elements k0+4 .. k0+7
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

// ggml's get_scale_min_k4 (Q4_K, Q5_K): 6-bit (scale, min) of sub-block s from the 12
// scale bytes at `word`.
fn scaleMinK4(word: u32, s: u32) -> vec2f {
  if (s < 4u) {
    return vec2f(f32(byteAt(word, s) & 63u), f32(byteAt(word, s + 4u) & 63u));
  }
  let hiSc = byteAt(word, s - 4u) >> 6u;
  let hiM = byteAt(word, s) >> 6u;
  let lo = byteAt(word, s + 4u);
  return vec2f(f32((lo & 0xfu) | (hiSc << 4u)), f32((lo >> 4u) | (hiM << 4u)));
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
