// Q4_K: 256-weight super-blocks of 36 words, kept as in GGUF:
//   word 0: f16 d, f16 dmin | words 1..3: scales[12] (8 × 6-bit scale, 6-bit min)
//   words 4..35: qs[128] — 4 chunks of 32 bytes; sub-block s (32 weights) is chunk s/2,
//   low nibbles for even s, high for odd. weight = d*sc[s]*q - dmin*m[s].

fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 36u;
  let e = k0 % 256u;
  let s = e / 32u;
  let dm = unpack2x16float(w[base]);
  let sm = scaleMinK4(base + 1u, s);
  let scale = dm.x * sm.x;
  let offset = dm.y * sm.y;
  let q = base + 4u + 8u * (s / 2u) + (e % 32u) / 4u;
  let shift = (s & 1u) * 4u;
  return W8(scale * nib4(w[q], shift) - offset, scale * nib4(w[q + 1u], shift) - offset);
}
