// Matrix × vector (decode): y[t, n] = Σ_k x[t, k] · W[n, k] (+ bias[n]) for a few tokens.
// One workgroup per ROWS_PER_WG weight rows of this part and per group of 4 tokens:
// each row is read once for those 4 tokens by THREADS_PER_ROW threads striding over K
// in runs of 8 weights (one loadW8 each), then one barrier and a serial sum of partials.
// Prepended: matmul-dequant-common.wgsl, one matmul-dequant-<type>.wgsl (defines loadW8)
// and matmul-io.wgsl (Params, bindings).

// Threads per row: a power of two. With 1 (the default), each row is summed in K
// order exactly like the tiled kernel, so outputs do not depend on batch size;
// more threads per row read K in parallel (faster on some GPUs) but sum in another order.
override ROWS_PER_WG: u32 = 64u;
override THREADS_PER_ROW: u32 = 1u;

// [ROWS_PER_WG * THREADS_PER_ROW] partial sums, one lane per token of the group
var<workgroup> partial: array<vec4f, ROWS_PER_WG * THREADS_PER_ROW>;

fn x4(t: u32, k: u32) -> vec4f {
  let i = t * p.K + k;
  if (k + 4u <= p.K) {
    return vec4f(x[i], x[i + 1u], x[i + 2u], x[i + 3u]);
  }
  var v = vec4f(0.0);
  for (var j = 0u; j < 4u; j++) {
    if (k + j < p.K) { v[j] = x[i + j]; }
  }
  return v;
}

@compute @workgroup_size(ROWS_PER_WG * THREADS_PER_ROW)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % THREADS_PER_ROW;
  let row = (wid.y * p.wgX + wid.x) * ROWS_PER_WG + lid / THREADS_PER_ROW;
  let t0 = wid.z * 4u;
  let tCount = min(4u, p.numTokens - t0);
  var acc = vec4f(0.0);
  if (row < p.partRows) {
    let runs = (p.K + 7u) / 8u;
    for (var r = lane; r < runs; r += THREADS_PER_ROW) {
      let k0 = r * 8u;
      let wv = loadW8(row, k0, p.K, p.scaleOff);
      for (var t = 0u; t < tCount; t++) {
        // same operations and order as matmul-tiled.wgsl (when THREADS_PER_ROW = 1)
        acc[t] += dot(wv.lo, x4(t0 + t, k0)) + dot(wv.hi, x4(t0 + t, k0 + 4u));
      }
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  if (lane == 0u && row < p.partRows) {
    var sum = vec4f(0.0);
    for (var i = 0u; i < THREADS_PER_ROW; i++) { sum += partial[lid + i]; }
    let n = p.rowStart + row;
    let b = select(0.0, bias[n], p.hasBias != 0u);
    for (var t = 0u; t < tCount; t++) {
      y[(t0 + t) * p.yStride + n] = sum[t] + b;
    }
  }
}
