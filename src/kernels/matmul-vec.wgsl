// Matrix × vector (decode, GPU kernel set): y[t, n] = Σ_k x[t, k] · W[n, k] (+ bias[n])
// for up to 4 tokens per workgroup. 32 lanes per weight row, ROWS_PER_WG rows:
//
//   workgroup: ROWS_PER_WG rows × LANES lanes (lanes of a row are adjacent invocations)
//   K is cut into units of 32 elements (UNIT); lane c owns units c, c + 32, c + 64, …
//   round r covers units [32r, 32r + 32): lane c reads unit 32r + c, so the 32 lanes of
//   a row read 32 consecutive units — one contiguous span of the repacked row (coalesced)
//   lane c reads its unit with loadUnit: 16-byte vec4<u32> loads from `w4` (Q4_0: one, the
//   32 lanes 512 contiguous bytes; Q8_0: two; Q4_K: the block head and one; Q6_K: three;
//   Q2_K: the block's scales and the vec4 holding its 2-bit quants; see
//   matmul-dequant-<type>.wgsl), its K-quant scales decoded once per unit
//
// Each round stages x[t0 .. t0+4, 1024 elements] once in workgroup memory (vec4, swizzled
// so that the 8 vec4 of one lane's unit fall in different banks), then every row of the
// workgroup reads it. Each lane accumulates its units in order, 4 runs of 8 per unit
// (acc += dot(lo) + dot(hi)); the 32 lane partials are then summed by a fixed tree
// through workgroup memory (adjacent pairs: (p0+p1), (p2+p3), … then pairs of those), never
// by subgroup operations, whose order is implementation-defined. matmul-tiled.wgsl computes
// the same 32 partials and the same tree, so a token's output is bit-identical whichever
// of the two runs and whatever else is in the batch.
// The prologue (plain, RMSNorm, GLU) applies as x is staged, the epilogue (residual add) as
// y is written: matmul-io.wgsl, the same functions in the same order as the tiled kernel.
// Prepended: matmul-dequant-common.wgsl, one matmul-dequant-<type>.wgsl (defines loadUnit),
// activation.wgsl and matmul-io.wgsl (Params, bindings, prologue, epilogue).

override ROWS_PER_WG: u32 = 8u;
// Lanes per row that hold units (a power of two, matmul.ts vecLanes): 32, or fewer when
// the whole of K is fewer than 32 units — then lanes LANES..31 would own no unit and their
// partials are exact zeros, so they are not launched and enter the tree as zeros.
override LANES: u32 = 32u;
// Workgroup memory in vec4: max(4 tokens × LANES units × 8, ROWS_PER_WG × LANES). Sized per
// pipeline because software adapters pay per byte of workgroup memory per workgroup.
override SHARED_VEC4: u32 = 1024u;
const PARTIALS: u32 = 32u;          // partial sums per output (matmul.ts SPLIT_PARTIALS)
const UNIT: u32 = 32u;              // elements per unit (4 runs of 8)
const ROUND: u32 = PARTIALS * UNIT; // elements of K per round (1024)

// Round staging: [4 tokens][LANES units][8] vec4 of x; after the last round, the lane
// partials [ROWS_PER_WG * LANES] vec4 (one component per token). At most 16 KiB.
var<workgroup> shared4: array<vec4f, SHARED_VEC4>;

// Index of vec4 j (0..7) of unit slot `c` (0..LANES-1): swizzled so that lane c's j-th reads
// spread over the banks.
fn xSlot(t: u32, c: u32, j: u32) -> u32 {
  return (t * LANES + c) * 8u + (j ^ (c & 7u));
}

// Lane partial `c` of the row whose partials start at `base`; lanes past LANES hold none.
fn lanePartial(base: u32, c: u32) -> vec4f {
  if (c >= LANES) { return vec4f(0.0); }
  return shared4[base + c];
}

@compute @workgroup_size(ROWS_PER_WG * LANES)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  // Both views of the weight part are in every vec pipeline's layout (matmul.ts binds 0 and
  // 6), whichever of them the type's loadUnit reads (Q4_K: w4 only; Q2_K: both).
  _ = &w;
  _ = &w4;
  let lane = lid % LANES;
  let row = (wid.y * p.wgX + wid.x) * ROWS_PER_WG + lid / LANES;
  let t0 = wid.z * 4u;
  let tCount = min(4u, p.numTokens - t0);
  let units = (p.K + UNIT - 1u) / UNIT;
  let rounds = (units + PARTIALS - 1u) / PARTIALS;
  // prologue 1: each token's 1/rms, its 64 partials (as 16 vec4) folded by rmsnorm.wgsl's
  // tree through shared4[t * 16 + cg] before the rounds use it.
  var invRms = vec4f(1.0);
  if (p.prologue == 1u) {
    for (var i = lid; i < 64u; i += ROWS_PER_WG * LANES) {
      var s = vec4f(0.0);
      if (i / 16u < tCount) { s = sumSq4(t0 + i / 16u, i % 16u); }
      shared4[i] = s;
    }
    workgroupBarrier();
    for (var cgStride = 8u; cgStride > 0u; cgStride /= 2u) { // strides 32, 16, 8, 4 of 64 partials
      for (var i = lid; i < 64u; i += ROWS_PER_WG * LANES) {
        if (i % 16u < cgStride) { shared4[i] += shared4[i + cgStride]; }
      }
      workgroupBarrier();
    }
    invRms = vec4f(invRmsOf(treeTail4(shared4[0])), invRmsOf(treeTail4(shared4[16])),
                   invRmsOf(treeTail4(shared4[32])), invRmsOf(treeTail4(shared4[48])));
    workgroupBarrier(); // the rounds overwrite shared4
  }
  var acc = vec4f(0.0); // one component per token of the group
  // Software pipelining: the unit of round r + 1 is requested before round r's barrier and
  // arithmetic, so its memory latency overlaps them instead of following them (a kernel
  // with few workgroups — a small N, one per SM — waits on memory once per round otherwise).
  // The loads are unconditional, clamped to a unit of the row (the last round re-reads one
  // unit of its own; rows past partRows read the last row), so they sit in the same block
  // as the arithmetic and the compiler can issue them first. The values used, and the
  // order they are added in, are those of loading each unit in its round.
  let rowL = min(row, p.partRows - 1u);
  var wNext = loadUnit(rowL, min(lane, units - 1u), p.K, p.scaleOff);
  for (var r = 0u; r < rounds; r++) {
    // Stage this round's x: the tokens of the group × the LANES units lanes read.
    let kBase = r * ROUND;
    let stageVec4 = tCount * LANES * 8u;
    for (var i = lid; i < stageVec4; i += ROWS_PER_WG * LANES) {
      let t = i / (LANES * 8u);
      let e = (i % (LANES * 8u)) * 4u; // element of the round
      shared4[xSlot(t, e / UNIT, (e % UNIT) / 4u)] = xIn4(t0 + t, kBase + e, invRms[t]);
    }
    workgroupBarrier();
    let u = r * PARTIALS + lane;
    var wu = wNext;
    wNext = loadUnit(rowL, min(u + PARTIALS, units - 1u), p.K, p.scaleOff);
    if (row < p.partRows && u < units) {
      // The whole unit at once: 16-byte loads, scales decoded once (loadUnit); its runs are
      // the values loadW8 gives the tiled kernel, summed in the same order.
      for (var run = 0u; run < 4u; run++) {
        let wv = wu[run];
        for (var t = 0u; t < tCount; t++) {
          let xlo = shared4[xSlot(t, lane, run * 2u)];
          let xhi = shared4[xSlot(t, lane, run * 2u + 1u)];
          // same operations and order as matmul-tiled.wgsl
          acc[t] += dot(wv.lo, xlo) + dot(wv.hi, xhi);
        }
      }
    }
    workgroupBarrier(); // the next round overwrites the staging
  }
  // Fixed tree over the row's 32 partials, adjacent pairs level by level:
  // ((p0+p1)+(p2+p3))+… . Lane 0 folds it from workgroup memory after one barrier (the
  // same pairs as a stride-doubling shared-memory tree; one barrier instead of five, which
  // matters on software adapters, and 31 adds for one lane per row on GPUs).
  shared4[lid] = acc;
  workgroupBarrier();
  if (lane == 0u && row < p.partRows) {
    var v: array<vec4f, 16>;
    for (var i = 0u; i < 16u; i++) { v[i] = lanePartial(lid, 2u * i) + lanePartial(lid, 2u * i + 1u); }
    for (var width = 8u; width >= 1u; width /= 2u) {
      for (var i = 0u; i < width; i++) { v[i] = v[2u * i] + v[2u * i + 1u]; }
    }
    let sum = v[0];
    for (var t = 0u; t < tCount; t++) { writeY(t0 + t, p.rowStart + row, sum[t]); }
  }
}
