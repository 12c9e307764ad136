// Paged causal attention for a flattened batch. One workgroup per (head, token).
//
//   token t (position p, its sequence's block table at blockTables[btStart..]) attends
//   to positions j = 0..p of its own sequence; K/V of position j sit in pool slot
//       blockTables[btStart + (j >> 4)] * 16 + (j & 15)
//   kv head = head / (numHeads / numKvHeads)  (GQA)
//
// The context is walked in tiles of WG positions: each thread scores one position
// (dot over headDim with q in workgroup memory), the tile's max and sum are scans
// of workgroup memory, and the running output (online softmax: m, l, acc rescaled by
// exp(m_old - m_new)) is split over threads by head dimension.
//
// Split-context variant (flash-decoding) for few (token, head) pairs over long
// contexts: `partial` runs one workgroup per (head, token, partition of partLen
// positions) and writes (acc[headDim], m, l) records; `combine` merges a token-head's
// records: out = sum_p acc_p e^(m_p - M) / sum_p l_p e^(m_p - M), M = max_p m_p.

// KV element type: replaced by `alias KvT = f16;` (+ `enable f16;`) for the
// half-precision pool (attention.ts); all math stays f32.
alias KvT = f32;

override WG: u32 = 64;
const MAX_HEAD_DIM: u32 = 256u;
const MAX_DIMS_PER_THREAD: u32 = 8u; // headDim <= WG * 8 (checked on the CPU)
const BLOCK_SIZE: u32 = 16u;

struct Params {
  numTokens: u32,
  numHeads: u32,
  numKvHeads: u32,
  headDim: u32,
  qRowStride: u32,
  qColOffset: u32,
  outRowStride: u32,
  scale: f32,
  numParts: u32,  // split variant: partitions per (token, head)
  partLen: u32,   // split variant: positions per partition (multiple of WG)
}

@group(0) @binding(0) var<storage, read> q: array<f32>;             // [numTokens, qRowStride] f32
@group(0) @binding(1) var<storage, read> kPool: array<KvT>;         // [numBlocks, 16, nKvHeads, headDim] KvT
@group(0) @binding(2) var<storage, read> vPool: array<KvT>;         // [numBlocks, 16, nKvHeads, headDim] KvT
@group(0) @binding(3) var<storage, read> tokenMeta: array<vec2i>;   // [numTokens] (position, blockTable start)
@group(0) @binding(4) var<storage, read> blockTables: array<i32>;   // [sum of table lengths] block ids
@group(0) @binding(5) var<storage, read_write> out: array<f32>;     // main: [numTokens, outRowStride]; partial: [numTokens, numHeads, numParts, headDim + 2] f32
@group(0) @binding(6) var<uniform> params: Params;

var<workgroup> qShared: array<f32, MAX_HEAD_DIM>;  // [headDim] q * scale
var<workgroup> tileProb: array<f32, WG>;           // [WG] exp(score - m)
var<workgroup> tileSlot: array<u32, WG>;           // [WG] pool slot of each tile position
var<workgroup> redMax: array<f32, WG>;

var<private> acc: array<f32, MAX_DIMS_PER_THREAD>;  // this thread's dims tid + k * WG of the output

// Loads q of (t, h) scaled into workgroup memory. Uniform control flow only.
fn loadQ(tid: u32, t: u32, h: u32) {
  let qBase = t * params.qRowStride + params.qColOffset + h * params.headDim;
  for (var i = tid; i < params.headDim; i += WG) { qShared[i] = q[qBase + i] * params.scale; }
  workgroupBarrier();
}

// Online softmax over context positions [start, end) of (t, h); leaves the unnormalised
// output in `acc` and returns (m, l). Uniform control flow only (barriers inside).
fn attendRange(tid: u32, h: u32, btStart: u32, start: u32, end: u32) -> vec2f {
  let d = params.headDim;
  let kvh = h / (params.numHeads / params.numKvHeads);
  let kvRowStride = params.numKvHeads * d;  // elements per slot
  var m = -3.0e38;  // running max (finite: exp(m - mNew) must not be NaN)
  var l = 0.0;      // running sum of exp(score - m)
  for (var k = 0u; k < MAX_DIMS_PER_THREAD; k++) { acc[k] = 0.0; }

  for (var tileStart = start; tileStart < end; tileStart += WG) {
    let j = tileStart + tid;
    var score = -3.0e38;
    if (j < end) {
      let slot = u32(blockTables[btStart + j / BLOCK_SIZE]) * BLOCK_SIZE + (j % BLOCK_SIZE);
      tileSlot[tid] = slot;
      let kBase = slot * kvRowStride + kvh * d;
      var dot = 0.0;
      for (var i = 0u; i < d; i++) { dot += qShared[i] * f32(kPool[kBase + i]); }
      score = dot;
    }
    // Tile max and sum: every thread scans the WG values (broadcast reads of workgroup
    // memory) instead of a tree reduction: 3 barriers per tile instead of 15.
    redMax[tid] = score;
    workgroupBarrier();
    var tileMax = -3.0e38;
    for (var jj = 0u; jj < WG; jj++) { tileMax = max(tileMax, redMax[jj]); }
    let mNew = max(m, tileMax);
    var p = 0.0;
    if (j < end) { p = exp(score - mNew); }
    tileProb[tid] = p;
    workgroupBarrier();
    var tileSum = 0.0;
    for (var jj = 0u; jj < WG; jj++) { tileSum += tileProb[jj]; }
    let correction = exp(m - mNew);
    l = l * correction + tileSum;
    m = mNew;
    let n = min(WG, end - tileStart);
    for (var k = 0u; k < MAX_DIMS_PER_THREAD; k++) {
      let i = tid + k * WG;
      if (i < d) {
        var a = acc[k] * correction;
        for (var jj = 0u; jj < n; jj++) { a += tileProb[jj] * f32(vPool[tileSlot[jj] * kvRowStride + kvh * d + i]); }
        acc[k] = a;
      }
    }
    workgroupBarrier();  // tileProb / tileSlot / redMax are rewritten by the next tile
  }
  return vec2f(m, l);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let t = wid.y + wid.z * 65535u;
  if (t >= params.numTokens) { return; }  // uniform per workgroup
  let tokenInfo = tokenMeta[t];
  loadQ(tid, t, h);
  let ml = attendRange(tid, h, u32(tokenInfo.y), 0u, u32(tokenInfo.x) + 1u);
  let outBase = t * params.outRowStride + h * params.headDim;
  for (var k = 0u; k < MAX_DIMS_PER_THREAD; k++) {
    let i = tid + k * WG;
    if (i < params.headDim) { out[outBase + i] = acc[k] / ml.y; }
  }
}

@compute @workgroup_size(WG)
fn partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let t = wid.y;
  let part = wid.z;
  if (t >= params.numTokens) { return; }
  let tokenInfo = tokenMeta[t];
  let ctxLen = u32(tokenInfo.x) + 1u;
  let start = part * params.partLen;
  let end = min(start + params.partLen, ctxLen);
  var ml = vec2f(-3.0e38, 0.0);  // an empty partition: weight exp(-3e38 - M) = 0
  if (start < ctxLen) {
    loadQ(tid, t, h);
    ml = attendRange(tid, h, u32(tokenInfo.y), start, end);
  } else {
    for (var k = 0u; k < MAX_DIMS_PER_THREAD; k++) { acc[k] = 0.0; }
  }
  let rec = params.headDim + 2u;
  let base = ((t * params.numHeads + h) * params.numParts + part) * rec;
  for (var k = 0u; k < MAX_DIMS_PER_THREAD; k++) {
    let i = tid + k * WG;
    if (i < params.headDim) { out[base + i] = acc[k]; }
  }
  if (tid == 0u) {
    out[base + params.headDim] = ml.x;
    out[base + params.headDim + 1u] = ml.y;
  }
}

@group(0) @binding(0) var<storage, read> partials: array<f32>;      // [numTokens, numHeads, numParts, headDim + 2] f32
@group(0) @binding(1) var<storage, read_write> combined: array<f32>; // [numTokens, outRowStride] f32
@group(0) @binding(2) var<uniform> cparams: Params;

@compute @workgroup_size(WG)
fn combine(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let t = wid.y;
  if (t >= cparams.numTokens) { return; }
  let rec = cparams.headDim + 2u;
  let first = (t * cparams.numHeads + h) * cparams.numParts * rec;
  var mMax = -3.0e38;
  for (var p = 0u; p < cparams.numParts; p++) { mMax = max(mMax, partials[first + p * rec + cparams.headDim]); }
  var lSum = 0.0;
  for (var p = 0u; p < cparams.numParts; p++) {
    let r = first + p * rec + cparams.headDim;
    lSum += partials[r + 1u] * exp(partials[r] - mMax);
  }
  for (var i = tid; i < cparams.headDim; i += WG) {
    var a = 0.0;
    for (var p = 0u; p < cparams.numParts; p++) {
      let r = first + p * rec;
      a += partials[r + i] * exp(partials[r + cparams.headDim] - mMax);
    }
    combined[t * cparams.outRowStride + h * cparams.headDim + i] = a / lSum;
  }
}
