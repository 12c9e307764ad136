// Log-probabilities of the processed logits (after bias/penalties, before temperature
// and filtering), one workgroup per row that asked for them: (l - max) - log Σ exp(l - max)
// for the sampled token, and the n best as (id, logprob) pairs highest first, lowest
// id first among equal logits (layout: outId() in sample-common.wgsl). Pick j is the maximum over
// tokens ordered strictly after pick j-1 in (logit desc, id asc), so no list of
// earlier picks is needed.

override WG: u32 = 256;  // power of two (tree reductions)

@group(0) @binding(0) var<storage, read> logits: array<f32>;      // [numRows, vocabSize] f32, processed
@group(0) @binding(1) var<storage, read> rows: array<u32>;        // [numRows, ROW_WORDS]
@group(0) @binding(2) var<storage, read_write> out: array<u32>;   // see outId(): reads the ids, writes logprobs and tops
@group(0) @binding(3) var<uniform> dims: Dims;

// redF/redU/bcastF/bcastU and workgroupArgmax() come from sample-argmax.wgsl.

// Best (value, id) over the row among tokens after (afterV, afterI) in (desc, asc) order.
fn bestAfter(tid: u32, base: u32, V: u32, afterV: f32, afterI: u32, first: bool) -> vec2u {
  var bestV = LOWEST_F32;
  var bestI = NO_TOKEN;
  for (var i = tid; i < V; i += WG) {
    let v = logits[base + i];
    let eligible = first || v < afterV || (v == afterV && i > afterI);
    if (eligible && (bestI == NO_TOKEN || v > bestV)) { bestV = v; bestI = i; }
  }
  return workgroupArgmax(tid, bestV, bestI);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = wid.x + wid.y * 65535u;
  if (row >= dims.numRows) { return; }  // uniform per workgroup
  let p = row * ROW_WORDS;
  if ((rows[p] & FLAG_LOGPROBS) == 0u) { return; }
  let V = dims.vocabSize;
  let base = row * V;
  let numTop = min(rows[p + 8u], V);

  let top = bestAfter(tid, base, V, 0.0, 0u, true);
  let maxV = bitcast<f32>(top.x);
  var s = 0.0;
  for (var i = tid; i < V; i += WG) { s += exp(logits[base + i] - maxV); }
  redF[tid] = s;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (tid < w) { redF[tid] += redF[tid + w]; }
    workgroupBarrier();
  }
  // (l - max) - log Σ rather than l - (max + log Σ): with logits ~1e4 the sum max + log Σ
  // would round to f32 spacing at 1e4 (~1e-3), far above the logprob tolerance.
  let logSum = log(redF[0]);
  workgroupBarrier();  // everyone has read redF[0] before bestAfter reuses it
  let S = dims.numRows;
  if (tid == 0u) {
    out[outLogprob(S, row)] = bitcast<u32>((logits[base + out[outId(S, row)]] - maxV) - logSum);
  }
  var prev = top;
  for (var j = 0u; j < numTop; j++) {
    if (j > 0u) { prev = bestAfter(tid, base, V, bitcast<f32>(prev.x), prev.y, false); }
    if (tid == 0u) {
      out[outTop(S, row, j)] = prev.y;
      out[outTop(S, row, j) + 1u] = bitcast<u32>((bitcast<f32>(prev.x) - maxV) - logSum);
    }
  }
}
