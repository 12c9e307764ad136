// The FFN activations, shared by elementwise.wgsl (silu_mul, map_inplace) and the matmul
// kernels' GLU prologue (matmul-io.wgsl), so the fused and unfused paths compute the
// same expression and give the same bits.

// tanh with its argument clamped: tanh is ±1 in f32 past |x| = 10, and some
// implementations compute it through exp, which overflows to NaN.
fn tanhSafe(x: f32) -> f32 {
  return tanh(clamp(x, -10.0, 10.0));
}

// ggml_gelu_f32: 0.5 x (1 + tanh(sqrt(2/pi) x (1 + 0.044715 x²)))
fn geluTanh(g: f32) -> f32 {
  return 0.5 * g * (1.0 + tanhSafe(0.7978845608028654 * g * (1.0 + 0.044715 * g * g)));
}

// SiLU: g · sigmoid(g)
fn silu(g: f32) -> f32 {
  return g / (1.0 + exp(-g));
}
