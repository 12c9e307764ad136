// IQ4_XS: 256-weight super-blocks, split at load (repack.ts, repack-units.ts):
//   words [32b, 32b + 32) (vec4 8b + s): qs[128] as in GGUF — sub-block s (32 weights) is
//     vec4 8b + s, laid out as an IQ4_NL block
//   side words scaleOff + 2b: f16 d, u16 scales_h (2 high bits × 8) | scaleOff + 2b + 1:
//     scales_l[4] (4 low bits × 8)
//   weight = d * (ls[s] - 32) * KVALUES_IQ4NL[nibble].

// d * (ls[s] - 32) of sub-block s, from the block's side words at `side`.
fn iq4xsScale(side: u32, s: u32) -> f32 {
  let head = w[side];
  let ls = ((byteAt(side + 1u, s / 2u) >> (4u * (s % 2u))) & 0xfu) | (((head >> (16u + 2u * s)) & 3u) << 4u);
  return unpack2x16float(head).x * (f32(ls) - 32.0);
}

fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let e = k0 % 256u;
  let s = e / 32u;
  let i = e % 32u;
  let scale = iq4xsScale(scaleOff + 2u * b, s);
  let q = 32u * b + 4u * s + (i % 16u) / 4u;
  let shift = select(0u, 4u, i >= 16u);
  return W8(scale * iq4nl4(w[q], shift), scale * iq4nl4(w[q + 1u], shift));
}

// One vec4 of nibbles per unit, its scale decoded once.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b = row * (cols / 256u) + u / 8u;
  let s = u % 8u;
  let scale = iq4xsScale(scaleOff + 2u * b, s);
  let q = w4[8u * b + s];
  return W32(W8(scale * iq4nl4(q.x, 0u), scale * iq4nl4(q.y, 0u)), W8(scale * iq4nl4(q.z, 0u), scale * iq4nl4(q.w, 0u)),
             W8(scale * iq4nl4(q.x, 4u), scale * iq4nl4(q.y, 4u)), W8(scale * iq4nl4(q.z, 4u), scale * iq4nl4(q.w, 4u)));
}
