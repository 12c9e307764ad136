// Matrix × matrix without workgroup memory or barriers (software adapters): y[t, n] =
// Σ_k x[t, k] · W[n, k] (+ bias[n]). Each thread computes TOKENS tokens × 4 rows straight
// from global memory: per run of 8 along K it dequantizes its 4 rows once (4 loadW8) and
// uses them for all TOKENS tokens. On SwiftShader the weight reads (a different row per
// lane) dominate and x reads (one address for the whole workgroup) are cheap, so a step
// of 16 tokens costs about what a step of one does.
// The sums are the same operations in the same order as matmul-vec.wgsl (one thread per
// row) and matmul-tiled.wgsl, so a token's output does not depend on the variant.
// The prologue (plain, RMSNorm with the sum of squares in order, GLU) applies as x is read,
// the epilogue (residual add) as y is written (matmul-io.wgsl).
// Prepended: matmul-dequant-common.wgsl, one matmul-dequant-<type>.wgsl, activation.wgsl and
// matmul-io.wgsl (Params, bindings, prologue, epilogue).

override WG: u32 = 64u;
// matmul-io.wgsl's prologue as an override constant (the pipeline's), not the uniform
// p.prologue the other bodies branch on: every thread applies it to each x it reads, 16
// tokens × 8 elements per run, and SwiftShader keeps uniform branches (and the calls to
// xIn) in that loop — about 5× the whole kernel's time for the norm prologue. With the
// constant the compiler drops the other forms. Same operations, same order: same bits.
override PROLOGUE: u32 = 0u;
const TOKENS: u32 = 16u;

// xIn(t, k0 .. k0+8) as (lo, hi) (matmul-io.wgsl: the prologue) for a run inside the row
// (k0 + 8 <= K). Tokens past T read token T-1 (their outputs are never written), so no lane
// branches on the token.
fn x8(t: u32, k0: u32, invRms: f32) -> W8 {
  let tc = min(t, p.numTokens - 1u);
  let i = tc * p.xStride + k0;
  let lo = vec4f(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
  let hi = vec4f(x[i + 4u], x[i + 5u], x[i + 6u], x[i + 7u]);
  if (PROLOGUE == 0u) { return W8(lo, hi); }
  if (PROLOGUE == 1u) {
    // xIn's v · invRms · normWeight[k], element by element.
    let nlo = vec4f(normWeight[k0], normWeight[k0 + 1u], normWeight[k0 + 2u], normWeight[k0 + 3u]);
    let nhi = vec4f(normWeight[k0 + 4u], normWeight[k0 + 5u], normWeight[k0 + 6u], normWeight[k0 + 7u]);
    return W8(lo * invRms * nlo, hi * invRms * nhi);
  }
  return W8(vec4f(xIn(tc, k0, invRms), xIn(tc, k0 + 1u, invRms), xIn(tc, k0 + 2u, invRms), xIn(tc, k0 + 3u, invRms)),
            vec4f(xIn(tc, k0 + 4u, invRms), xIn(tc, k0 + 5u, invRms), xIn(tc, k0 + 6u, invRms), xIn(tc, k0 + 7u, invRms)));
}

// The row's last, partial run (K not a multiple of 8): zero past K.
fn x8Tail(t: u32, k0: u32, invRms: f32) -> W8 {
  let tc = min(t, p.numTokens - 1u);
  return W8(xIn4(tc, k0, invRms), xIn4(tc, k0 + 4u, invRms));
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
  // prologue 1: each token's 1/rms, its sum of squares in order (as rmsnorm.wgsl's perThread).
  var invRms: array<f32, TOKENS>;
  if (PROLOGUE == 1u) {
    for (var i = 0u; i < TOKENS; i++) {
      let t = t0 + i;
      var sumSq = 0.0;
      for (var k = 0u; k < p.K && t < p.numTokens; k++) {
        let v = x[t * p.xStride + k];
        sumSq += v * v;
      }
      invRms[i] = invRmsOf(sumSq);
    }
  }
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
      let xv = x8(t0 + i, k0, invRms[i]);
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
      let xv = x8Tail(t0 + i, k0, invRms[i]);
      acc[i] += vec4f(dot(w0.lo, xv.lo) + dot(w0.hi, xv.hi), dot(w1.lo, xv.lo) + dot(w1.hi, xv.hi),
                      dot(w2.lo, xv.lo) + dot(w2.hi, xv.hi), dot(w3.lo, xv.lo) + dot(w3.hi, xv.hi));
    }
  }
  for (var j = 0u; j < 4u; j++) {
    let r = r0 + j;
    if (r >= p.partRows) { break; }
    for (var i = 0u; i < TOKENS; i++) {
      let t = t0 + i;
      if (t < p.numTokens) { writeY(t, p.rowStart + r, acc[i][j]); }
    }
  }
}
