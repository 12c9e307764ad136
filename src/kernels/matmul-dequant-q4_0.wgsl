// Q4_0: block b = 32 weights d * (q - 8); 16 bytes of nibbles at words [4b, 4b+4) (vec4 b):
// low nibbles are elements 0..15, high nibbles 16..31; d = f16 number b of the scale segment.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 32u) + k0 / 32u;
  let e = k0 % 32u;
  let q = b * 4u + (e % 16u) / 4u;
  let shift = select(0u, 4u, e >= 16u);
  let d = halfAt(scaleOff * 2u + b);
  return W8(d * (nib4(w[q], shift) - 8.0), d * (nib4(w[q + 1u], shift) - 8.0));
}

// A unit is one block: one vec4 of nibbles and its d.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b = row * (cols / 32u) + u;
  let n = nibRuns(w4[b]);
  let d = halfAt(scaleOff * 2u + b);
  return W32(W8(d * (n[0] - 8.0), d * (n[1] - 8.0)), W8(d * (n[2] - 8.0), d * (n[3] - 8.0)),
             W8(d * (n[4] - 8.0), d * (n[5] - 8.0)), W8(d * (n[6] - 8.0), d * (n[7] - 8.0)));
}
