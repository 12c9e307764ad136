// Matrix × vector (decode): y[t, n] = Σ_k x[t, k] · W[n, k] (+ bias[n]) for a few tokens.
// One workgroup per weight row of this part and per group of 4 tokens: the row is
// read once for those 4 tokens, threads stride over K in runs of 8 weights (one
// loadW8 each), then a tree reduction. Prepended: matmul-dequant-common.wgsl and
// one matmul-dequant-<type>.wgsl (defines loadW8).

override WG: u32 = 64u; // power of two

struct Params {
  numTokens: u32,     // T
  K: u32,             // cols of W, row length of x
  partRows: u32,      // rows of W in this part
  yStride: u32,       // N: row length of y
  rowStart: u32,      // first output column of this part
  scaleOff: u32,      // word offset of the part's f16 scale segment
  wgX: u32,           // workgroups along x (rows are split over x and y)
  hasBias: u32,
}

@group(0) @binding(0) var<storage, read> w: array<u32>;        // [repacked part] u32
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [T, K] f32
@group(0) @binding(2) var<storage, read> bias: array<f32>;     // [N] f32 (unused when hasBias = 0)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [T, N] f32
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> partial: array<vec4f, WG>; // [WG] one lane per token of the group

fn x4(t: u32, k: u32) -> vec4f {
  let i = t * p.K + k;
  if (k + 4u <= p.K) {
    return vec4f(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
  }
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (k + j < p.K) { v[j] = x[i + j]; }
  }
  return v;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = wid.y * p.wgX + wid.x;
  if (row >= p.partRows) { return; } // uniform: depends on the workgroup only
  let t0 = wid.z * 4u;
  let tCount = min(4u, p.numTokens - t0);
  var acc = vec4f(0.0);
  let runs = (p.K + 7u) / 8u;
  for (var r = lid; r < runs; r += WG) {
    let k0 = r * 8u;
    let wv = loadW8(row, k0, p.K, p.scaleOff);
    for (var t = 0u; t < tCount; t++) {
      acc[t] += dot(wv.lo, x4(t0 + t, k0)) + dot(wv.hi, x4(t0 + t, k0 + 4u));
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  if (lid < tCount) {
    let n = p.rowStart + row;
    var v = partial[0][lid];
    if (p.hasBias != 0u) { v += bias[n]; }
    y[(t0 + lid) * p.yStride + n] = v;
  }
}
