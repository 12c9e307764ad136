// Matrix × matrix without workgroup memory or barriers (software adapters): y[t, n] =
// Σ_k x[t, k] · W[n, k] (+ bias[n]). Each thread computes TOKENS tokens × 4 rows straight
// from global memory: per run of 8 along K it dequantizes its 4 rows once (4 loadW8) and
// uses them for all TOKENS tokens. On SwiftShader the weight reads (a different row per
// lane) dominate and x reads (one address for the whole workgroup) are cheap, so a step
// of 16 tokens costs about what a step of one does.
// The sums are the same operations in the same order as matmul-vec.wgsl (one thread per
// row) and matmul-tiled.wgsl, so a token's output does not depend on the variant.
// Prepended: matmul-dequant-common.wgsl, one matmul-dequant-<type>.wgsl and matmul-io.wgsl
// (Params, bindings).

override WG: u32 = 64u;
const TOKENS: u32 = 16u;

// x[t, k0 .. k0+8) as (lo, hi) for a run inside the row (k0 + 8 <= K). Tokens past T read
// token T-1 (their outputs are never written), so no lane branches on the token.
fn x8(t: u32, k0: u32) -> W8 {
  let i = min(t, p.numTokens - 1u) * p.K + k0;
  return W8(vec4f(x[i], x[i + 1u], x[i + 2u], x[i + 3u]), vec4f(x[i + 4u], x[i + 5u], x[i + 6u], x[i + 7u]));
}

// The row's last, partial run (K not a multiple of 8): zero past K.
fn x8Tail(t: u32, k0: u32) -> W8 {
  let i = min(t, p.numTokens - 1u) * p.K + k0;
  var v: array<f32, 8>;
  for (var j = 0u; j < 8u; j++) {
    if (k0 + j < p.K) { v[j] = x[i + j]; }
  }
  return W8(vec4f(v[0], v[1], v[2], v[3]), vec4f(v[4], v[5], v[6], v[7]));
}

fn w8(row: u32, k0: u32) -> W8 {
  if (row >= p.partRows) { return W8(vec4f(0.0), vec4f(0.0)); }
  return loadW8(row, k0, p.K, p.scaleOff);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r0 = ((wid.y * p.wgX + wid.x) * WG + lid) * 4u;
  if (r0 >= p.partRows) { return; }
  let t0 = wid.z * TOKENS;
  var acc: array<vec4f, TOKENS>; // acc[i][j]: token t0 + i, row r0 + j
  // Full runs of 8, then at most one partial run. The tail check lives outside the hot loop:
  // inside x8 it was a branch per token per run, which SwiftShader executes as masked code
  // on every lane whichever way it goes, and cost ~40% of this kernel (bench/embed-profile.ts).
  var k0 = 0u;
  for (; k0 + 8u <= p.K; k0 += 8u) {
    let w0 = w8(r0, k0);
    let w1 = w8(r0 + 1u, k0);
    let w2 = w8(r0 + 2u, k0);
    let w3 = w8(r0 + 3u, k0);
    for (var i = 0u; i < TOKENS; i++) {
      let xv = x8(t0 + i, k0);
      acc[i] += vec4f(dot(w0.lo, xv.lo) + dot(w0.hi, xv.hi), dot(w1.lo, xv.lo) + dot(w1.hi, xv.hi),
                      dot(w2.lo, xv.lo) + dot(w2.hi, xv.hi), dot(w3.lo, xv.lo) + dot(w3.hi, xv.hi));
    }
  }
  if (k0 < p.K) {
    let w0 = w8(r0, k0);
    let w1 = w8(r0 + 1u, k0);
    let w2 = w8(r0 + 2u, k0);
    let w3 = w8(r0 + 3u, k0);
    for (var i = 0u; i < TOKENS; i++) {
      let xv = x8Tail(t0 + i, k0);
      acc[i] += vec4f(dot(w0.lo, xv.lo) + dot(w0.hi, xv.hi), dot(w1.lo, xv.lo) + dot(w1.hi, xv.hi),
                      dot(w2.lo, xv.lo) + dot(w2.hi, xv.hi), dot(w3.lo, xv.lo) + dot(w3.hi, xv.hi));
    }
  }
  for (var j = 0u; j < 4u; j++) {
    let r = r0 + j;
    if (r >= p.partRows) { break; }
    let n = p.rowStart + r;
    let b = select(0.0, bias[n], p.hasBias != 0u);
    for (var i = 0u; i < TOKENS; i++) {
      let t = t0 + i;
      if (t < p.numTokens) { y[t * p.yStride + n] = acc[i][j] + b; }
    }
  }
}
