// Q5_K: 256-weight super-blocks of 44 words, kept as in GGUF:
//   word 0: f16 d, f16 dmin | words 1..3: scales[12] | words 4..11: qh[32] (bit s of
//   byte i = 5th bit of weight i of sub-block s) | words 12..43: qs[128] as in Q4_K.
//   weight = d*sc[s]*(q + 16*hbit) - dmin*m[s].

fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 44u;
  let e = k0 % 256u;
  let s = e / 32u;
  let i = e % 32u;
  let dm = unpack2x16float(w[base]);
  let sm = scaleMinK4(base + 1u, s);
  let scale = dm.x * sm.x;
  let offset = dm.y * sm.y;
  let h = base + 4u + i / 4u;
  let q = base + 12u + 8u * (s / 2u) + i / 4u;
  let shift = (s & 1u) * 4u;
  let lo = nib4(w[q], shift) + 16.0 * bit1x4(w[h], s);
  let hi = nib4(w[q + 1u], shift) + 16.0 * bit1x4(w[h + 1u], s);
  return W8(scale * lo - offset, scale * hi - offset);
}
