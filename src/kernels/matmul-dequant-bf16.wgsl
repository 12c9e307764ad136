// BF16 rows: element (row, k) is half-word row*cols + k (two per word, low half first);
// a bfloat16 is the top 16 bits of an f32. Rows may be any length.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let base = row * cols + k0;
  var v: array<f32, 8>;
  for (var i = 0u; i < 8u; i++) {
    let h = base + i;
    let bits = select(w[h >> 1u] << 16u, w[h >> 1u] & 0xffff0000u, (h & 1u) == 1u);
    v[i] = select(0.0, bitcast<f32>(bits), k0 + i < cols);
  }
  return W8(vec4f(v[0], v[1], v[2], v[3]), vec4f(v[4], v[5], v[6], v[7]));
}

// No 16-byte unit layout for this type (yet): a unit is four loadW8.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  return unitOf8(row, u, cols, scaleOff);
}
