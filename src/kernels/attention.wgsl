// Paged causal attention for a flattened batch. One workgroup per (head group, query run):
// GROUP consecutive query heads that share one kv head (GQA; GROUP divides
// numHeads / numKvHeads) and a run of up to QT consecutive query tokens of ONE sequence
// are served together, so each K/V row is read once for all GROUP * QT (query, head) rows.
//
//   token t (position p, its sequence's block table at blockTables[btStart..]) attends
//   to positions j = windowStart(p)..p of its own sequence (0..p without a window); K/V of position j sit in pool slot
//       blockTables[btStart + (j >> 4)] * 16 + (j & 15)
//   workgroup x serves query heads h = x * GROUP + g (g < GROUP), all of kv head
//   kvh = h / (numHeads / numKvHeads)
//
// Query runs (QT > 1; found by the workgroups themselves, so the dispatch stays one
// workgroup per token and the CPU packs tokenMeta as before): token t continues the run of
// token t - 1 when it has the same table start, the next position, a position that is not
// a multiple of QT, and no window cut (windowStart(p) == 0). The workgroup of a token that
// continues a run returns at once; the workgroup of a run's first token serves the run:
//
//   tokens    t0      t0+1    ...  t0+n-1         positions p0 .. p0+n-1 (n <= QT, p0..p0+n-1
//   ends      p0+1    p0+2         p0+n           inside one aligned block of QT positions)
//   tiles     [start, start+WG) [start+WG, ...) ... up to the last query's end
//
// Every query walks the SAME tiles from the same start (0, or its partition's first
// position) in the SAME order with the same arithmetic as when it runs alone (a run of 1:
// a decode token, or any token of a mixed batch): a tile past a query's end is skipped for
// that query (it never had that tile), positions past its end inside its last tile are
// masked exactly as alone. So a token's bits never depend on its neighbours.
//
// The context is walked in tiles of WG positions: K of the tile is staged through
// workgroup memory KC dims at a time (coalesced reads), each thread scores one position for
// every (query, head) row (q in workgroup memory), each row's tile max and sum are
// scans of workgroup memory, and the running outputs (online softmax: m, l, acc
// rescaled by exp(m_old - m_new)) are split over threads by head dimension.
//
// Split-context variant (flash-decoding): `partial` runs one workgroup per (head group,
// query run, partition of partLen positions) and writes a (acc[headDim], m, l) record per query
// token and head; `combine` merges a token-head's records: out = sum_p acc_p e^(m_p - M) / sum_p l_p e^(m_p - M).
// With a fixed partLen a token's output depends only on its own context: partitions past
// it are empty (m = NEG_BIG, l = 0, acc = 0) and add exact zeros, so numParts (the batch's
// longest context) never changes its bits; with one partition it equals the one-pass `main`
// bit for bit (e^0 = 1). Tokens run in chunks (tokenOffset) so the scratch stays bounded;
// a run never crosses a chunk.

// KV element type: replaced by `alias KvT = f16;` (+ `enable f16;`) for the
// half-precision pool (attention.ts); all math stays f32.
alias KvT = f32;

override WG: u32 = 64;
override GROUP: u32 = 1;  // query heads per workgroup, a divisor of numHeads / numKvHeads
override DPT: u32 = 1;    // head dims per thread = ceil(headDim / WG)
override QT: u32 = 1;     // query tokens per run (attentionQueryTile; 1: one token per workgroup)
const MAX_ROWS: u32 = 16u;             // QT * GROUP (checked on the CPU)
const MAX_ACC: u32 = 32u;              // QT * GROUP * DPT (checked on the CPU)
const MAX_DPT: u32 = 4u;               // 256 head dims / WG 64
const BLOCK_SIZE: u32 = 16u;
const NEG_BIG: f32 = -3.0e38;          // finite -inf: exp(m - mNew) must not be NaN

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
}

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

// Workgroup arrays are sized by the pipeline's constants (QT * GROUP * DPT * WG >= QT * GROUP *
// headDim), not the largest case: software adapters pay per byte of workgroup memory per
// workgroup (Dawn zero-fills it), so a small head must not carry a 2048-float q buffer.
// attentionQueryTile keeps the sum under 16 KiB.
// Row r = qi * GROUP + g: query qi of the run, head headBase + g.
var<workgroup> qShared: array<f32, QT * GROUP * DPT * WG>; // [QT * GROUP, headDim] q * scale
var<workgroup> tileScore: array<f32, QT * GROUP * WG>;     // [QT * GROUP, WG] scores, then exp(score - m)
var<workgroup> tileSlot: array<u32, WG>;                   // [WG] pool slot of each tile position
const KC: u32 = 16u;                                       // K dims staged per chunk
const KP: u32 = 17u;                                       // kTile row pitch (+1: no bank conflicts)
var<workgroup> kTile: array<f32, WG * KP>;                 // [WG positions, KP] of K
const VU: u32 = 8u;                                        // V rows loaded together (divides WG)

var<private> acc: array<f32, MAX_ACC>;    // [QT * GROUP, DPT]: this thread's dims tid + k * WG per row
var<private> mRun: array<f32, MAX_ROWS>;  // running max per row
var<private> lRun: array<f32, MAX_ROWS>;  // running sum per row

fn kvHeadOf(headBase: u32) -> u32 {
  return headBase / (params.numHeads / params.numKvHeads);
}

// Whether token t continues the query run of token t - 1 (see the header); `first` is the
// dispatch's (or split chunk's) first token, where every run starts anew.
fn continuesRun(t: u32, first: u32) -> bool {
  if (QT == 1u || t == first) { return false; }
  let m = tokenMeta[t];
  let prev = tokenMeta[t - 1u];
  let p = u32(m.x);
  return m.y == prev.y && m.x == prev.x + 1 && p % QT != 0u && windowStart(p) == 0u;
}

// Tokens of the run that starts at t0 (t0 does not continue a run), up to token `last` (exclusive).
fn runLength(t0: u32, first: u32, last: u32) -> u32 {
  var n = 1u;
  while (n < QT && t0 + n < last && continuesRun(t0 + n, first)) { n++; }
  return n;
}

// Loads q of heads headBase.. headBase + GROUP for the nQ tokens t0.., scaled, into
// workgroup memory. Uniform control flow only.
fn loadQ(tid: u32, t0: u32, nQ: u32, headBase: u32) {
  let d = params.headDim;
  for (var qi = 0u; qi < nQ; qi++) {
    let qBase = (t0 + qi) * params.qRowStride + params.qColOffset + headBase * d;
    for (var i = tid; i < GROUP * d; i += WG) { qShared[qi * GROUP * d + i] = q[qBase + i] * params.scale; }
  }
  workgroupBarrier();
}

// Context end (exclusive) of query qi of a run: its position + 1, clipped to endCap (the
// partition's end).
fn queryEnd(firstEnd: u32, qi: u32, endCap: u32) -> u32 {
  return min(firstEnd + qi, endCap);
}

// Online softmax over context positions [start, queryEnd(qi)) for each query qi < nQ of the
// run and the group's heads; leaves the unnormalised outputs in `acc`, maxima and sums in
// mRun / lRun (a query with an empty range keeps NEG_BIG, 0, 0). `rows`: the rows the
// loops walk, GROUP for a run of one (decode: no dead rows to skip) or QT * GROUP, passed as
// a constant at each call (after inlining, loops of constant length over the private
// arrays, which compilers unroll into registers). Uniform control flow only.
fn attendRange(tid: u32, kvh: u32, btStart: u32, start: u32, firstEnd: u32, endCap: u32, nQ: u32, rows: u32) {
  let d = params.headDim;
  let kvRowStride = params.numKvHeads * d;  // elements per slot
  let lastEnd = queryEnd(firstEnd, nQ - 1u, endCap); // the longest range of the run
  for (var r = 0u; r < rows; r++) { mRun[r] = NEG_BIG; lRun[r] = 0.0; }
  for (var k = 0u; k < rows * DPT; k++) { acc[k] = 0.0; }

  for (var tileStart = start; tileStart < lastEnd; tileStart += WG) {
    let j = tileStart + tid;
    let nMax = min(WG, lastEnd - tileStart);
    // Rows of queries whose range reaches into this tile; a query whose range ended before
    // it would not have had this tile alone, so its row is left as it is.
    var live: array<bool, MAX_ROWS>;
    var rowEnd: array<u32, MAX_ROWS>;
    for (var r = 0u; r < rows; r++) {
      let qi = r / GROUP;
      rowEnd[r] = queryEnd(firstEnd, qi, endCap);
      live[r] = qi < nQ && tileStart < rowEnd[r];
    }
    if (j < lastEnd) {
      tileSlot[tid] = u32(blockTables[btStart + j / BLOCK_SIZE]) * BLOCK_SIZE + (j % BLOCK_SIZE);
    }
    var dots: array<f32, MAX_ROWS>;
    for (var r = 0u; r < rows; r++) { dots[r] = 0.0; }
    workgroupBarrier(); // tileSlot is read by every thread below
    // K of the tile, KC dims at a time, staged through workgroup memory once for every row:
    // consecutive threads read consecutive dims of one position's K row (coalesced), then
    // each thread takes its own position's dims in order (the dot product's order is the
    // plain i = 0..d-1).
    for (var c0 = 0u; c0 < d; c0 += KC) {
      for (var e = tid; e < WG * KC; e += WG) {
        let jj = e / KC;
        let i = c0 + e % KC;
        var kv = 0.0;
        if (jj < nMax && i < d) { kv = f32(kPool[tileSlot[jj] * kvRowStride + kvh * d + i]); }
        kTile[jj * KP + e % KC] = kv;
      }
      workgroupBarrier();
      let cEnd = min(KC, d - c0);
      for (var ii = 0u; ii < cEnd; ii++) {
        let kv = kTile[tid * KP + ii];
        for (var r = 0u; r < rows; r++) {
          if (live[r]) { dots[r] += qShared[r * d + c0 + ii] * kv; }
        }
      }
      workgroupBarrier(); // kTile is rewritten by the next chunk
    }
    for (var r = 0u; r < rows; r++) {
      if (live[r]) {
        dots[r] = select(NEG_BIG, capScore(dots[r]), j < rowEnd[r]);
        tileScore[r * WG + tid] = dots[r];
      }
    }
    workgroupBarrier();
    // Per row: tile max by a broadcast scan (no tree: 3 barriers per tile in all).
    var mNew: array<f32, MAX_ROWS>;
    for (var r = 0u; r < rows; r++) {
      if (live[r]) {
        var tileMax = NEG_BIG;
        for (var jj = 0u; jj < WG; jj++) { tileMax = max(tileMax, tileScore[r * WG + jj]); }
        mNew[r] = max(mRun[r], tileMax);
      }
    }
    workgroupBarrier();  // everyone has read the scores before they become probabilities
    for (var r = 0u; r < rows; r++) {
      if (live[r]) {
        var p = 0.0;
        if (j < rowEnd[r]) { p = exp(dots[r] - mNew[r]); }
        tileScore[r * WG + tid] = p;
      }
    }
    workgroupBarrier();
    var n: array<u32, MAX_ROWS>; // positions of the tile inside each row's range
    for (var r = 0u; r < rows; r++) {
      if (live[r]) {
        n[r] = min(WG, rowEnd[r] - tileStart);
        // Positions n[r].. of the tile hold exact zeros (p above), and s + 0.0 == s: the sum
        // over all WG has the bits of the sum over n[r], and a loop of constant length lets
        // the compiler issue its workgroup loads ahead of the adds.
        var tileSum = 0.0;
        for (var jj = 0u; jj < WG; jj++) { tileSum += tileScore[r * WG + jj]; }
        let correction = exp(mRun[r] - mNew[r]);
        lRun[r] = lRun[r] * correction + tileSum;
        mRun[r] = mNew[r];
        for (var k = 0u; k < DPT; k++) { acc[r * DPT + k] *= correction; }
      } else {
        n[r] = 0u;
      }
    }
    // V rows are read once for every row (consecutive threads: consecutive dims, coalesced);
    // each row still adds its positions 0..n-1 in order. VU positions' loads are issued
    // together before their adds, so a thread waits on memory once per VU positions, not
    // once per position (one load at a time left the loop bound by memory latency).
    for (var k = 0u; k < DPT; k++) {
      let i = tid + k * WG;
      if (i < d) {
        for (var j0 = 0u; j0 < nMax; j0 += VU) {
          var v: array<f32, VU>;
          for (var u = 0u; u < VU; u++) {
            v[u] = 0.0;
            if (j0 + u < nMax) { v[u] = f32(vPool[tileSlot[j0 + u] * kvRowStride + kvh * d + i]); }
          }
          for (var u = 0u; u < VU; u++) {
            let jj = j0 + u;
            for (var r = 0u; r < rows; r++) {
              if (jj < n[r]) { acc[r * DPT + k] += tileScore[r * WG + jj] * v[u]; }
            }
          }
        }
      }
    }
    workgroupBarrier();  // tileScore / tileSlot are rewritten by the next tile
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let headBase = wid.x * GROUP;
  let t0 = wid.y + wid.z * 65535u;
  // Both uniform per workgroup: past the batch, or served by the workgroup of its run's first token.
  if (t0 >= params.numTokens || continuesRun(t0, 0u)) { return; }
  let nQ = runLength(t0, 0u, params.numTokens);
  let tokenInfo = tokenMeta[t0];
  let p0 = u32(tokenInfo.x);
  loadQ(tid, t0, nQ, headBase);
  let kvh = kvHeadOf(headBase);
  let start = windowStart(p0);
  // One code path per row count; a query's arithmetic is the same in both (tested bit for bit).
  if (nQ == 1u) {
    attendRange(tid, kvh, u32(tokenInfo.y), start, p0 + 1u, 0xffffffffu, nQ, GROUP);
  } else {
    attendRange(tid, kvh, u32(tokenInfo.y), start, p0 + 1u, 0xffffffffu, nQ, QT * GROUP);
  }
  let d = params.headDim;
  for (var r = 0u; r < QT * GROUP; r++) {
    let qi = r / GROUP;
    if (qi < nQ) {
      let outBase = (t0 + qi) * params.outRowStride + (headBase + r % GROUP) * d;
      for (var k = 0u; k < DPT; k++) {
        let i = tid + k * WG;
        if (i < d) { out[outBase + i] = acc[r * DPT + k] / lRun[r]; }
      }
    }
  }
}

@compute @workgroup_size(WG)
fn partial(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) tid: u32) {
  let headBase = wid.x * GROUP;
  let tc0 = wid.y;                      // token within the chunk (scratch row)
  let t0 = params.tokenOffset + tc0;
  let part = wid.z;
  // The chunk is tokens tokenOffset .. tokenOffset + nwg.y: a run never leaves it (the scratch holds only it).
  if (t0 >= params.numTokens || continuesRun(t0, params.tokenOffset)) { return; }
  let nQ = runLength(t0, params.tokenOffset, min(params.numTokens, params.tokenOffset + nwg.y));
  let tokenInfo = tokenMeta[t0];
  let p0 = u32(tokenInfo.x);
  // Partitions stay aligned at multiples of partLen from 0; the window clips the first
  // (runs of more than one token have no window cut). A query whose range is empty here
  // keeps (NEG_BIG, 0, 0): weight exp(NEG_BIG - M) = 0 in combine.
  let start = max(part * params.partLen, windowStart(p0));
  loadQ(tid, t0, nQ, headBase);
  let kvh = kvHeadOf(headBase);
  let endCap = part * params.partLen + params.partLen;
  if (nQ == 1u) {
    attendRange(tid, kvh, u32(tokenInfo.y), start, p0 + 1u, endCap, nQ, GROUP);
  } else {
    attendRange(tid, kvh, u32(tokenInfo.y), start, p0 + 1u, endCap, nQ, QT * GROUP);
  }
  let d = params.headDim;
  let rec = d + 2u;
  for (var r = 0u; r < QT * GROUP; r++) {
    let qi = r / GROUP;
    if (qi < nQ) {
      let base = (((tc0 + qi) * params.numHeads + headBase + r % GROUP) * params.numParts + part) * rec;
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
  // The parts' (m, l) go through workgroup memory CU at a time, loaded by CU threads at
  // once; each sum still runs over p = 0, 1, … in order, with the same arithmetic.
  var mMax = NEG_BIG;
  for (var p0 = 0u; p0 < cparams.numParts; p0 += CU) {
    stageML(tid, first, p0);
    for (var u = 0u; u < CU; u++) {
      if (p0 + u < cparams.numParts) { mMax = max(mMax, partM[u]); }
    }
    workgroupBarrier();
  }
  var lSum = 0.0;
  var a: array<f32, MAX_DPT>;
  for (var k = 0u; k < DPT; k++) { a[k] = 0.0; }
  for (var p0 = 0u; p0 < cparams.numParts; p0 += CU) {
    stageML(tid, first, p0);
    var w: array<f32, CU>;
    for (var u = 0u; u < CU; u++) {
      w[u] = 0.0;
      if (p0 + u < cparams.numParts) {
        w[u] = exp(partM[u] - mMax);
        lSum += partL[u] * w[u];
      }
    }
    // Each thread's dims of the CU parts' acc: loads issued together, added in part order.
    for (var k = 0u; k < DPT; k++) {
      let i = tid + k * WG;
      if (i < d) {
        var x: array<f32, CU>;
        for (var u = 0u; u < CU; u++) {
          x[u] = 0.0;
          if (p0 + u < cparams.numParts) { x[u] = partials[first + (p0 + u) * rec + i]; }
        }
        for (var u = 0u; u < CU; u++) {
          if (p0 + u < cparams.numParts) { a[k] += x[u] * w[u]; }
        }
      }
    }
    workgroupBarrier();
  }
  for (var k = 0u; k < DPT; k++) {
    let i = tid + k * WG;
    if (i < d) { combined[t * cparams.outRowStride + h * d + i] = a[k] / lSum; }
  }
}

const CU: u32 = 8u; // parts combined per round (<= WG)
var<workgroup> partM: array<f32, CU>;
var<workgroup> partL: array<f32, CU>;

// Loads parts p0 .. p0 + CU's m and l into partM / partL (threads 0..CU-1), then a barrier.
fn stageML(tid: u32, first: u32, p0: u32) {
  let rec = cparams.headDim + 2u;
  if (tid < CU && p0 + tid < cparams.numParts) {
    let r = first + (p0 + tid) * rec + cparams.headDim;
    partM[tid] = partials[r];
    partL[tid] = partials[r + 1u];
  }
  workgroupBarrier();
}
