// Matrix × matrix (prefill, batches): y[t, n] = Σ_k x[t, k] · W[n, k] (+ bias[n]).
// One workgroup of 16×16 threads computes a 32-token × 32-row tile of y; each
// thread owns 2×2 outputs (tokens ly, ly+16; rows lx, lx+16). K advances in steps
// of 32: the x tile is copied to shared memory, the W tile is dequantized into
// shared memory on the fly (128 threads × loadW8), then 32 multiply-adds each.
// Prepended: matmul-dequant-common.wgsl and one matmul-dequant-<type>.wgsl.

const TILE: u32 = 32u;   // tokens and rows per tile, and K per step
const PAD: u32 = 33u;    // shared row pitch (+1 avoids bank conflicts)

struct Params {
  numTokens: u32,
  K: u32,
  partRows: u32,
  yStride: u32,
  rowStart: u32,
  scaleOff: u32,
  wgX: u32,
  hasBias: u32,
}

@group(0) @binding(0) var<storage, read> w: array<u32>;        // [repacked part] u32
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [T, K] f32
@group(0) @binding(2) var<storage, read> bias: array<f32>;     // [N] f32
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [T, N] f32
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> xs: array<f32, 1056>; // [TILE tokens][PAD] f32
var<workgroup> ws: array<f32, 1056>; // [TILE rows][PAD] f32

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let n0 = (wid.y * p.wgX + wid.x) * TILE;
  if (n0 >= p.partRows) { return; } // uniform
  let t0 = wid.z * TILE;
  let lx = lid3.x;
  let ly = lid3.y;
  var acc = vec4f(0.0); // (t ly, n lx), (t ly, n lx+16), (t ly+16, n lx), (t ly+16, n lx+16)

  for (var kb = 0u; kb < p.K; kb += TILE) {
    for (var i = lid; i < TILE * TILE; i += 256u) {
      let tt = i / TILE;
      let kk = i % TILE;
      let t = t0 + tt;
      let k = kb + kk;
      var v = 0.0;
      if (t < p.numTokens && k < p.K) { v = x[t * p.K + k]; }
      xs[tt * PAD + kk] = v;
    }
    if (lid < 128u) {
      let r = lid / 4u;
      let k8 = (lid % 4u) * 8u;
      var wv = W8(vec4f(0.0), vec4f(0.0));
      if (n0 + r < p.partRows) { wv = loadW8(n0 + r, kb + k8, p.K, p.scaleOff); }
      let o = r * PAD + k8;
      for (var j = 0u; j < 4u; j++) {
        ws[o + j] = wv.lo[j];
        ws[o + 4u + j] = wv.hi[j];
      }
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      let a0 = xs[ly * PAD + kk];
      let a1 = xs[(ly + 16u) * PAD + kk];
      let b0 = ws[lx * PAD + kk];
      let b1 = ws[(lx + 16u) * PAD + kk];
      acc += vec4f(a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    }
    workgroupBarrier();
  }

  for (var j = 0u; j < 4u; j++) {
    let t = t0 + ly + 16u * (j / 2u);
    let r = n0 + lx + 16u * (j % 2u);
    if (t < p.numTokens && r < p.partRows) {
      let n = p.rowStart + r;
      var v = acc[j];
      if (p.hasBias != 0u) { v += bias[n]; }
      y[t * p.yStride + n] = v;
    }
  }
}
