// Q2_K: 256-weight super-blocks, reordered per unit at load (repack.ts, repack-units.ts):
//   segment 0, 20 words (5 vec4) per block:
//     vec4 0: scales[16] as in GGUF (4-bit scale | 4-bit min << 4; elements 16j .. 16j+15 use j)
//     vec4 1 + s/2, words 2(s%2), 2(s%2)+1: q2' of sub-block s — element i's 2 bits at word
//       (i >> 2) & 1, byte i & 3, bits 2(i >> 3); so run r is bits 2r of word 0 (lo), word 1 (hi)
//   side word scaleOff + b: f16 d, f16 dmin.      weight = d*sc*q - dmin*m.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 20u;
  let e = k0 % 256u;
  let s = e / 32u;
  let r = (e % 32u) / 8u;
  let sc = byteAt(base, 2u * s + r / 2u);
  let dm = unpack2x16float(w[scaleOff + b]);
  let scale = dm.x * f32(sc & 0xfu);
  let offset = dm.y * f32(sc >> 4u);
  let q = base + 4u + 2u * s;
  return W8(scale * bits2x4(w[q], 2u * r) - offset, scale * bits2x4(w[q + 1u], 2u * r) - offset);
}

// Two vec4 loads per unit (the block's scales, the q2' vec4 holding its 2 words) and the
// (d, dmin) word; the unit's two (scale, min) pairs decoded once.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b = row * (cols / 256u) + u / 8u;
  let b4 = b * 5u;
  let s = u % 8u;
  let odd = (s & 1u) == 1u;
  let scWord = w4[b4][s / 2u] >> (16u * (s & 1u)); // scales 2s, 2s + 1 in its low 16 bits
  let qv = w4[b4 + 1u + s / 2u];
  let q = vec2u(select(qv.x, qv.z, odd), select(qv.y, qv.w, odd));
  let dm = unpack2x16float(w[scaleOff + b]);
  let scA = scWord & 0xffu; // runs 0, 1
  let scB = (scWord >> 8u) & 0xffu; // runs 2, 3
  let scaleA = dm.x * f32(scA & 0xfu);
  let offsetA = dm.y * f32(scA >> 4u);
  let scaleB = dm.x * f32(scB & 0xfu);
  let offsetB = dm.y * f32(scB >> 4u);
  var out: W32;
  for (var r = 0u; r < 4u; r++) {
    let scale = select(scaleA, scaleB, r >= 2u);
    let offset = select(offsetA, offsetB, r >= 2u);
    out[r] = W8(scale * bits2x4(q.x, 2u * r) - offset, scale * bits2x4(q.y, 2u * r) - offset);
  }
  return out;
}
