// RMSNorm over rows: out[r, i] = x[r, i] / sqrt(mean(x[r, :]^2) + eps) * weight[i].
// main: one workgroup per row; the sum of squares is a tree reduction in workgroup memory.
// perThread: one invocation per row, summing in order, with no barriers (software
// adapters, where a barrier costs more than a short row).

override WG: u32 = 64;

struct Params {
  numRows: u32,
  rowSize: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;          // [numRows, rowSize] f32
@group(0) @binding(1) var<storage, read> weight: array<f32>;     // [rowSize] f32
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // [numRows, rowSize] f32
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = wid.x + wid.y * 65535u;
  if (row >= params.numRows) { return; }  // uniform per workgroup: safe before barriers
  let base = row * params.rowSize;
  var sumSq = 0.0;
  for (var i = tid; i < params.rowSize; i += WG) {
    let v = x[base + i];
    sumSq += v * v;
  }
  partial[tid] = sumSq;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (tid < stride) { partial[tid] += partial[tid + stride]; }
    workgroupBarrier();
  }
  let invRms = inverseSqrt(partial[0] / f32(params.rowSize) + params.eps);
  for (var i = tid; i < params.rowSize; i += WG) {
    out[base + i] = x[base + i] * invRms * weight[i];
  }
}

@compute @workgroup_size(WG)
fn perThread(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= params.numRows) { return; }
  let base = row * params.rowSize;
  var sumSq = 0.0;
  for (var i = 0u; i < params.rowSize; i++) {
    let v = x[base + i];
    sumSq += v * v;
  }
  let invRms = inverseSqrt(sumSq / f32(params.rowSize) + params.eps);
  for (var i = 0u; i < params.rowSize; i++) {
    out[base + i] = x[base + i] * invRms * weight[i];
  }
}
