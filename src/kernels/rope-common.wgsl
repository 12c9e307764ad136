// RoPE of one head, shared by rope.wgsl and rope-kv.wgsl (prepended by their .ts). The
// including file declares `override WG`, the bindings `x` (read_write f32), `positions`,
// `turns`, and `fn normWeightAt(j: u32, isK: bool) -> f32` for the per-head RMSNorm.
//
// Angles: WGSL's fma is not fused everywhere (SwiftShader) and sin/cos are only
// accurate on [-pi, pi], so f32 pos * freq loses ~pos * 2^-24 rad. Instead each
// frequency comes as a 64-bit fixed-point fraction of a turn, g = freq / (2 pi) =
// (gHi, gLo) / 2^64, and the turn count pos * g is computed mod 1 in exact u32
// arithmetic. sin/cos are our own polynomials on a quarter-turn-reduced angle: the
// builtins are only bounded to 2^-11 (SwiftShader's err ~2e-4). Result: ~1e-7 at
// any integer position < 2^31.

const RAD_PER_I32_STEP: f32 = 1.4629180792671596e-09; // 2 pi / 2^32

// High 32 bits of the 64-bit product a * b.
fn mulHi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu; let a1 = a >> 16u;
  let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = ((a0 * b0) >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
}

// (cos, sin) of pos * g turns.
fn ropeCosSin(pos: u32, g: vec2u) -> vec2f {
  let turnBits = mulHi(pos, g.x) + pos * g.y;          // turns mod 1, in 2^-32 units
  let quadrant = (turnBits + 0x20000000u) >> 30u;      // nearest quarter turn, 0..3
  let rem = bitcast<i32>(turnBits - (quadrant << 30u)); // [-2^29, 2^29): |r| <= pi/4
  let r = f32(rem) * RAD_PER_I32_STEP;
  let r2 = r * r;
  // Taylor series to r^9 / r^10: truncation < 3e-9 on [-pi/4, pi/4].
  let s = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 + r2 * (1.0 / 362880.0)))));
  let c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 + r2 * (-1.0 / 3628800.0)))));
  switch quadrant {
    case 0u: { return vec2f(c, s); }
    case 1u: { return vec2f(-s, c); }
    case 2u: { return vec2f(-c, -s); }
    default: { return vec2f(s, -c); }
  }
}

var<workgroup> partial: array<f32, WG>;

// x[base .. base + headDim) in place: per-head RMSNorm when `norm` (qwen3, gemma3 q/k
// norm: a tree over WG threads, so the order depends on headDim alone), then rotation of
// the first ropeDim dims by pos (adjacent pairs, or neox halves). Call from uniform
// control flow (it has barriers), once per workgroup (partial is not reset between calls).
fn ropeHead(base: u32, pos: u32, tid: u32, headDim: u32, ropeDim: u32, neox: bool, magnitude: f32, norm: bool, eps: f32, isK: bool) {
  if (norm) {
    var sumSq = 0.0;
    for (var j = tid; j < headDim; j += WG) { let v = x[base + j]; sumSq += v * v; }
    partial[tid] = sumSq;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s /= 2u) {
      if (tid < s) { partial[tid] += partial[tid + s]; }
      workgroupBarrier();
    }
    let invRms = inverseSqrt(partial[0] / f32(headDim) + eps);
    for (var j = tid; j < headDim; j += WG) { x[base + j] = x[base + j] * invRms * normWeightAt(j, isK); }
    storageBarrier();
    workgroupBarrier();
  }
  let half = ropeDim / 2u;
  for (var i = tid; i < half; i += WG) {
    let cs = ropeCosSin(pos, turns[i]);
    let c = cs.x * magnitude;
    let s = cs.y * magnitude;
    var i0 = base + 2u * i;
    var i1 = i0 + 1u;
    if (neox) { i0 = base + i; i1 = base + i + half; }
    let x0 = x[i0];
    let x1 = x[i1];
    x[i0] = x0 * c - x1 * s;
    x[i1] = x0 * s + x1 * c;
  }
}
