// Paged causal attention for a flattened batch. One workgroup per (head group, token):
// GROUP consecutive query heads that share one kv head (GQA; GROUP divides
// numHeads / numKvHeads) are served together, so each K/V row is read once for all.
//
//   token t (position p, its sequence's block table at blockTables[btStart..]) attends
//   to positions j = windowStart(p)..p of its own sequence (0..p without a window); K/V of position j sit in pool slot
//       blockTables[btStart + (j >> 4)] * 16 + (j & 15)
//   workgroup x serves query heads h = x * GROUP + r (r < GROUP), all of kv head
//   kvh = h / (numHeads / numKvHeads)
//
// The context is walked in tiles of WG positions: K of the tile is staged through
// workgroup memory KC dims at a time (coalesced reads), each thread scores one position for
// every head of the group (q in workgroup memory), each head's tile max and sum are
// scans of workgroup memory, and the running outputs (online softmax: m, l, acc
// rescaled by exp(m_old - m_new)) are split over threads by head dimension.
//
// Split-context variant (flash-decoding): `partial` runs one workgroup per (head group,
// token, partition of partLen positions) and writes a (acc[headDim], m, l) record per query
// head; `combine` merges a token-head's records: out = sum_p acc_p e^(m_p - M) / sum_p l_p e^(m_p - M).
// With a fixed partLen a token's output depends only on its own context: partitions past
// it are empty (m = NEG_BIG, l = 0, acc = 0) and add exact zeros, so numParts (the batch's
// longest context) never changes its bits; with one partition it equals the one-pass `main`
// bit for bit (e^0 = 1). Tokens run in chunks (tokenOffset) so the scratch stays bounded.

// KV element type: replaced by `alias KvT = f16;` (+ `enable f16;`) for the
// half-precision pool (attention.ts); all math stays f32.
alias KvT = f32;

override WG: u32 = 64;
override GROUP: u32 = 1;  // query heads per workgroup, a divisor of numHeads / numKvHeads
override DPT: u32 = 1;    // head dims per thread = ceil(headDim / WG)
const MAX_GROUP_HEAD_DIM: u32 = 2048u; // GROUP * headDim (checked on the CPU)
const MAX_GROUP: u32 = 8u;
const MAX_ACC: u32 = 32u;              // GROUP * DPT (checked on the CPU)
const BLOCK_SIZE: u32 = 16u;
const NEG_BIG: f32 = -3.0e38;

// Logit soft-cap. tanh's argument is clamped because tanh(x) is already 1 in f32 past
// |x| = 10 and some implementations compute it through exp, which overflows to NaN.
fn capScore(s: f32) -> f32 {
  if (params.softcap <= 0.0) { return s; }
  return params.softcap * tanh(clamp(s / params.softcap, -10.0, 10.0));
}

// First context position token at `pos` attends to (sliding window lower bound).
fn windowStart(pos: u32) -> u32 {
  if (params.window == 0u || pos + 1u <= params.window) { return 0u; }
  return pos + 1u - params.window;
}          // finite -inf: exp(m - mNew) must not be NaN

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
  partLen: u32,   // split variant: positions per partition
  softcap: f32,   // > 0: score = softcap * tanh(score / softcap) (gemma2); 0: none
  window: u32,    // > 0: position p attends to max(0, p + 1 - window)..p (sliding window); 0: all
  tokenOffset: u32, // split variant: first token of this chunk (the scratch holds one chunk)
}

@group(0) @binding(0) var<storage, read> q: array<f32>;             // [numTokens, qRowStride] f32
@group(0) @binding(1) var<storage, read> kPool: array<KvT>;         // [numBlocks, 16, nKvHeads, headDim] KvT
@group(0) @binding(2) var<storage, read> vPool: array<KvT>;         // [numBlocks, 16, nKvHeads, headDim] KvT
@group(0) @binding(3) var<storage, read> tokenMeta: array<vec2i>;   // [numTokens] (position, blockTable start)
@group(0) @binding(4) var<storage, read> blockTables: array<i32>;   // [sum of table lengths] block ids
@group(0) @binding(5) var<storage, read_write> out: array<f32>;     // main: [numTokens, outRowStride]; partial: [chunk tokens, numHeads, numParts, headDim + 2] f32
@group(0) @binding(6) var<uniform> params: Params;

// Workgroup arrays are sized by the pipeline's constants (GROUP * DPT * WG >= GROUP *
// headDim), not the largest case: software adapters pay per byte of workgroup memory per
// workgroup (Dawn zero-fills it), so a small head must not carry a 2048-float q buffer.
var<workgroup> qShared: array<f32, GROUP * DPT * WG>;    // [GROUP, headDim] q * scale
var<workgroup> tileScore: array<f32, GROUP * WG>;        // [GROUP, WG] scores, then exp(score - m)
var<workgroup> tileSlot: array<u32, WG>;                 // [WG] pool slot of each tile position
const KC: u32 = 16u;                                     // K dims staged per chunk
const KP: u32 = 17u;                                     // kTile row pitch (+1: no bank conflicts)
var<workgroup> kTile: array<f32, WG * KP>;               // [WG positions, KP] of K

var<private> acc: array<f32, MAX_ACC>;   // [GROUP, DPT]: this thread's dims tid + k * WG per head
var<private> mRun: array<f32, MAX_GROUP>; // running max per head
var<private> lRun: array<f32, MAX_GROUP>; // running sum per head

fn kvHeadOf(headBase: u32) -> u32 {
  return headBase / (params.numHeads / params.numKvHeads);
}

// Loads q of heads headBase.. headBase + GROUP for token t, scaled, into workgroup memory.
// Uniform control flow only.
fn loadQ(tid: u32, t: u32, headBase: u32) {
  let d = params.headDim;
  let qBase = t * params.qRowStride + params.qColOffset + headBase * d;
  for (var i = tid; i < GROUP * d; i += WG) { qShared[i] = q[qBase + i] * params.scale; }
  workgroupBarrier();
}

// Online softmax over context positions [start, end) for the group's heads; leaves the
// unnormalised outputs in `acc`, maxima and sums in mRun / lRun. Uniform control flow only.
fn attendRange(tid: u32, kvh: u32, btStart: u32, start: u32, end: u32) {
  let d = params.headDim;
  let kvRowStride = params.numKvHeads * d;  // elements per slot
  for (var r = 0u; r < GROUP; r++) { mRun[r] = NEG_BIG; lRun[r] = 0.0; }
  for (var k = 0u; k < GROUP * DPT; k++) { acc[k] = 0.0; }

  for (var tileStart = start; tileStart < end; tileStart += WG) {
    let j = tileStart + tid;
    let n = min(WG, end - tileStart);
    if (j < end) {
      tileSlot[tid] = u32(blockTables[btStart + j / BLOCK_SIZE]) * BLOCK_SIZE + (j % BLOCK_SIZE);
    }
    var dots: array<f32, MAX_GROUP>;
    for (var r = 0u; r < GROUP; r++) { dots[r] = 0.0; }
    workgroupBarrier(); // tileSlot is read by every thread below
    // K of the tile, KC dims at a time, staged through workgroup memory: consecutive threads
    // read consecutive dims of one position's K row (coalesced), then each thread takes
    // its own position's dims in order (the dot product's order is the plain i = 0..d-1).
    for (var c0 = 0u; c0 < d; c0 += KC) {
      for (var e = tid; e < WG * KC; e += WG) {
        let jj = e / KC;
        let i = c0 + e % KC;
        var kv = 0.0;
        if (jj < n && i < d) { kv = f32(kPool[tileSlot[jj] * kvRowStride + kvh * d + i]); }
        kTile[jj * KP + e % KC] = kv;
      }
      workgroupBarrier();
      let cEnd = min(KC, d - c0);
      for (var ii = 0u; ii < cEnd; ii++) {
        let kv = kTile[tid * KP + ii];
        for (var r = 0u; r < GROUP; r++) { dots[r] += qShared[r * d + c0 + ii] * kv; }
      }
      workgroupBarrier(); // kTile is rewritten by the next chunk
    }
    for (var r = 0u; r < GROUP; r++) { dots[r] = select(NEG_BIG, capScore(dots[r]), j < end); }
    for (var r = 0u; r < GROUP; r++) { tileScore[r * WG + tid] = dots[r]; }
    workgroupBarrier();
    // Per head: tile max by a broadcast scan (no tree: 3 barriers per tile in all).
    var mNew: array<f32, MAX_GROUP>;
    for (var r = 0u; r < GROUP; r++) {
      var tileMax = NEG_BIG;
      for (var jj = 0u; jj < WG; jj++) { tileMax = max(tileMax, tileScore[r * WG + jj]); }
      mNew[r] = max(mRun[r], tileMax);
    }
    workgroupBarrier();  // everyone has read the scores before they become probabilities
    for (var r = 0u; r < GROUP; r++) {
      var p = 0.0;
      if (j < end) { p = exp(dots[r] - mNew[r]); }
      tileScore[r * WG + tid] = p;
    }
    workgroupBarrier();
    for (var r = 0u; r < GROUP; r++) {
      var tileSum = 0.0;
      for (var jj = 0u; jj < n; jj++) { tileSum += tileScore[r * WG + jj]; }
      let correction = exp(mRun[r] - mNew[r]);
      lRun[r] = lRun[r] * correction + tileSum;
      mRun[r] = mNew[r];
      for (var k = 0u; k < DPT; k++) { acc[r * DPT + k] *= correction; }
    }
    for (var k = 0u; k < DPT; k++) {
      let i = tid + k * WG;
      if (i < d) {
        for (var jj = 0u; jj < n; jj++) {
          let v = f32(vPool[tileSlot[jj] * kvRowStride + kvh * d + i]);
          for (var r = 0u; r < GROUP; r++) { acc[r * DPT + k] += tileScore[r * WG + jj] * v; }
        }
      }
    }
    workgroupBarrier();  // tileScore / tileSlot are rewritten by the next tile
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let headBase = wid.x * GROUP;
  let t = wid.y + wid.z * 65535u;
  if (t >= params.numTokens) { return; }  // uniform per workgroup
  let tokenInfo = tokenMeta[t];
  loadQ(tid, t, headBase);
  attendRange(tid, kvHeadOf(headBase), u32(tokenInfo.y), windowStart(u32(tokenInfo.x)), u32(tokenInfo.x) + 1u);
  let d = params.headDim;
  for (var r = 0u; r < GROUP; r++) {
    let outBase = t * params.outRowStride + (headBase + r) * d;
    for (var k = 0u; k < DPT; k++) {
      let i = tid + k * WG;
      if (i < d) { out[outBase + i] = acc[r * DPT + k] / lRun[r]; }
    }
  }
}

@compute @workgroup_size(WG)
fn partial(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let headBase = wid.x * GROUP;
  let tc = wid.y;                      // token within the chunk (scratch row)
  let t = params.tokenOffset + tc;
  let part = wid.z;
  if (t >= params.numTokens) { return; }
  let tokenInfo = tokenMeta[t];
  let ctxLen = u32(tokenInfo.x) + 1u;
  // Partitions stay aligned at multiples of partLen from 0; the window clips the first.
  let start = max(part * params.partLen, windowStart(u32(tokenInfo.x)));
  let end = min(part * params.partLen + params.partLen, ctxLen);
  if (start < end) {
    loadQ(tid, t, headBase);
    attendRange(tid, kvHeadOf(headBase), u32(tokenInfo.y), start, end);
  } else {
    // An empty partition: weight exp(NEG_BIG - M) = 0 in combine.
    for (var r = 0u; r < GROUP; r++) { mRun[r] = NEG_BIG; lRun[r] = 0.0; }
    for (var k = 0u; k < GROUP * DPT; k++) { acc[k] = 0.0; }
  }
  let d = params.headDim;
  let rec = d + 2u;
  for (var r = 0u; r < GROUP; r++) {
    let base = ((tc * params.numHeads + headBase + r) * params.numParts + part) * rec;
    for (var k = 0u; k < DPT; k++) {
      let i = tid + k * WG;
      if (i < d) { out[base + i] = acc[r * DPT + k]; }
    }
    if (tid == 0u) {
      out[base + d] = mRun[r];
      out[base + d + 1u] = lRun[r];
    }
  }
}

@group(0) @binding(0) var<storage, read> partials: array<f32>;      // [chunk tokens, numHeads, numParts, headDim + 2] f32
@group(0) @binding(1) var<storage, read_write> combined: array<f32>; // [numTokens, outRowStride] f32
@group(0) @binding(2) var<uniform> cparams: Params;

// One workgroup per (head, token).
@compute @workgroup_size(WG)
fn combine(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let tc = wid.y;
  let t = cparams.tokenOffset + tc;
  if (t >= cparams.numTokens) { return; }
  let d = cparams.headDim;
  let rec = d + 2u;
  let first = (tc * cparams.numHeads + h) * cparams.numParts * rec;
  var mMax = NEG_BIG;
  for (var p = 0u; p < cparams.numParts; p++) { mMax = max(mMax, partials[first + p * rec + d]); }
  var lSum = 0.0;
  for (var p = 0u; p < cparams.numParts; p++) {
    let r = first + p * rec + d;
    lSum += partials[r + 1u] * exp(partials[r] - mMax);
  }
  for (var i = tid; i < d; i += WG) {
    var a = 0.0;
    for (var p = 0u; p < cparams.numParts; p++) {
      let r = first + p * rec;
      a += partials[r + i] * exp(partials[r + d] - mMax);
    }
    combined[t * cparams.outRowStride + h * d + i] = a / lSum;
  }
}
