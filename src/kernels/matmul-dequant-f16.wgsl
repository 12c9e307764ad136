// F16 rows: element (row, k) is half-word row*cols + k (two per word). Rows may be any length.
// A run of 8 that starts on a word boundary and lies inside the row (every run, when cols is
// even) is four word loads and four unpack2x16float; only odd-length rows and the row's last
// run go element by element. On software adapters unpacking is arithmetic, not a free load
// conversion, so unpacking each word once (not once per half) is a third of a matmul's time.
fn loadW8(row: u32, k0: u32, cols: u32, scaleOff: u32) -> W8 {
  let base = row * cols + k0;
  if ((base & 1u) == 0u && k0 + 8u <= cols) {
    let i = base >> 1u;
    return W8(vec4f(unpack2x16float(w[i]), unpack2x16float(w[i + 1u])), vec4f(unpack2x16float(w[i + 2u]), unpack2x16float(w[i + 3u])));
  }
  var v: array<f32, 8>;
  for (var i = 0u; i < 8u; i++) {
    v[i] = select(0.0, halfAt(base + i), k0 + i < cols);
  }
  return W8(vec4f(v[0], v[1], v[2], v[3]), vec4f(v[4], v[5], v[6], v[7]));
}

// Four vec4 loads (8 halves each) when the unit starts on a 16-byte boundary (the row's
// first half-word index a multiple of 8: every row when cols % 8 == 0) and lies inside the
// row; otherwise four loadW8.
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let base = row * cols + u * 32u;
  if ((base & 7u) != 0u || u * 32u + 32u > cols) { return unitOf8(row, u, cols, scaleOff); }
  var out: W32;
  for (var r = 0u; r < 4u; r++) {
    let v = w4[base / 8u + r];
    out[r] = W8(vec4f(unpack2x16float(v.x), unpack2x16float(v.y)), vec4f(unpack2x16float(v.z), unpack2x16float(v.w)));
  }
  return out;
}
