// Q5_1: blocks of 32 weights d * q + m, q = nibble | 5th bit << 4; 6 words each, kept as in GGUF:
//   word 0: f16 d, f16 m | word 1: qh (bit e = 5th bit of element e) | words 2..5: nibbles as in Q4_0.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 32u) + k0 / 32u;
  let base = b * 6u;
  let e = k0 % 32u;
  let q = base + 2u + (e % 16u) / 4u;
  let shift = select(0u, 4u, e >= 16u);
  let qh = w[base + 1u];
  let dm = unpack2x16float(w[base]);
  let lo = nib4(w[q], shift) + 16.0 * bitRun4(qh, e);
  let hi = nib4(w[q + 1u], shift) + 16.0 * bitRun4(qh, e + 4u);
  return W8(dm.x * lo + dm.y, dm.x * hi + dm.y);
}

// No 16-byte unit layout for this type (yet): a unit is four loadW8.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  return unitOf8(row, u, cols, scaleOff);
}
