// F32 rows: element (row, k) is word row*cols + k. Rows may be any length.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let base = row * cols + k0;
  var v: array<f32, 8>;
  for (var i = 0u; i < 8u; i++) {
    v[i] = select(0.0, bitcast<f32>(w[base + i]), k0 + i < cols);
  }
  return W8(vec4f(v[0], v[1], v[2], v[3]), vec4f(v[4], v[5], v[6], v[7]));
}

// Eight vec4 loads when the unit starts on a 16-byte boundary and lies inside the row.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let base = row * cols + u * 32u;
  if ((base & 3u) != 0u || u * 32u + 32u > cols) { return unitOf8(row, u, cols, scaleOff); }
  var out: W32;
  for (var r = 0u; r < 4u; r++) {
    out[r] = W8(bitcast<vec4f>(w4[base / 4u + 2u * r]), bitcast<vec4f>(w4[base / 4u + 2u * r + 1u]));
  }
  return out;
}
