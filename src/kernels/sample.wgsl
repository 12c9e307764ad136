// One workgroup per sampled row of processed logits (bias/penalties already applied).
// Greedy rows: argmax, lowest id on ties. Other rows: weights w_i = exp((l_i - max) / T)
// over the tokens that survive top-k, top-p and min-p, then one draw u * Σw located by
// a prefix sum in token-id order. Every filter is a threshold on the ordered key of
// the logit, found without sorting:
//   top-k: the largest key K with count(key >= K) >= k  (= the k-th largest logit);
//   top-p: the largest key K with mass(key >= K) >= p * mass(kept by top-k);
//   min-p: l >= max + T * ln(min_p)   (p_i >= min_p * p_max);
// each found two bits per pass (16 passes of a workgroup reduction), so tokens tied with the
// threshold are all kept and the result depends on nothing but the row.

override WG: u32 = 256;  // power of two (tree reductions)

@group(0) @binding(0) var<storage, read> logits: array<f32>;      // [numRows, vocabSize] f32, processed
@group(0) @binding(1) var<storage, read> rows: array<u32>;        // [numRows, ROW_WORDS]
@group(0) @binding(2) var<storage, read_write> out: array<u32>;   // see outId(): writes the ids [numRows]
@group(0) @binding(3) var<uniform> dims: Dims;

// redF/redU/bcastF/bcastU and workgroupArgmax() come from sample-argmax.wgsl.
var<workgroup> red4: array<vec4f, WG>;
var<workgroup> bcast4: vec4f;
var<workgroup> drawTarget: f32;
var<workgroup> drawPrefix: f32;

// Sum over the workgroup of one vec4 per invocation, returned to all (uniform).
fn sum4(tid: u32, v: vec4f) -> vec4f {
  red4[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red4[tid] += red4[tid + s]; }
    workgroupBarrier();
  }
  if (tid == 0u) { bcast4 = red4[0]; }
  let total = workgroupUniformLoad(&bcast4);
  workgroupBarrier();  // nobody rewrites red4/bcast4 before everyone has read them
  return total;
}

// Component-wise minimum over the workgroup, returned to all (uniform).
fn min4(tid: u32, v: vec4f) -> vec4f {
  red4[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red4[tid] = min(red4[tid], red4[tid + s]); }
    workgroupBarrier();
  }
  if (tid == 0u) { bcast4 = red4[0]; }
  let lowest = workgroupUniformLoad(&bcast4);
  workgroupBarrier();
  return lowest;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let row = wid.x + wid.y * 65535u;
  if (row >= dims.numRows) { return; }  // uniform per workgroup
  let V = dims.vocabSize;
  let base = row * V;
  let p = row * ROW_WORDS;
  let flags = rows[p];

  // Argmax: each invocation scans ascending ids and keeps the first maximum; the tree
  // then prefers the lower id on equal values.
  var bestV = LOWEST_F32;
  var bestI = NO_TOKEN;
  for (var i = tid; i < V; i += WG) {
    let v = logits[base + i];
    if (bestI == NO_TOKEN || v > bestV) { bestV = v; bestI = i; }
  }
  let best = workgroupArgmax(tid, bestV, bestI);
  let maxV = bitcast<f32>(best.x);
  let argmax = best.y;
  if ((flags & FLAG_GREEDY) != 0u) {
    if (tid == 0u) { out[outId(dims.numRows, row)] = argmax; }
    return;
  }

  let temperature = bitcast<f32>(rows[p + 1u]);
  let topK = rows[p + 2u];
  let topP = bitcast<f32>(rows[p + 3u]);
  let minP = bitcast<f32>(rows[p + 4u]);
  let invT = 1.0 / temperature;
  var threshold = 0u;  // keep tokens with orderedKey(l) >= threshold

  // Both searches take the threshold two bits per pass: one pass over the row counts
  // (or weighs) the tokens at or above the three candidates k|01, k|10, k|11 of the
  // next digit, reduced together as one vec4; the largest candidate that still
  // satisfies the filter wins (counts and masses only fall as the candidate rises).
  if (topK > 0u && topK < V) {
    let wantCount = f32(topK);  // exact: topK < vocabSize < 2^24
    var k = 0u;
    for (var shift = 30i; shift >= 0i; shift -= 2i) {
      let c1 = k | (1u << u32(shift));
      let c2 = k | (2u << u32(shift));
      let c3 = k | (3u << u32(shift));
      var n = vec4f(0.0);
      for (var i = tid; i < V; i += WG) {
        let key = orderedKey(logits[base + i]);
        n += select(vec4f(0.0), vec4f(1.0), vec4<bool>(key >= c1, key >= c2, key >= c3, false));
      }
      let total = sum4(tid, n);
      var reached = 0.0;
      if (total.z >= wantCount) { k = c3; reached = total.z; } else if (total.y >= wantCount) { k = c2; reached = total.y; } else if (total.x >= wantCount) { k = c1; reached = total.x; }
      // Exactly topK at or above k: no key lies between k and the k-th largest, so the
      // lower bits would keep the same set. (uniform: `total` is)
      if (reached == wantCount) { break; }
    }
    threshold = k;
  }

  if (topP < 1.0) {
    var m = 0.0;
    for (var i = tid; i < V; i += WG) {
      let v = logits[base + i];
      if (orderedKey(v) >= threshold) { m += exp((v - maxV) * invT); }
    }
    let massTarget = topP * sum4(tid, vec4f(m, 0.0, 0.0, 0.0)).x;
    var k = 0u;
    for (var shift = 30i; shift >= 0i; shift -= 2i) {
      let c1 = k | (1u << u32(shift));
      let c2 = k | (2u << u32(shift));
      let c3 = k | (3u << u32(shift));
      let t1 = max(c1, threshold);
      let t2 = max(c2, threshold);
      let t3 = max(c3, threshold);
      var mass = vec4f(0.0);
      var lowest = vec4f(-LOWEST_F32);  // smallest logit at or above each candidate
      for (var i = tid; i < V; i += WG) {
        let v = logits[base + i];
        let key = orderedKey(v);
        if (key >= t1) {
          let w = exp((v - maxV) * invT);
          let above = vec4<bool>(true, key >= t2, key >= t3, false);
          mass += select(vec4f(0.0), vec4f(w), above);
          lowest = min(lowest, select(vec4f(-LOWEST_F32), vec4f(v), above));
        }
      }
      let total = sum4(tid, mass);
      let low = min4(tid, lowest);
      var reached = -1.0;
      var lowV = 0.0;
      if (total.z >= massTarget) { k = c3; reached = total.z; lowV = low.z; }
      else if (total.y >= massTarget) { k = c2; reached = total.y; lowV = low.y; }
      else if (total.x >= massTarget) { k = c1; reached = total.x; lowV = low.x; }
      // Dropping even one token at the lowest kept logit falls short of the target: the
      // nucleus is exactly the tokens >= lowV, so the lower bits are settled. (uniform)
      if (reached >= 0.0 && reached - exp((lowV - maxV) * invT) < massTarget) {
        k = orderedKey(lowV);
        break;
      }
    }
    threshold = max(threshold, k);
  }

  if (minP > 0.0) {
    threshold = max(threshold, orderedKey(maxV + temperature * log(minP)));
  }

  // Draw: contiguous id chunks per invocation so the prefix order is token-id order.
  let chunk = (V + WG - 1u) / WG;
  let lo = min(tid * chunk, V);
  let hi = min(lo + chunk, V);
  var mass = 0.0;
  for (var i = lo; i < hi; i++) {
    let v = logits[base + i];
    if (orderedKey(v) >= threshold) { mass += exp((v - maxV) * invT); }
  }
  redF[tid] = mass;
  workgroupBarrier();
  if (tid == 0u) {
    var total = 0.0;
    for (var t = 0u; t < WG; t++) { total += redF[t]; }
    let u = uniform01(rows[p + 5u], rows[p + 6u], rows[p + 7u]);
    let drawAt = u * total;
    // First chunk whose running mass passes the target; the last non-empty chunk if
    // rounding leaves the target at the very top.
    var running = 0.0;
    var chosen = NO_TOKEN;
    var chosenPrefix = 0.0;
    var lastNonEmpty = 0u;
    var lastPrefix = 0.0;
    for (var t = 0u; t < WG; t++) {
      let s = redF[t];
      if (s > 0.0) {
        if (chosen == NO_TOKEN && running + s > drawAt) { chosen = t; chosenPrefix = running; }
        lastNonEmpty = t;
        lastPrefix = running;
      }
      running += s;
    }
    if (chosen == NO_TOKEN) { chosen = lastNonEmpty; chosenPrefix = lastPrefix; }
    bcastU = chosen;
    drawPrefix = chosenPrefix;
    drawTarget = drawAt;
  }
  workgroupBarrier();
  if (tid == bcastU) {
    var running = drawPrefix;
    var pick = NO_TOKEN;
    var lastKept = argmax;
    for (var i = lo; i < hi; i++) {
      let v = logits[base + i];
      let w = exp((v - maxV) * invT);
      if (orderedKey(v) >= threshold && w > 0.0) {  // never a token of probability 0
        running += w;
        lastKept = i;
        if (running > drawTarget) { pick = i; break; }
      }
    }
    out[outId(dims.numRows, row)] = select(pick, lastKept, pick == NO_TOKEN);
  }
}
