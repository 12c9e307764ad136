// Copies raw logits into the sampler's scratch rows, so penalties can be applied
// without touching logits the step also returns.

override WG: u32 = 256;

@group(0) @binding(0) var<storage, read> src: array<f32>;         // [numRows, vocabSize] f32
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;   // [numRows, vocabSize] f32
@group(0) @binding(2) var<uniform> dims: Dims;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= dims.numRows * dims.vocabSize) { return; }
  dst[i] = src[i];
}
