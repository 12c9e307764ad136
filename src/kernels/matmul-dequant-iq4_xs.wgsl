// IQ4_XS: 256-weight super-blocks of 34 words, kept as in GGUF:
//   word 0: f16 d, u16 scales_h (2 high bits × 8) | word 1: scales_l[4] (4 low bits × 8)
//   words 2..33: qs[128] — sub-block s (32 weights) is 4 words laid out as an IQ4_NL block.
//   weight = d * (ls[s] - 32) * KVALUES_IQ4NL[nibble].
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 34u;
  let e = k0 % 256u;
  let s = e / 32u;
  let i = e % 32u;
  let head = w[base];
  let ls = ((byteAt(base + 1u, s / 2u) >> (4u * (s % 2u))) & 0xfu) | (((head >> (16u + 2u * s)) & 3u) << 4u);
  let scale = unpack2x16float(head).x * (f32(ls) - 32.0);
  let q = base + 2u + 4u * s + (i % 16u) / 4u;
  let shift = select(0u, 4u, i >= 16u);
  return W8(scale * iq4nl4(w[q], shift), scale * iq4nl4(w[q + 1u], shift));
}

// No 16-byte unit layout for this type (yet): a unit is four loadW8.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  return unitOf8(row, u, cols, scaleOff);
}
