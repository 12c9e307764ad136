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

// A unit is one block: one vec4 of nibbles (vec4 b) and its d.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b = row * (cols / 32u) + u;
  let q = w4[b];
  let d = halfAt(scaleOff * 2u + b);
  return W32(W8(d * iq4nl4(q.x, 0u), d * iq4nl4(q.y, 0u)), W8(d * iq4nl4(q.z, 0u), d * iq4nl4(q.w, 0u)),
             W8(d * iq4nl4(q.x, 4u), d * iq4nl4(q.y, 4u)), W8(d * iq4nl4(q.z, 4u), d * iq4nl4(q.w, 4u)));
}
