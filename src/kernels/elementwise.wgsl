// Small elementwise kernels that sit between matmuls. Grid-stride loops over a 2-D
// dispatch so any size fits under the 65535-workgroups-per-dimension limit.
//   add_inplace : x[i] += y[i]                                     (residual add)
//   silu_mul    : out[t, i] = silu(a[t, aOff + i]) * b[t, bOff + i] (FFN; phi3 reads gate
//                 and up from one fused [T, 2 ffnDim] row: a == b, different offsets)
//   gather_rows : out[r, :] = x[rows[r], :]                         (last tokens to sample)
// Entry points use disjoint variables; bindings restart at 0 for each.

override WG: u32 = 256;

struct Params {
  n: u32,          // elements per row (add: total elements)
  numRows: u32,
  aStride: u32,
  aOffset: u32,
  bStride: u32,
  bOffset: u32,
}

@group(0) @binding(0) var<storage, read_write> addX: array<f32>;  // [n] f32
@group(0) @binding(1) var<storage, read> addY: array<f32>;        // [n] f32
@group(0) @binding(2) var<uniform> addParams: Params;

@compute @workgroup_size(WG)
fn add_inplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x + gid.y * nwg.x * WG; i < addParams.n; i += nwg.x * nwg.y * WG) {
    addX[i] = addX[i] + addY[i];
  }
}

@group(0) @binding(0) var<storage, read> gate: array<f32>;        // [numRows, aStride] f32
@group(0) @binding(1) var<storage, read> up: array<f32>;          // [numRows, bStride] f32
@group(0) @binding(2) var<storage, read_write> act: array<f32>;   // [numRows, n] f32
@group(0) @binding(3) var<uniform> siluParams: Params;

@compute @workgroup_size(WG)
fn silu_mul(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = siluParams;
  let total = p.n * p.numRows;
  for (var i = gid.x + gid.y * nwg.x * WG; i < total; i += nwg.x * nwg.y * WG) {
    let t = i / p.n;
    let c = i - t * p.n;
    let g = gate[t * p.aStride + p.aOffset + c];
    act[i] = g / (1.0 + exp(-g)) * up[t * p.bStride + p.bOffset + c];
  }
}

@group(0) @binding(0) var<storage, read> src: array<f32>;          // [*, n] f32
@group(0) @binding(1) var<storage, read> rowIds: array<u32>;       // [numRows] u32
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;    // [numRows, n] f32
@group(0) @binding(3) var<uniform> gatherParams: Params;

@compute @workgroup_size(WG)
fn gather_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = gatherParams;
  let total = p.n * p.numRows;
  for (var i = gid.x + gid.y * nwg.x * WG; i < total; i += nwg.x * nwg.y * WG) {
    let r = i / p.n;
    dst[i] = src[rowIds[r] * p.n + (i - r * p.n)];
  }
}
