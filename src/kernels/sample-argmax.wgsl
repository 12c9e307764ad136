// Workgroup argmax shared by sample.wgsl and logprobs.wgsl (concatenated after
// sample-common.wgsl; the including shader declares `override WG`, a power of two).
// Equal values resolve to the lower token id, so the result is the same for any WG.

var<workgroup> redF: array<f32, WG>;
var<workgroup> redU: array<u32, WG>;
var<workgroup> bcastF: f32;
var<workgroup> bcastU: u32;

// Reduces each invocation's (bestV, bestI) over the workgroup; every invocation gets
// (bitcast<u32>(max value), its lowest id). bestI == NO_TOKEN means "no candidate".
fn workgroupArgmax(tid: u32, bestV: f32, bestI: u32) -> vec2u {
  redF[tid] = bestV;
  redU[tid] = bestI;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      let ov = redF[tid + s];
      let oi = redU[tid + s];
      let mine = redU[tid];
      if (oi != NO_TOKEN && (mine == NO_TOKEN || ov > redF[tid] || (ov == redF[tid] && oi < mine))) {
        redF[tid] = ov;
        redU[tid] = oi;
      }
    }
    workgroupBarrier();
  }
  if (tid == 0u) { bcastF = redF[0]; bcastU = redU[0]; }
  let v = workgroupUniformLoad(&bcastF);
  let i = workgroupUniformLoad(&bcastU);
  workgroupBarrier();
  return vec2u(bitcast<u32>(v), i);
}
