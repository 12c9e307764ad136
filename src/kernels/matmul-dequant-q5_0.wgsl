// Q5_0: blocks of 32 weights d * (q - 16), q = nibble | 5th bit << 4, split at load (repack.ts,
// repack-units.ts): block b's nibbles at words [4b, 4b+4) (vec4 b) as in Q4_0; its qh (bit e =
// 5th bit of element e) in side word scaleOff + b; d = f16 number b of the halves, which follow
// the side words (numBlocks = scaleOff / 4 of them).
fn q50HalvesWord(scaleOff: u32) -> u32 {
  return scaleOff + scaleOff / 4u;
}

fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 32u) + k0 / 32u;
  let e = k0 % 32u;
  let q = b * 4u + (e % 16u) / 4u;
  let shift = select(0u, 4u, e >= 16u);
  let qh = w[scaleOff + b];
  let d = halfAt(q50HalvesWord(scaleOff) * 2u + b);
  let lo = nib4(w[q], shift) + 16.0 * bitRun4(qh, e) - 16.0;
  let hi = nib4(w[q + 1u], shift) + 16.0 * bitRun4(qh, e + 4u) - 16.0;
  return W8(d * lo, d * hi);
}

// A unit is one block: one vec4 of nibbles, its qh word and its d.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b = row * (cols / 32u) + u;
  let n = nibRuns(w4[b]);
  let qh = w[scaleOff + b];
  let d = halfAt(q50HalvesWord(scaleOff) * 2u + b);
  var out: W32;
  for (var r = 0u; r < 4u; r++) {
    let lo = n[2u * r] + 16.0 * bitRun4(qh, 8u * r) - 16.0;
    let hi = n[2u * r + 1u] + 16.0 * bitRun4(qh, 8u * r + 4u) - 16.0;
    out[r] = W8(d * lo, d * hi);
  }
  return out;
}
