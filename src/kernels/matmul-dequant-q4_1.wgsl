// Q4_1: blocks of 32 weights d * q + m, 5 words each, kept as in GGUF:
//   word 0: f16 d, f16 m | words 1..4: 16 bytes of nibbles (low: elements 0..15, high: 16..31).
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 32u) + k0 / 32u;
  let base = b * 5u;
  let e = k0 % 32u;
  let q = base + 1u + (e % 16u) / 4u;
  let shift = select(0u, 4u, e >= 16u);
  let dm = unpack2x16float(w[base]);
  return W8(dm.x * nib4(w[q], shift) + dm.y, dm.x * nib4(w[q + 1u], shift) + dm.y);
}

// No 16-byte unit layout for this type (yet): a unit is four loadW8.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  return unitOf8(row, u, cols, scaleOff);
}
