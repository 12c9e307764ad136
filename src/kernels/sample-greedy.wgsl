// Greedy rows without barriers: one invocation per row scans the row in id order and
// keeps the first maximum (the lowest id on ties, as workgroupArgmax does). Used in place
// of sample.wgsl on software adapters when every row of the step is greedy.
// Prepended: sample-common.wgsl.

override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> logits: array<f32>;      // [numRows, vocabSize] f32, processed
@group(0) @binding(1) var<storage, read_write> out: array<u32>;   // outId(): the ids [numRows]
@group(0) @binding(2) var<uniform> dims: Dims;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = gid.x + gid.y * nwg.x * WG;
  if (row >= dims.numRows) { return; }
  let base = row * dims.vocabSize;
  var bestV = LOWEST_F32;
  var bestI = NO_TOKEN;
  for (var i = 0u; i < dims.vocabSize; i++) {
    let v = logits[base + i];
    if (bestI == NO_TOKEN || v > bestV) { bestV = v; bestI = i; }
  }
  out[outId(dims.numRows, row)] = bestI;
}
