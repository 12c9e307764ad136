// Matrix × matrix (prefill, batches; GPU kernel set): y[t, n] = Σ_k x[t, k] · W[n, k] (+ bias[n]).
// One workgroup of 16×16 threads computes a 64-token × 64-row tile of y; each thread owns
// 4×4 outputs (tokens ly + 16i, rows lx + 16j).
//
// Summation order — the one of matmul-vec.wgsl, so batch invariance is bitwise:
//   K is cut into units of 32 elements; partial c (c = 0..31) sums units c, c + 32, c + 64, …
//   in that order, 4 runs of 8 per unit (acc += dot(lo) + dot(hi)); the 32 partials are
//   combined by the same tree of adjacent pairs as the matrix × vector kernel's
//   shared-memory tree. Here the partials are computed one after another (partial c walks
//   its units with stride 32), and the tree is folded as they finish: a binary counter
//   keeps the pending left operand of each level (lv0..lv4), as in pairwise summation.
//
// Split-K (SPLIT = 2, 4 or 8 workgroups per output tile, matmul-splitk.wgsl): workgroup s of
// a tile computes partials s·G .. s·G + G − 1 (G = 32 / SPLIT) — an aligned group of
// adjacent partials, i.e. one subtree of the same tree — and writes that subtree's sum; the
// combine dispatch folds the SPLIT subtree sums with the top levels of the tree. The same
// additions in the same order as SPLIT = 1 (matmul-tiled-out.wgsl: the root is written to y).
//
//   partials  0 1 2 3 4 5 6 7 … 28 29 30 31        SPLIT = 8: G = 4, workgroup s folds
//             \_/ \_/ \_/ \_/      \_/   \_/        partials 4s..4s+3 to one subtree sum;
//              \___/   \___/        \_____/         the combine adds the 8 sums pairwise
//             [ s=0 ] [ s=1 ] …     [ s=7 ]         ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7))
//
// Each step stages one unit: the x tile [64 tokens × 32] (every thread 2 vec4) and the W tile
// [64 rows × 32] dequantized (every thread one loadW8), both as vec4 with the vec4 index
// XOR-swizzled by the row (k-run ^ row % 8) so that 16 threads reading 16 rows at the same k
// hit different banks. 16 KiB of workgroup memory (the WebGPU default limit), so the tiles
// are not double-buffered in workgroup memory; the prefetch is in registers instead: each
// thread loads the NEXT step's x and W values from global memory right after the barrier
// that publishes the current tiles, computes on the current tiles while those loads are in
// flight, and stores them into the tiles after the second barrier. Only when the values
// arrive changes, not which values or how they are added.
// The prologue (plain, RMSNorm, GLU) applies as x is loaded, the epilogue (residual add) as
// y is written: matmul-io.wgsl, the same functions in the same order as the vec kernel.
// Prepended: matmul-dequant-common.wgsl, one matmul-dequant-<type>.wgsl, activation.wgsl,
// matmul-io.wgsl (Params, bindings, prologue, epilogue), and either matmul-tiled-out.wgsl
// (SPLIT = 1, writes y) or matmul-splitk.wgsl (SPLIT override, writes the scratch).

const TILE: u32 = 64u;    // tokens and rows per tile
const UNIT: u32 = 32u;    // K per step: one unit
const PARTIALS: u32 = 32u; // matmul-vec.wgsl LANES

var<workgroup> xs: array<vec4f, 512>; // [TILE tokens][8] vec4, swizzled
var<workgroup> ws: array<vec4f, 512>; // [TILE rows][8] vec4, swizzled

fn slot(r: u32, j: u32) -> u32 {
  return r * 8u + (j ^ (r & 7u));
}

fn addTile(a: array<vec4f, 4>, b: array<vec4f, 4>) -> array<vec4f, 4> {
  return array<vec4f, 4>(a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]);
}

// What one thread stages of one unit: x vec4 j = lid % 8 of tile tokens lid / 8 and
// lid / 8 + 32, and run lid % 4 of W tile row lid / 4 (8 dequantized weights).
struct Staged {
  xa: vec4f,
  xb: vec4f,
  w: W8,
}

// Reads this thread's share of unit u from global memory (zeros past T, the part's rows or K).
fn fetchUnit(u: u32, t0: u32, n0: u32, lid: u32, invRmsA: f32, invRmsB: f32) -> Staged {
  let kb = u * UNIT;
  let k = kb + (lid % 8u) * 4u;
  var s = Staged(vec4f(0.0), vec4f(0.0), W8(vec4f(0.0), vec4f(0.0)));
  let ta = t0 + lid / 8u;
  if (ta < p.numTokens) { s.xa = xIn4(ta, k, invRmsA); }
  if (ta + 32u < p.numTokens) { s.xb = xIn4(ta + 32u, k, invRmsB); }
  let r = lid / 4u;
  if (n0 + r < p.partRows) { s.w = loadW8(n0 + r, kb + (lid % 4u) * 8u, p.K, p.scaleOff); }
  return s;
}

fn storeUnit(s: Staged, lid: u32) {
  let tt = lid / 8u;
  xs[slot(tt, lid % 8u)] = s.xa;
  xs[slot(tt + 32u, lid % 8u)] = s.xb;
  let r = lid / 4u;
  let run = lid % 4u;
  ws[slot(r, run * 2u)] = s.w.lo;
  ws[slot(r, run * 2u + 1u)] = s.w.hi;
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let n0 = (wid.y * p.wgX + wid.x) * TILE;
  if (n0 >= p.partRows) { return; } // uniform
  let t0 = (wid.z / SPLIT) * TILE;
  let splitIdx = wid.z % SPLIT;      // which group of partials (0 unsplit)
  let group = PARTIALS / SPLIT;      // partials per workgroup: 32, 16, 8 or 4
  let c0 = splitIdx * group;
  let lx = lid3.x;
  let ly = lid3.y;
  let units = (p.K + UNIT - 1u) / UNIT;
  // Pending left operands of the partial tree, by level; total: the root of 32 partials.
  var lv0: array<vec4f, 4>;
  var lv1: array<vec4f, 4>;
  var lv2: array<vec4f, 4>;
  var lv3: array<vec4f, 4>;
  var lv4: array<vec4f, 4>;
  var total: array<vec4f, 4>; // total[i][j]: token t0 + ly + 16i, row n0 + lx + 16j

  // prologue 1: 1/rms of the two tokens this thread stages (tile rows lid/8 and lid/8 + 32),
  // each token's 64 partials (16 vec4) folded by rmsnorm.wgsl's tree, as the vec kernel
  // does: tokens 0..31 of the tile in xs[tt * 16 + cg], 32..63 in ws, before the K loop.
  var invRmsA = 1.0;
  var invRmsB = 1.0;
  if (p.prologue == 1u) {
    for (var i = lid; i < TILE * 16u; i += 256u) {
      var s = vec4f(0.0);
      if (t0 + i / 16u < p.numTokens) { s = sumSq4(t0 + i / 16u, i % 16u); }
      if (i < 512u) { xs[i] = s; } else { ws[i - 512u] = s; }
    }
    workgroupBarrier();
    for (var cgStride = 8u; cgStride > 0u; cgStride /= 2u) { // strides 32, 16, 8, 4 of 64 partials
      for (var i = lid; i < TILE * 16u; i += 256u) {
        if (i % 16u < cgStride) {
          if (i < 512u) { xs[i] += xs[i + cgStride]; } else { ws[i - 512u] += ws[i - 512u + cgStride]; }
        }
      }
      workgroupBarrier();
    }
    invRmsA = invRmsOf(treeTail4(xs[(lid / 8u) * 16u]));
    invRmsB = invRmsOf(treeTail4(ws[(lid / 8u) * 16u]));
    workgroupBarrier(); // the K loop overwrites xs and ws
  }

  // The steps run partial c0's units, then c0 + 1's, …; `next` holds the step's unit, fetched
  // during the previous step (the first one here).
  var next = Staged(vec4f(0.0), vec4f(0.0), W8(vec4f(0.0), vec4f(0.0)));
  if (c0 < units) { next = fetchUnit(c0, t0, n0, lid, invRmsA, invRmsB); }
  for (var cl = 0u; cl < group; cl++) {
    let c = c0 + cl;
    // Explicit zeros: a bare `var acc: array<vec4f, 4>;` in this loop kept its value from
    // the previous iteration on SwiftShader (Dawn/Tint), summing each partial into the next.
    var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
    for (var u = c; u < units; u += PARTIALS) {
      storeUnit(next, lid);
      workgroupBarrier();
      // Prefetch: the next step's unit (this partial's next, or the next partial's first)
      // goes to registers now; its loads overlap the arithmetic below.
      let more = u + PARTIALS < units;
      let un = select(c + 1u, u + PARTIALS, more);
      if (more || (cl + 1u < group && un < units)) { next = fetchUnit(un, t0, n0, lid, invRmsA, invRmsB); }
      for (var run8 = 0u; run8 < 4u; run8++) {
        var wl: array<vec4f, 4>; // rows lx + 16j: weights 8·run8 .. +3 (every element set below)
        var wh: array<vec4f, 4>; //                 weights 8·run8 + 4 .. +7
        for (var j = 0u; j < 4u; j++) {
          wl[j] = ws[slot(lx + 16u * j, run8 * 2u)];
          wh[j] = ws[slot(lx + 16u * j, run8 * 2u + 1u)];
        }
        for (var i = 0u; i < 4u; i++) {
          let xl = xs[slot(ly + 16u * i, run8 * 2u)];
          let xh = xs[slot(ly + 16u * i, run8 * 2u + 1u)];
          // same operations and order as matmul-vec.wgsl
          acc[i] += vec4f(dot(wl[0], xl) + dot(wh[0], xh), dot(wl[1], xl) + dot(wh[1], xh),
                          dot(wl[2], xl) + dot(wh[2], xh), dot(wl[3], xl) + dot(wh[3], xh));
        }
      }
      workgroupBarrier(); // the next step overwrites the tiles
    }
    // Fold partial c into the tree: level L pairs (cl >> L) odd with its pending left operand.
    // cl counts from the group's first partial: the group is an aligned subtree, so its
    // pairs are the whole tree's pairs.
    var v = acc;
    if ((cl & 1u) == 0u) { lv0 = v; } else {
      v = addTile(lv0, v);
      if ((cl & 2u) == 0u) { lv1 = v; } else {
        v = addTile(lv1, v);
        if ((cl & 4u) == 0u) { lv2 = v; } else {
          v = addTile(lv2, v);
          if ((cl & 8u) == 0u) { lv3 = v; } else {
            v = addTile(lv3, v);
            if ((cl & 16u) == 0u) { lv4 = v; } else { total = addTile(lv4, v); }
          }
        }
      }
    }
  }
  // The group's subtree sum: where its last fold left it (32 partials: the root).
  var sum = total;
  if (group == 16u) { sum = lv4; } else if (group == 8u) { sum = lv3; } else if (group == 4u) { sum = lv2; }

  for (var i = 0u; i < 4u; i++) {
    let t = t0 + ly + 16u * i;
    if (t >= p.numTokens) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let r = n0 + lx + 16u * j;
      if (r < p.partRows) { tileOut(splitIdx, t, p.rowStart + r, sum[i][j]); }
    }
  }
}
