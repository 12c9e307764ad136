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

// The two bfloat16 of one word (low half first), the same bits loadW8 makes.
fn bf16x2(v: u32) -> vec2f {
  return vec2f(bitcast<f32>(v << 16u), bitcast<f32>(v & 0xffff0000u));
}

// Four vec4 loads (8 halves each) when the unit starts on a 16-byte boundary (the row's
// first half-word index a multiple of 8: every row when cols % 8 == 0) and lies inside the
// row; otherwise four loadW8 (as F16).
fn loadUnit(row: u32, u: u32, cols: u32, scaleOff: u32) -> W32 {
  let base = row * cols + u * 32u;
  if ((base & 7u) != 0u || u * 32u + 32u > cols) { return unitOf8(row, u, cols, scaleOff); }
  var out: W32;
  for (var r = 0u; r < 4u; r++) {
    let v = w4[base / 8u + r];
    out[r] = W8(vec4f(bf16x2(v.x), bf16x2(v.y)), vec4f(bf16x2(v.z), bf16x2(v.w)));
  }
  return out;
}
