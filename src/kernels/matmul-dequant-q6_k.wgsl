// Q6_K: 256-weight super-blocks; segment 0 holds 52 words (13 vec4) per block, reordered
// per unit at load (src/gpu/repack-units.ts), and d is f16 number b of the scale segment:
//   vec4 s (0..7): ql' — sub-block s's 32 low nibbles as Q4_0's 16 bytes
//   vec4 8 + s/2, words 2(s%2), 2(s%2)+1: qh' — element i's 2 high bits at word (i >> 2) & 1,
//     byte i & 3, bits 2(i >> 3); so run r is bits 2r of the bytes of word 0 (lo), word 1 (hi)
//   vec4 12: scales[16] (i8) as in GGUF; elements 16j .. 16j+15 of the block use scales[j]
//   weight = d * scale * ((low | high << 4) - 32)
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 52u;
  let e = k0 % 256u;
  let s = e / 32u;
  let r = (e % 32u) / 8u;
  let ql = base + 4u * s + (2u * r) % 4u;
  let qh = base + 32u + 2u * s;
  let lowShift = select(0u, 4u, r >= 2u);
  let sc = f32(bitcast<i32>(byteAt(base + 48u, e / 16u) << 24u) >> 24u);
  let scale = halfAt(scaleOff * 2u + b) * sc;
  let lo = nib4(w[ql], lowShift) + 16.0 * bits2x4(w[qh], 2u * r) - 32.0;
  let hi = nib4(w[ql + 1u], lowShift) + 16.0 * bits2x4(w[qh + 1u], 2u * r) - 32.0;
  return W8(scale * lo, scale * hi);
}

// Three vec4 loads per unit (its nibbles, the qh' vec4 holding its 2 words, the block's
// scales) and its d; the unit's two scales decoded once.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b = row * (cols / 256u) + u / 8u;
  let b4 = b * 13u;
  let s = u % 8u;
  let n = nibRuns(w4[b4 + s]);
  let qhv = w4[b4 + 8u + s / 2u];
  let odd = (s & 1u) == 1u;
  let qh = vec2u(select(qhv.x, qhv.z, odd), select(qhv.y, qhv.w, odd));
  let scWord = w4[b4 + 12u][s / 2u] >> (16u * (s & 1u)); // scales 2s, 2s + 1 in its low 16 bits
  let d = halfAt(scaleOff * 2u + b);
  let scaleA = d * f32(bitcast<i32>(scWord << 24u) >> 24u); // runs 0, 1
  let scaleB = d * f32(bitcast<i32>(scWord << 16u) >> 24u); // runs 2, 3
  var out: W32;
  for (var r = 0u; r < 4u; r++) {
    let lo = n[2u * r] + 16.0 * bits2x4(qh.x, 2u * r) - 32.0;
    let hi = n[2u * r + 1u] + 16.0 * bits2x4(qh.y, 2u * r) - 32.0;
    let scale = select(scaleA, scaleB, r >= 2u);
    out[r] = W8(scale * lo, scale * hi);
  }
  return out;
}
