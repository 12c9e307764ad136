// LayerNorm over rows, as ggml_norm then · weight + bias (llama.cpp's LLM_NORM):
//   mean = sum(x) / n;  var = sum((x - mean)²) / n
//   out[r, i] = (x[r, i] - mean) / sqrt(var + eps) * weight[i] + bias[i]
// Two passes over the row (mean first, then the centred squares), as ggml does: a
// one-pass E[x²] - E[x]² would cancel catastrophically on rows with a large mean. The mean
// is summed as x - x[0] (shifted by the row's first value): ggml sums in double, and an f32
// sum of large equal-signed values would lose the digits the centring needs.
// main: one workgroup per row, tree reductions in workgroup memory. perThread: one
// invocation per row, summing in order (software adapters).

override WG: u32 = 64;

struct Params {
  numRows: u32,
  rowSize: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;          // [numRows, rowSize] f32
@group(0) @binding(1) var<storage, read> weight: array<f32>;     // [rowSize] f32
@group(0) @binding(2) var<storage, read> bias: array<f32>;       // [rowSize] f32
@group(0) @binding(3) var<storage, read_write> out: array<f32>;  // [numRows, rowSize] f32
@group(0) @binding(4) var<uniform> params: Params;

var<workgroup> partial: array<f32, WG>;

// Sum of partial[0..WG) into partial[0]. Uniform control flow only.
fn reduce(tid: u32) -> f32 {
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (tid < stride) { partial[tid] += partial[tid + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();  // everyone has read partial[0] before it is rewritten
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = wid.x + wid.y * 65535u;
  if (row >= params.numRows) { return; }  // uniform per workgroup: safe before barriers
  let n = params.rowSize;
  let base = row * n;
  let shift = x[base];
  var sum = 0.0;
  for (var i = tid; i < n; i += WG) { sum += x[base + i] - shift; }
  partial[tid] = sum;
  let mean = shift + reduce(tid) / f32(n);
  var sumSq = 0.0;
  for (var i = tid; i < n; i += WG) {
    let d = x[base + i] - mean;
    sumSq += d * d;
  }
  partial[tid] = sumSq;
  let scale = 1.0 / sqrt(reduce(tid) / f32(n) + params.eps);
  for (var i = tid; i < n; i += WG) {
    out[base + i] = (x[base + i] - mean) * scale * weight[i] + bias[i];
  }
}

@compute @workgroup_size(WG)
fn perThread(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= params.numRows) { return; }
  let n = params.rowSize;
  let base = row * n;
  let shift = x[base];
  var sum = 0.0;
  for (var i = 0u; i < n; i++) { sum += x[base + i] - shift; }
  let mean = shift + sum / f32(n);
  var sumSq = 0.0;
  for (var i = 0u; i < n; i++) {
    let d = x[base + i] - mean;
    sumSq += d * d;
  }
  let scale = 1.0 / sqrt(sumSq / f32(n) + params.eps);
  for (var i = 0u; i < n; i++) {
    out[base + i] = (x[base + i] - mean) * scale * weight[i] + bias[i];
  }
}
