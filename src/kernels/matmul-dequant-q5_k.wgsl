// Q5_K: 256-weight super-blocks of 44 words (11 vec4), reordered per unit at load
// (src/gpu/repack-units.ts):
//   vec4 0: f16 d, f16 dmin | scales' as Q4_K
//   vec4 1..2: qh' — word 4 + s: bit i = 5th bit of element i of sub-block s
//   vec4 3 + s: sub-block s's 32 low nibbles as Q4_0's 16 bytes.
//   weight = d*sc[s]*(q + 16*hbit) - dmin*m[s].

fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 256u) + k0 / 256u;
  let base = b * 44u;
  let e = k0 % 256u;
  let s = e / 32u;
  let r = (e % 32u) / 8u;
  let dm = unpack2x16float(w[base]);
  let sm = scaleMinK(w[base + 1u + s / 4u], w[base + 3u], s);
  let scale = dm.x * sm.x;
  let offset = dm.y * sm.y;
  let h = w[base + 4u + s];
  let q = base + 12u + 4u * s + (2u * r) % 4u;
  let shift = select(0u, 4u, r >= 2u);
  let lo = nib4(w[q], shift) + 16.0 * bitRun4(h, 8u * r);
  let hi = nib4(w[q + 1u], shift) + 16.0 * bitRun4(h, 8u * r + 4u);
  return W8(scale * lo - offset, scale * hi - offset);
}

// Three vec4 loads per unit: the head, the qh' vec4 holding the unit's word, its nibbles.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b4 = (row * (cols / 256u) + u / 8u) * 11u;
  let s = u % 8u;
  let so = headScaleOffset(w4[b4], s);
  let scale = so.x;
  let offset = so.y;
  let h = w4[b4 + 1u + s / 4u][s % 4u];
  let n = nibRuns(w4[b4 + 3u + s]);
  var out: W32;
  for (var r = 0u; r < 4u; r++) {
    let lo = n[2u * r] + 16.0 * bitRun4(h, 8u * r);
    let hi = n[2u * r + 1u] + 16.0 * bitRun4(h, 8u * r + 4u);
    out[r] = W8(scale * lo - offset, scale * hi - offset);
  }
  return out;
}
