// Q8_0: block b = 32 weights d * q[i]; quants at words [8b, 8b+8) (4 i8 per word; vec4 2b
// and 2b + 1), d = f16 number b of the scale segment.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 32u) + k0 / 32u;
  let q = b * 8u + (k0 % 32u) / 4u;
  let d = halfAt(scaleOff * 2u + b);
  return W8(d * i8x4(w[q]), d * i8x4(w[q + 1u]));
}

// A unit is one block: two vec4 of quants and its d.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b = row * (cols / 32u) + u;
  let q0 = w4[2u * b];
  let q1 = w4[2u * b + 1u];
  let d = halfAt(scaleOff * 2u + b);
  return W32(W8(d * i8x4(q0.x), d * i8x4(q0.y)), W8(d * i8x4(q0.z), d * i8x4(q0.w)),
             W8(d * i8x4(q1.x), d * i8x4(q1.y)), W8(d * i8x4(q1.z), d * i8x4(q1.w)));
}
