// IQ4_NL: block b = 32 weights d * KVALUES_IQ4NL[nibble]; 16 bytes of nibbles at words [4b, 4b+4)
// as in Q4_0 (low nibbles: elements 0..15, high: 16..31); d = f16 number b of the scale segment.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 32u) + k0 / 32u;
  let e = k0 % 32u;
  let q = b * 4u + (e % 16u) / 4u;
  let shift = select(0u, 4u, e >= 16u);
  let d = halfAt(scaleOff * 2u + b);
  return W8(d * iq4nl4(w[q], shift), d * iq4nl4(w[q + 1u], shift));
}
