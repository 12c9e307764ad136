// Residual add and the next RMSNorm in one pass over each row (x: the residual stream):
//
//   y'        = HAS_POST ? y / rms(y) · postWeight : y        gemma2/3 post-norm of the sub-block output
//   x[r, :]  += y'[r, :]
//   out[r, :] = x[r, :] / rms(x[r, :]) · weight
//   rms(v)    = sqrt(mean(v²) + eps)
//
// main: one workgroup per row, sums of squares as the same WG = 64 tree as rmsnorm.wgsl's
// main; perThread: one invocation per row summing in order, as rmsnorm.wgsl's perThread.
// Each thread writes x[i] and reads it back for `out` at the same i, so no barrier is
// needed between them; the reduction order is the unfused kernels', so the bits are too
// (y' rounded before the add as they store it: rounded()).

override WG: u32 = 64;
override HAS_POST: bool = false;

struct Params {
  numRows: u32,
  rowSize: u32,
  eps: f32,
  zero: u32, // always 0 (rounded())
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;    // [numRows, rowSize] f32, residual (updated)
@group(0) @binding(1) var<storage, read> y: array<f32>;          // [numRows, rowSize] f32, sub-block output
@group(0) @binding(2) var<storage, read> postWeight: array<f32>; // [rowSize] f32 (HAS_POST)
@group(0) @binding(3) var<storage, read> weight: array<f32>;     // [rowSize] f32
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // [numRows, rowSize] f32
@group(0) @binding(5) var<uniform> params: Params;

var<workgroup> partial: array<f32, WG>;

// The post-normed y' as the unfused graph stores it, a rounded f32, before the add. Written
// as x + y·s·w, a compiler may contract the last product and the add into one fused
// multiply-add (NVIDIA's does: x a bit off the unfused graph's, seen on an H200); an OR with
// a uniform it cannot know is 0 keeps the product and the add apart.
fn rounded(p: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(p) | params.zero);
}

// Sum of every thread's `v`, as a fixed tree; uniform control flow only.
fn workgroupSum(tid: u32, v: f32) -> f32 {
  partial[tid] = v;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (tid < stride) { partial[tid] += partial[tid + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier(); // partial is written again by the next sum
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = wid.x + wid.y * 65535u;
  if (row >= params.numRows) { return; }  // uniform per workgroup: safe before barriers
  let n = params.rowSize;
  let base = row * n;
  var postInv = 1.0;
  if (HAS_POST) {
    var sumSqY = 0.0;
    for (var i = tid; i < n; i += WG) { let v = y[base + i]; sumSqY += v * v; }
    postInv = inverseSqrt(workgroupSum(tid, sumSqY) / f32(n) + params.eps);
  }
  var sumSq = 0.0;
  for (var i = tid; i < n; i += WG) {
    var yi = y[base + i];
    if (HAS_POST) { yi = rounded(yi * postInv * postWeight[i]); }
    let v = x[base + i] + yi;
    x[base + i] = v;
    sumSq += v * v;
  }
  let invRms = inverseSqrt(workgroupSum(tid, sumSq) / f32(n) + params.eps);
  for (var i = tid; i < n; i += WG) { out[base + i] = x[base + i] * invRms * weight[i]; }
}

@compute @workgroup_size(WG)
fn perThread(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= params.numRows) { return; }
  let n = params.rowSize;
  let base = row * n;
  var postInv = 1.0;
  if (HAS_POST) {
    var sumSqY = 0.0;
    for (var i = 0u; i < n; i++) { let v = y[base + i]; sumSqY += v * v; }
    postInv = inverseSqrt(sumSqY / f32(n) + params.eps);
  }
  var sumSq = 0.0;
  for (var i = 0u; i < n; i++) {
    var yi = y[base + i];
    if (HAS_POST) { yi = rounded(yi * postInv * postWeight[i]); }
    let v = x[base + i] + yi;
    x[base + i] = v;
    sumSq += v * v;
  }
  let invRms = inverseSqrt(sumSq / f32(n) + params.eps);
  for (var i = 0u; i < n; i++) { out[base + i] = x[base + i] * invRms * weight[i]; }
}
