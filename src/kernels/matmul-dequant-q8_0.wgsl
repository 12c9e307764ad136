// Q8_0: block b = 32 weights d * q[i]; quants at words [8b, 8b+8) (4 i8 per word),
// d = f16 number b of the scale segment.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 32u) + k0 / 32u;
  let q = b * 8u + (k0 % 32u) / 4u;
  let d = halfAt(scaleOff * 2u + b);
  return W8(d * i8x4(w[q]), d * i8x4(w[q + 1u]));
}
