// Q2_K: 256-weight super-blocks of 21 words, kept as in GGUF:
//   words 0..3: scales[16] (4-bit scale | 4-bit min << 4) | words 4..19: qs[64] | word 20: f16 d, f16 dmin.
// Weight e: half h = e/128, k = (e%128)/32, l = e%32: 2 bits at 2k of qs[32h + l], sub-block
// 8h + 2k + l/16; weight = d*sc*q - dmin*m.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 21u;
  let e = k0 % 256u;
  let h = e / 128u;
  let k = (e % 128u) / 32u;
  let l = e % 32u;
  let sc = byteAt(base, 8u * h + 2u * k + l / 16u);
  let dm = unpack2x16float(w[base + 20u]);
  let scale = dm.x * f32(sc & 0xfu);
  let offset = dm.y * f32(sc >> 4u);
  let q = base + 4u + (32u * h + l) / 4u;
  return W8(scale * bits2x4(w[q], 2u * k) - offset, scale * bits2x4(w[q + 1u], 2u * k) - offset);
}

// No 16-byte unit layout for this type (yet): a unit is four loadW8.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  return unitOf8(row, u, cols, scaleOff);
}
