// Q6_K: 256-weight super-blocks; segment 0 holds 52 words per block:
//   words 0..31: ql[128] | words 32..47: qh[64] | words 48..51: scales[16] (i8)
// and d is f16 number b of the scale segment. Weight e (0..255): half h = e/128,
// quarter g = (e%128)/32, i = e%32:
//   low 4 bits: ql[64h + 32(g&1) + i], low nibble for g < 2 else high
//   high 2 bits: qh[32h + i] >> 2g;   scale: scales[8h + i/16 + 2g]
//   weight = d * scale * ((low | high << 4) - 32)
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 52u;
  let e = k0 % 256u;
  let h = e / 128u;
  let g = (e % 128u) / 32u;
  let i = e % 32u;
  let ql = base + (64u * h + 32u * (g & 1u) + i) / 4u;
  let qh = base + 32u + (32u * h + i) / 4u;
  let lowShift = select(0u, 4u, g >= 2u);
  let sc = f32(bitcast<i32>(byteAt(base + 48u, 8u * h + i / 16u + 2u * g) << 24u) >> 24u);
  let scale = halfAt(scaleOff * 2u + b) * sc;
  let lo = nib4(w[ql], lowShift) + 16.0 * bits2x4(w[qh], 2u * g) - 32.0;
  let hi = nib4(w[ql + 1u], lowShift) + 16.0 * bits2x4(w[qh + 1u], 2u * g) - 32.0;
  return W8(scale * lo, scale * hi);
}
