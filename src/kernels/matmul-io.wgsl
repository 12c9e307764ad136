// The interface shared by the matmul bodies (matmul-vec, matmul-tiled, matmul-blocked):
// matmul.ts prepends it (and activation.wgsl), after the dequant snippets, and fills
// Params in this order. Also the prologue (how a body reads x) and the epilogue (how it
// writes y), so that the three bodies apply them the same way. Both are uniforms, not
// override constants: one pipeline per (body, weight type) serves every fusion, so the
// fusions add nothing to what a runner compiles at load (branches on a uniform are uniform).
// The exception is the software set's blocked body, which also takes the prologue as a
// constant (matmul-blocked.wgsl says why):
//
//   prologue 0  plain     xIn(t, k) = x[t, k]
//            1  norm      xIn(t, k) = x[t, k] · invRms(t) · normWeight[k]   the RMSNorm before the
//                         projection; invRms(t) = 1/√(Σ x[t, :]² / K + eps), the sum of squares
//                         in rmsnorm.wgsl's order (GPU set: 64 strided partials and its tree,
//                         `sumSq4` + `treeTail4`; software set: in order), so the bits equal
//                         rmsNorm's (or addRmsNorm's) output fed to an unfused matmul
//            2  silu-GLU  xIn(t, k) = silu(x[t, k]) · x[t, K + k]   x is the fused gate|up row
//            3  gelu-GLU  xIn(t, k) = geluTanh(x[t, k]) · x[t, K + k]   [T, 2K] (elementwise silu_mul)
//   accumulate  y[t, n] = y[t, n] + (Σ + bias[n])   the residual add (y is the residual stream)

struct Params {
  numTokens: u32,     // T
  K: u32,             // cols of W, elements of x read per token
  partRows: u32,      // rows of W in this part
  yStride: u32,       // N: row length of y
  rowStart: u32,      // first output column of this part
  scaleOff: u32,      // word offset of the part's f16 scale segment
  wgX: u32,           // workgroups along x (row groups are split over x and y)
  hasBias: u32,
  xStride: u32,       // row length of x: K, or 2K for a GLU prologue
  eps: f32,           // norm prologue
  prologue: u32,      // 0 plain, 1 norm, 2 silu-GLU, 3 gelu-GLU
  accumulate: u32,    // 1: y += (the residual add)
}

@group(0) @binding(0) var<storage, read> w: array<u32>;           // [repacked part] u32
@group(0) @binding(1) var<storage, read> x: array<f32>;           // [T, xStride] f32
@group(0) @binding(2) var<storage, read> bias: array<f32>;        // [N] f32 (unused when hasBias = 0)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;     // [T, N] f32
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> normWeight: array<f32>;  // [K] f32 (prologue 1 only)

const NORM_PARTIALS: u32 = 64u; // rmsnorm.wgsl WG (matmul.ts asserts RMSNORM_WG)

// x as the body reads it (see the table above); invRms: the token's, prologue 1 only.
fn xIn(t: u32, k: u32, invRms: f32) -> f32 {
  let v = x[t * p.xStride + k];
  if (p.prologue == 1u) { return v * invRms * normWeight[k]; }
  if (p.prologue == 2u) { return silu(v) * x[t * p.xStride + p.K + k]; }
  if (p.prologue == 3u) { return geluTanh(v) * x[t * p.xStride + p.K + k]; }
  return v;
}

// x[t, k .. k+4) through xIn, zeros past K.
fn xIn4(t: u32, k: u32, invRms: f32) -> vec4f {
  if (k + 4u <= p.K) {
    return vec4f(xIn(t, k, invRms), xIn(t, k + 1u, invRms), xIn(t, k + 2u, invRms), xIn(t, k + 3u, invRms));
  }
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (k + j < p.K) { v[j] = xIn(t, k + j, invRms); }
  }
  return v;
}

// Partials 4cg .. 4cg+3 of token t's sum of squares, each as rmsnorm.wgsl's thread c
// sums: x[t, c]², x[t, c + 64]², … in order.
fn sumSq4(t: u32, cg: u32) -> vec4f {
  var s = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    for (var i = 4u * cg + j; i < p.K; i += NORM_PARTIALS) {
      let v = x[t * p.xStride + i];
      s[j] += v * v;
    }
  }
  return s;
}

// The last two levels of rmsnorm.wgsl's tree (strides 2 and 1) over partials 0..3, once
// the levels at strides 32..4 have folded everything into them.
fn treeTail4(v: vec4f) -> f32 {
  return (v.x + v.z) + (v.y + v.w);
}

fn invRmsOf(sumSq: f32) -> f32 {
  return inverseSqrt(sumSq / f32(p.K) + p.eps);
}

// y[t, n] = sum + bias (accumulate: added to y[t, n], as the unfused residual add).
fn writeY(t: u32, n: u32, sum: f32) {
  let b = select(0.0, bias[n], p.hasBias != 0u); // -0 + 0 = +0 in every body
  let i = t * p.yStride + n;
  if (p.accumulate != 0u) { y[i] = y[i] + (sum + b); } else { y[i] = sum + b; }
}
