// Pooling of an embedding batch: one vector per sequence from its rows of the final
// hidden states (llama.cpp's build_pooling).
//   out[s, i] = sum_{r < count_s} x[first_s + r, i] * weight_s
// mean: all the sequence's rows, weight 1/count (llama.cpp multiplies by 1/n too);
// cls: its first row; last: its last row (count 1, weight 1). One invocation per (s, i)
// sums its column in row order, so a sequence's vector does not depend on the others.

override WG: u32 = 64;

struct Params {
  numSeqs: u32,
  dim: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;          // [T, dim] f32
@group(0) @binding(1) var<storage, read> seqRows: array<vec2u>;  // [numSeqs] (first row, row count)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // [numSeqs, dim] f32
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= params.numSeqs * params.dim) { return; }
  let s = idx / params.dim;
  let i = idx - s * params.dim;
  let rows = seqRows[s];
  let w = 1.0 / f32(rows.y);
  var acc = 0.0;
  for (var r = 0u; r < rows.y; r++) { acc += x[(rows.x + r) * params.dim + i] * w; }
  out[idx] = acc;
}
