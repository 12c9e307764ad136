// Q4_K: 256-weight super-blocks of 36 words (9 vec4), reordered per unit at load
// (src/gpu/repack-units.ts):
//   vec4 0: f16 d, f16 dmin | scales' (word 1 + s/4 byte s%4: sc[s] | (m[s] >> 4) << 6;
//           word 3 nibble s: m[s] & 15)
//   vec4 1 + s: sub-block s's 32 nibbles as Q4_0's 16 bytes.   weight = d*sc[s]*q - dmin*m[s].

fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 36u;
  let e = k0 % 256u;
  let s = e / 32u;
  let r = (e % 32u) / 8u;
  let dm = unpack2x16float(w[base]);
  let sm = scaleMinK(w[base + 1u + s / 4u], w[base + 3u], s);
  let scale = dm.x * sm.x;
  let offset = dm.y * sm.y;
  let q = base + 4u + 4u * s + (2u * r) % 4u;
  let shift = select(0u, 4u, r >= 2u);
  return W8(scale * nib4(w[q], shift) - offset, scale * nib4(w[q + 1u], shift) - offset);
}

// Two vec4 loads per unit: the block's head (d, dmin, every scale) and the unit's nibbles.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b4 = (row * (cols / 256u) + u / 8u) * 9u;
  let s = u % 8u;
  let so = headScaleOffset(w4[b4], s);
  let scale = so.x;
  let offset = so.y;
  let n = nibRuns(w4[b4 + 1u + s]);
  return W32(W8(scale * n[0] - offset, scale * n[1] - offset), W8(scale * n[2] - offset, scale * n[3] - offset),
             W8(scale * n[4] - offset, scale * n[5] - offset), W8(scale * n[6] - offset, scale * n[7] - offset));
}
