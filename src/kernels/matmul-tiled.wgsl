// Matrix × matrix (prefill, batches; GPU kernel set): y[t, n] = Σ_k x[t, k] · W[n, k] (+ bias[n]).
// One workgroup of 16×16 threads computes a tile of y: TOKENS_PER_THREAD × 16 tokens × 64 rows;
// each thread owns TOKENS_PER_THREAD × 4 outputs (tokens ly + 16i, rows lx + 16j).
// TOKENS_PER_THREAD is 4 (64 × 64 tile) or 8 (128 × 64, the register tile for long prefills:
// each staged weight feeds twice the tokens); matmul.ts prepends it as a const, because
// function-scope arrays (the tile of partial sums) need a const size, which an override is not.
//
// Summation order — the one of matmul-vec.wgsl, so batch invariance is bitwise:
//   K is cut into units of 32 elements; partial c (c = 0..31) sums units c, c + 32, c + 64, …
//   in that order, 4 runs of 8 per unit (acc += dot(lo) + dot(hi)); the 32 partials are
//   combined by the same tree of adjacent pairs as the matrix × vector kernel's
//   shared-memory tree. Here the partials are computed one after another (partial c walks
//   its units with stride 32), and the tree is folded as they finish: a binary counter
//   keeps the pending left operand of each level (lv0..lv4), as in pairwise summation.
//   Neither the tile size nor the staging changes these additions, so both tiles give the
//   same bits.
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
// Staging, 16 KiB of workgroup memory (the WebGPU default limit) for either tile:
//
//   tile    step (barrier pair)    x tile (xs, 512 vec4)              W tile (ws, 512 vec4)
//   4 × 4   one unit               [64 tokens × 8 vec4]               [64 rows × 8 vec4], every step
//   8 × 4   half a unit (h 0, 1)   [128 tokens × 4 vec4] of half h    [64 rows × 8 vec4], stored at h = 0
//
// Every thread loads 2 x vec4 per step and one loadW8 (8 weights) per unit; both tiles are
// vec4 with the vec4 index XOR-swizzled by the row (j ^ row % width) so that the 16 threads
// reading 16 W rows at the same k hit different banks (x rows are read by 2 tokens per 32
// lanes, broadcast within). The 8 × 4 step computes runs 2h, 2h + 1 of the unit: a partial's
// runs still reach it in order 0..3. 16 KiB does not hold a second set of tiles, so the
// prefetch is in registers instead: each thread loads the NEXT step's x and W values from
// global memory right after the barrier that publishes the current tiles, computes on the
// current tiles while those loads are in flight, and stores them into the tiles after the
// second barrier. Only when the values arrive changes, not which values or how they are added.
// The prologue (plain, RMSNorm, GLU) applies as x is loaded, the epilogue (residual add) as
// y is written: matmul-io.wgsl, the same functions in the same order as the vec kernel.
// Prepended: TOKENS_PER_THREAD, matmul-dequant-common.wgsl, one matmul-dequant-<type>.wgsl,
// activation.wgsl, matmul-io.wgsl (Params, bindings, prologue, epilogue), and either
// matmul-tiled-out.wgsl (SPLIT = 1, writes y) or matmul-splitk.wgsl (SPLIT override, writes
// the scratch).

const ROWS: u32 = 64u;                                // W rows per tile: 16 threads × 4
const TOKENS: u32 = 16u * TOKENS_PER_THREAD;          // tokens per tile: 64 or 128
const UNIT: u32 = 32u;                                // K per unit
const PARTIALS: u32 = 32u;                            // matmul-vec.wgsl LANES
const STEPS_PER_UNIT: u32 = TOKENS_PER_THREAD / 4u;   // 1, or 2 (half a unit of x per step)
const X_VEC4: u32 = 8u / STEPS_PER_UNIT;              // x vec4 per token per step: 8 or 4
const RUNS_PER_STEP: u32 = 4u / STEPS_PER_UNIT;       // runs of 8 per step: 4 or 2

// One thread's outputs, or a level of its partial tree: [i] = token ly + 16i, rows lx + 16j.
alias Tile = array<vec4f, TOKENS_PER_THREAD>;

var<workgroup> xs: array<vec4f, 512>; // [TOKENS][X_VEC4] vec4, swizzled
var<workgroup> ws: array<vec4f, 512>; // [ROWS][8] vec4, swizzled: the unit's W tile

// Vec4 j of row r in rows of `width` vec4 (a power of two), XOR-swizzled.
fn slot(r: u32, j: u32, width: u32) -> u32 {
  return r * width + (j ^ (r & (width - 1u)));
}

fn addTile(a: Tile, b: Tile) -> Tile {
  var s: Tile;
  for (var i = 0u; i < TOKENS_PER_THREAD; i++) { s[i] = a[i] + b[i]; }
  return s;
}

// What one thread stages of one step: x vec4 h·X_VEC4 + lid % X_VEC4 of tile tokens
// lid / X_VEC4 and lid / X_VEC4 + TOKENS / 2, and (at h = 0) run lid % 4 of W tile row
// lid / 4 (8 dequantized weights).
struct Staged {
  xa: vec4f,
  xb: vec4f,
  w: W8,
}

// Reads this thread's share of step h of unit u from global memory (zeros past T, the
// part's rows or K).
fn fetchStep(u: u32, h: u32, t0: u32, n0: u32, lid: u32, invRmsA: f32, invRmsB: f32) -> Staged {
  let kb = u * UNIT;
  let k = kb + (h * X_VEC4 + lid % X_VEC4) * 4u;
  var s = Staged(vec4f(0.0), vec4f(0.0), W8(vec4f(0.0), vec4f(0.0)));
  let ta = t0 + lid / X_VEC4;
  if (ta < p.numTokens) { s.xa = xIn4(ta, k, invRmsA); }
  if (ta + TOKENS / 2u < p.numTokens) { s.xb = xIn4(ta + TOKENS / 2u, k, invRmsB); }
  let r = lid / 4u;
  if (h == 0u && n0 + r < p.partRows) { s.w = loadW8(n0 + r, kb + (lid % 4u) * 8u, p.K, p.scaleOff); }
  return s;
}

fn storeStep(s: Staged, h: u32, lid: u32) {
  let tt = lid / X_VEC4;
  xs[slot(tt, lid % X_VEC4, X_VEC4)] = s.xa;
  xs[slot(tt + TOKENS / 2u, lid % X_VEC4, X_VEC4)] = s.xb;
  if (h == 0u) {
    let r = lid / 4u;
    let run = lid % 4u;
    ws[slot(r, run * 2u, 8u)] = s.w.lo;
    ws[slot(r, run * 2u + 1u, 8u)] = s.w.hi;
  }
}

// Norm prologue, one pass per 64 tokens of the tile (tile tokens t0 + 64·pass ..): each
// token's 64 partials of the sum of squares (16 vec4) folded by rmsnorm.wgsl's tree, as the
// vec kernel does: tokens 0..31 of the pass in xs[tt * 16 + cg], 32..63 in ws. Leaves each
// token's 4 last partials at vec4 16·tt of its array (invRmsAt).
fn normPass(tp: u32, lid: u32) {
  for (var i = lid; i < 64u * 16u; i += 256u) {
    var s = vec4f(0.0);
    if (tp + i / 16u < p.numTokens) { s = sumSq4(tp + i / 16u, i % 16u); }
    if (i < 512u) { xs[i] = s; } else { ws[i - 512u] = s; }
  }
  workgroupBarrier();
  for (var cgStride = 8u; cgStride > 0u; cgStride /= 2u) { // strides 32, 16, 8, 4 of 64 partials
    for (var i = lid; i < 64u * 16u; i += 256u) {
      if (i % 16u < cgStride) {
        if (i < 512u) { xs[i] += xs[i + cgStride]; } else { ws[i - 512u] += ws[i - 512u + cgStride]; }
      }
    }
    workgroupBarrier();
  }
}

// 1/rms of token tt (0..63) of the last normPass.
fn invRmsAt(tt: u32) -> f32 {
  if (tt < 32u) { return invRmsOf(treeTail4(xs[tt * 16u])); }
  return invRmsOf(treeTail4(ws[(tt - 32u) * 16u]));
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  let n0 = (wid.y * p.wgX + wid.x) * ROWS;
  if (n0 >= p.partRows) { return; } // uniform
  let t0 = (wid.z / SPLIT) * TOKENS;
  let splitIdx = wid.z % SPLIT;      // which group of partials (0 unsplit)
  let group = PARTIALS / SPLIT;      // partials per workgroup: 32, 16, 8 or 4
  let c0 = splitIdx * group;
  let lx = lid3.x;
  let ly = lid3.y;
  let units = (p.K + UNIT - 1u) / UNIT;

  // prologue 1: 1/rms of the two tokens this thread stages (tile tokens ta, ta + TOKENS / 2),
  // before the K loop.
  var invRmsA = 1.0;
  var invRmsB = 1.0;
  if (p.prologue == 1u) {
    let ta = lid / X_VEC4;
    for (var np = 0u; np < TOKENS / 64u; np++) {
      normPass(t0 + np * 64u, lid);
      if (ta / 64u == np) { invRmsA = invRmsAt(ta % 64u); }
      if ((ta + TOKENS / 2u) / 64u == np) { invRmsB = invRmsAt((ta + TOKENS / 2u) % 64u); }
      workgroupBarrier(); // the next pass and the K loop overwrite xs and ws
    }
  }

  // Pending left operands of the partial tree, by level.
  var lv0: Tile;
  var lv1: Tile;
  var lv2: Tile;
  var lv3: Tile;
  var lv4: Tile;
  // Partial c while its units run, then its fold up the tree; after the group's last
  // partial (cl = group − 1 folds through every level of the group), the group's subtree
  // sum (32 partials: the root).
  var v: Tile;

  // The steps run partial c0's units, then c0 + 1's, …; `next` holds the step's values,
  // fetched during the previous step (the first one here).
  var next = Staged(vec4f(0.0), vec4f(0.0), W8(vec4f(0.0), vec4f(0.0)));
  if (c0 < units) { next = fetchStep(c0, 0u, t0, n0, lid, invRmsA, invRmsB); }
  for (var cl = 0u; cl < group; cl++) {
    let c = c0 + cl;
    // Explicit zeros: a bare `var acc: array<vec4f, 4>;` in this loop kept its value from
    // the previous iteration on SwiftShader (Dawn/Tint), summing each partial into the next.
    for (var i = 0u; i < TOKENS_PER_THREAD; i++) { v[i] = vec4f(0.0); }
    for (var u = c; u < units; u += PARTIALS) {
      for (var h = 0u; h < STEPS_PER_UNIT; h++) {
        storeStep(next, h, lid);
        workgroupBarrier();
        // Prefetch: the next step (this unit's next half, this partial's next unit, or the
        // next partial's first) goes to registers now; its loads overlap the arithmetic below.
        let more = u + PARTIALS < units;
        let un = select(c + 1u, u + PARTIALS, more);
        if (h + 1u < STEPS_PER_UNIT) {
          next = fetchStep(u, h + 1u, t0, n0, lid, invRmsA, invRmsB);
        } else if (more || (cl + 1u < group && un < units)) {
          next = fetchStep(un, 0u, t0, n0, lid, invRmsA, invRmsB);
        }
        for (var r = 0u; r < RUNS_PER_STEP; r++) {
          let run8 = h * RUNS_PER_STEP + r; // run of the unit: 0..3 in order over the steps
          var wl: array<vec4f, 4>; // rows lx + 16j: weights 8·run8 .. +3 (every element set below)
          var wh: array<vec4f, 4>; //                 weights 8·run8 + 4 .. +7
          for (var j = 0u; j < 4u; j++) {
            wl[j] = ws[slot(lx + 16u * j, run8 * 2u, 8u)];
            wh[j] = ws[slot(lx + 16u * j, run8 * 2u + 1u, 8u)];
          }
          for (var i = 0u; i < TOKENS_PER_THREAD; i++) {
            let xl = xs[slot(ly + 16u * i, r * 2u, X_VEC4)];
            let xh = xs[slot(ly + 16u * i, r * 2u + 1u, X_VEC4)];
            // same operations and order as matmul-vec.wgsl
            v[i] += vec4f(dot(wl[0], xl) + dot(wh[0], xh), dot(wl[1], xl) + dot(wh[1], xh),
                          dot(wl[2], xl) + dot(wh[2], xh), dot(wl[3], xl) + dot(wh[3], xh));
          }
        }
        workgroupBarrier(); // the next step overwrites the tiles
      }
    }
    // Fold partial c into the tree: level L pairs (cl >> L) odd with its pending left operand.
    // cl counts from the group's first partial: the group is an aligned subtree, so its
    // pairs are the whole tree's pairs.
    if ((cl & 1u) == 0u) { lv0 = v; } else {
      v = addTile(lv0, v);
      if ((cl & 2u) == 0u) { lv1 = v; } else {
        v = addTile(lv1, v);
        if ((cl & 4u) == 0u) { lv2 = v; } else {
          v = addTile(lv2, v);
          if ((cl & 8u) == 0u) { lv3 = v; } else {
            v = addTile(lv3, v);
            if ((cl & 16u) == 0u) { lv4 = v; } else { v = addTile(lv4, v); }
          }
        }
      }
    }
  }

  for (var i = 0u; i < TOKENS_PER_THREAD; i++) {
    let t = t0 + ly + 16u * i;
    if (t >= p.numTokens) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let r = n0 + lx + 16u * j;
      if (r < p.partRows) { tileOut(splitIdx, t, p.rowStart + r, v[i][j]); }
    }
  }
}
