// Q3_K: 256-weight super-blocks; segment 0 holds 27 words per block:
//   words 0..7: hmask[32] | words 8..23: qs[64] (low 2 bits) | words 24..26: scales[12] (16 × 6 bits)
// and d is f16 number b of the scale segment. Weight e: half h = e/128, k = (e%128)/32, l = e%32:
//   low 2 bits at 2k of qs[32h + l]; 3rd bit = bit 4h + k of hmask[l] (clear: subtract 4)
//   scale j = 8h + 2k + l/16: low 4 bits in byte j%8 (high nibble when j >= 8), high 2 bits
//   in byte 8 + j%4 at bit 2(j/4);   weight = d * (scale - 32) * q
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 27u;
  let e = k0 % 256u;
  let h = e / 128u;
  let k = (e % 128u) / 32u;
  let l = e % 32u;
  let j = 8u * h + 2u * k + l / 16u;
  let low4 = (byteAt(base + 24u, j % 8u) >> select(0u, 4u, j >= 8u)) & 0xfu;
  let high2 = (byteAt(base + 24u, 8u + j % 4u) >> (2u * (j / 4u))) & 3u;
  let scale = halfAt(scaleOff * 2u + b) * (f32(low4 | (high2 << 4u)) - 32.0);
  let q = base + 8u + (32u * h + l) / 4u;
  let m = base + l / 4u;
  let hbit = 4u * h + k;
  let lo = bits2x4(w[q], 2u * k) - 4.0 + 4.0 * bit1x4(w[m], hbit);
  let hi = bits2x4(w[q + 1u], 2u * k) - 4.0 + 4.0 * bit1x4(w[m + 1u], hbit);
  return W8(scale * lo, scale * hi);
}

// No 16-byte unit layout for this type (yet): a unit is four loadW8.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  return unitOf8(row, u, cols, scaleOff);
}
