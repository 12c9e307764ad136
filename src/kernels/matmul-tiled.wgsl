// Matrix × matrix (prefill, batches): y[t, n] = Σ_k x[t, k] · W[n, k] (+ bias[n]).
// One workgroup of 16×16 threads computes a 64-token × 64-row tile of y; each
// thread owns 4×4 outputs (tokens ly + 16i, rows lx + 16j). K advances in steps of
// 16: the x tile is copied to shared memory, the W tile is dequantized into shared
// memory on the fly (128 threads × one loadW8), then 2 runs of 8 per output.
// Big per-thread tiles keep barriers few (they are costly on software adapters).
// Prepended: matmul-dequant-common.wgsl, one matmul-dequant-<type>.wgsl and matmul-io.wgsl
// (Params, bindings).

const TILE: u32 = 64u;   // tokens and rows per tile
const BK: u32 = 16u;     // K per step
const PAD: u32 = 17u;    // shared row pitch (+1 avoids bank conflicts)

var<workgroup> xs: array<f32, 1088>; // [TILE tokens][PAD] f32
var<workgroup> ws: array<f32, 1088>; // [TILE rows][PAD] f32

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let n0 = (wid.y * p.wgX + wid.x) * TILE;
  if (n0 >= p.partRows) { return; } // uniform
  let t0 = wid.z * TILE;
  let lx = lid3.x;
  let ly = lid3.y;
  var acc: array<vec4f, 4>; // acc[i][j]: token t0 + ly + 16i, row n0 + lx + 16j

  for (var kb = 0u; kb < p.K; kb += BK) {
    for (var i = lid; i < TILE * BK; i += 256u) {
      let tt = i / BK;
      let kk = i % BK;
      let t = t0 + tt;
      let k = kb + kk;
      var v = 0.0;
      if (t < p.numTokens && k < p.K) { v = x[t * p.K + k]; }
      xs[tt * PAD + kk] = v;
    }
    if (lid < 128u) {
      let r = lid / 2u;
      let k8 = (lid % 2u) * 8u;
      var wv = W8(vec4f(0.0), vec4f(0.0));
      if (n0 + r < p.partRows) { wv = loadW8(n0 + r, kb + k8, p.K, p.scaleOff); }
      let o = r * PAD + k8;
      for (var j = 0u; j < 4u; j++) {
        ws[o + j] = wv.lo[j];
        ws[o + 4u + j] = wv.hi[j];
      }
    }
    workgroupBarrier();
    // Runs of 8 along K, each summed as dot(lo) + dot(hi) and then added to the
    // accumulator: the same operations in the same order as matmul-vec.wgsl with one
    // thread per row, so a token's output does not depend on which variant ran.
    for (var k8 = 0u; k8 < BK; k8 += 8u) {
      var wl: array<vec4f, 4>; // rows lx + 16j: weights k8 .. k8+3
      var wh: array<vec4f, 4>; //                 weights k8+4 .. k8+7
      for (var j = 0u; j < 4u; j++) {
        let o = (lx + 16u * j) * PAD + k8;
        wl[j] = vec4f(ws[o], ws[o + 1u], ws[o + 2u], ws[o + 3u]);
        wh[j] = vec4f(ws[o + 4u], ws[o + 5u], ws[o + 6u], ws[o + 7u]);
      }
      for (var i = 0u; i < 4u; i++) {
        let o = (ly + 16u * i) * PAD + k8;
        let xl = vec4f(xs[o], xs[o + 1u], xs[o + 2u], xs[o + 3u]);
        let xh = vec4f(xs[o + 4u], xs[o + 5u], xs[o + 6u], xs[o + 7u]);
        acc[i] += vec4f(dot(wl[0], xl) + dot(wh[0], xh), dot(wl[1], xl) + dot(wh[1], xh),
                        dot(wl[2], xl) + dot(wh[2], xh), dot(wl[3], xl) + dot(wh[3], xh));
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < 4u; i++) {
    let t = t0 + ly + 16u * i;
    if (t >= p.numTokens) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let r = n0 + lx + 16u * j;
      if (r < p.partRows) {
        let n = p.rowStart + r;
        var v = acc[i][j];
        if (p.hasBias != 0u) { v += bias[n]; }
        y[t * p.yStride + n] = v;
      }
    }
  }
}
