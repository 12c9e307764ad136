// Q5_0: blocks of 32 weights d * (q - 16), q = nibble | 5th bit << 4; segment 0 holds 5 words
// per block: word 0: qh (bit e = 5th bit of element e) | words 1..4: nibbles as in Q4_0;
// d = f16 number b of the scale segment.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 32u) + k0 / 32u;
  let base = b * 5u;
  let e = k0 % 32u;
  let q = base + 1u + (e % 16u) / 4u;
  let shift = select(0u, 4u, e >= 16u);
  let qh = w[base];
  let d = halfAt(scaleOff * 2u + b);
  let lo = nib4(w[q], shift) + 16.0 * bitRun4(qh, e) - 16.0;
  let hi = nib4(w[q + 1u], shift) + 16.0 * bitRun4(qh, e + 4u) - 16.0;
  return W8(d * lo, d * hi);
}

// No 16-byte unit layout for this type (yet): a unit is four loadW8.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  return unitOf8(row, u, cols, scaleOff);
}
