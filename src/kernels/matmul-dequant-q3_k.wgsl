// Q3_K: 256-weight super-blocks, reordered per unit at load (repack.ts, repack-units.ts):
//   segment 0, 24 words (6 vec4) per block:
//     vec4 s/4, word s: hmask' of sub-block s — bit i = 3rd bit of element i (clear: subtract 4)
//     vec4 2 + s/2, words 2(s%2), 2(s%2)+1: q2' (low 2 bits) of sub-block s, laid out as Q2_K's
//   side words scaleOff + 3b .. + 3: scales[12] as in GGUF (16 × 6 bits): scale j's low 4 bits
//     in byte j%8 (high nibble when j >= 8), high 2 bits in byte 8 + j%4 at bit 2(j/4);
//     elements 16j .. 16j+15 use scale j
//   d = f16 number b of the halves, which follow the side words (numBlocks = scaleOff / 24).
//   weight = d * (scale - 32) * q

// scale j − 32 of the block whose side words start at `side`.
fn q3kLevel(side: u32, j: u32) -> f32 {
  let low4 = (byteAt(side, j % 8u) >> select(0u, 4u, j >= 8u)) & 0xfu;
  let high2 = (byteAt(side, 8u + j % 4u) >> (2u * (j / 4u))) & 3u;
  return f32(low4 | (high2 << 4u)) - 32.0;
}

// d of block b: after segment 0 (scaleOff words) and the side words (3 per block, scaleOff / 8).
fn q3kD(scaleOff: u32, b: u32) -> f32 {
  return halfAt((scaleOff + scaleOff / 8u) * 2u + b);
}

fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 24u;
  let e = k0 % 256u;
  let s = e / 32u;
  let r = (e % 32u) / 8u;
  let scale = q3kD(scaleOff, b) * q3kLevel(scaleOff + 3u * b, 2u * s + r / 2u);
  let h = w[base + s];
  let q = base + 8u + 2u * s;
  let lo = bits2x4(w[q], 2u * r) - 4.0 + 4.0 * bitRun4(h, 8u * r);
  let hi = bits2x4(w[q + 1u], 2u * r) - 4.0 + 4.0 * bitRun4(h, 8u * r + 4u);
  return W8(scale * lo, scale * hi);
}

// Two vec4 loads per unit (the hmask' vec4 holding its word, the q2' vec4 holding its 2
// words), its d and its two scales decoded once.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b = row * (cols / 256u) + u / 8u;
  let b4 = b * 6u;
  let s = u % 8u;
  let odd = (s & 1u) == 1u;
  let h = w4[b4 + s / 4u][s % 4u];
  let qv = w4[b4 + 2u + s / 2u];
  let q = vec2u(select(qv.x, qv.z, odd), select(qv.y, qv.w, odd));
  let d = q3kD(scaleOff, b);
  let scaleA = d * q3kLevel(scaleOff + 3u * b, 2u * s); // runs 0, 1
  let scaleB = d * q3kLevel(scaleOff + 3u * b, 2u * s + 1u); // runs 2, 3
  var out: W32;
  for (var r = 0u; r < 4u; r++) {
    let lo = bits2x4(q.x, 2u * r) - 4.0 + 4.0 * bitRun4(h, 8u * r);
    let hi = bits2x4(q.y, 2u * r) - 4.0 + 4.0 * bitRun4(h, 8u * r + 4u);
    let scale = select(scaleA, scaleB, r >= 2u);
    out[r] = W8(scale * lo, scale * hi);
  }
  return out;
}
