// Greedy sampling stand-in (engineer R, until the full GPU sampler is wired in):
// ids[r] = argmax over logits[r, :], lowest index on ties (llama2.c's argmax).
// One workgroup per row: each thread scans a strided slice, then a tree reduction.

override WG: u32 = 256; // power of two

struct Params {
  numRows: u32,
  vocabSize: u32,
}

@group(0) @binding(0) var<storage, read> logits: array<f32>;     // [numRows, vocabSize] f32
@group(0) @binding(1) var<storage, read_write> ids: array<u32>;  // [numRows] u32
@group(0) @binding(2) var<uniform> params: Params;

var<workgroup> bestValue: array<f32, WG>;
var<workgroup> bestIndex: array<u32, WG>;

// True when (v, i) should replace (bv, bi): larger value, or equal value and lower index.
fn better(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let row = wid.x;
  if (row >= params.numRows) { return; } // uniform per workgroup
  let base = row * params.vocabSize;
  var bv = -3.4028234e38;
  var bi = 0xffffffffu;
  for (var i = lid.x; i < params.vocabSize; i += WG) {
    let v = logits[base + i];
    if (better(v, i, bv, bi)) { bv = v; bi = i; }
  }
  bestValue[lid.x] = bv;
  bestIndex[lid.x] = bi;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride /= 2u) {
    if (lid.x < stride) {
      let ov = bestValue[lid.x + stride];
      let oi = bestIndex[lid.x + stride];
      if (better(ov, oi, bestValue[lid.x], bestIndex[lid.x])) {
        bestValue[lid.x] = ov;
        bestIndex[lid.x] = oi;
      }
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    // A row of NaNs selects nothing: report 0 rather than an out-of-vocabulary id.
    ids[row] = select(bestIndex[0], 0u, bestIndex[0] == 0xffffffffu);
  }
}
