// F16 rows: element (row, k) is half-word row*cols + k (two per word). Rows may be any length.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let base = row * cols + k0;
  var v: array<f32, 8>;
  for (var i = 0u; i < 8u; i++) {
    v[i] = select(0.0, halfAt(base + i), k0 + i < cols);
  }
  return W8(vec4f(v[0], v[1], v[2], v[3]), vec4f(v[4], v[5], v[6], v[7]));
}
