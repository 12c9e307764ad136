// Q4_1: blocks of 32 weights d * q + m, split at load (repack.ts, repack-units.ts): block b's
// 16 bytes of nibbles at words [4b, 4b+4) (vec4 b) as in Q4_0 (low nibbles: elements 0..15,
// high: 16..31); its f16 d, f16 m in side word scaleOff + b.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let b = row * (cols / 32u) + k0 / 32u;
  let e = k0 % 32u;
  let q = b * 4u + (e % 16u) / 4u;
  let shift = select(0u, 4u, e >= 16u);
  let dm = unpack2x16float(w[scaleOff + b]);
  return W8(dm.x * nib4(w[q], shift) + dm.y, dm.x * nib4(w[q + 1u], shift) + dm.y);
}

// A unit is one block: one vec4 of nibbles and its (d, m) word.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let b = row * (cols / 32u) + u;
  let n = nibRuns(w4[b]);
  let dm = unpack2x16float(w[scaleOff + b]);
  return W32(W8(dm.x * n[0] + dm.y, dm.x * n[1] + dm.y), W8(dm.x * n[2] + dm.y, dm.x * n[3] + dm.y),
             W8(dm.x * n[4] + dm.y, dm.x * n[5] + dm.y), W8(dm.x * n[6] + dm.y, dm.x * n[7] + dm.y));
}
