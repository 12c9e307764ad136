// Paged causal attention, one invocation per (token, query head): no workgroup memory
// and no barriers. The variant for software adapters (SwiftShader), where a barrier
// costs far more than the arithmetic of a short context; GPUs use attention.wgsl.
//
// It walks the context in the same tiles of TILE positions as attention.wgsl (WG = 64)
// and performs the same operations in the same order per (token, head): dot products
// with q * scale, tile max, p = exp(score - m), the tile's sum in position order, the
// running rescale, then acc += p * v in position order.
//
//   token t (position p, its sequence's block table at blockTables[btStart..]) attends
//   to positions j = windowStart(p)..p (0..p without a window); K/V of position j sit in pool slot
//       blockTables[btStart + (j >> 4)] * 16 + (j & 15)

// KV element type: replaced by `alias KvT = f16;` (+ `enable f16;`) for the
// half-precision pool (attention.ts); all math stays f32.
alias KvT = f32;

override WG: u32 = 64;
const TILE: u32 = 64u;
const MAX_HEAD_DIM: u32 = 256u;
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
  numParts: u32,  // unused here (same block as attention.wgsl)
  partLen: u32,   // unused here
  softcap: f32,   // > 0: score = softcap * tanh(score / softcap); 0: none
  window: u32,    // > 0: position p attends to max(0, p + 1 - window)..p; 0: all
  tokenOffset: u32, // unused here
}

@group(0) @binding(0) var<storage, read> q: array<f32>;             // [numTokens, qRowStride] f32
@group(0) @binding(1) var<storage, read> kPool: array<KvT>;         // [numBlocks, 16, nKvHeads, headDim] KvT
@group(0) @binding(2) var<storage, read> vPool: array<KvT>;         // [numBlocks, 16, nKvHeads, headDim] KvT
@group(0) @binding(3) var<storage, read> tokenMeta: array<vec2i>;   // [numTokens] (position, blockTable start)
@group(0) @binding(4) var<storage, read> blockTables: array<i32>;   // [sum of table lengths] block ids
@group(0) @binding(5) var<storage, read_write> out: array<f32>;     // [numTokens, outRowStride] f32
@group(0) @binding(6) var<uniform> params: Params;

var<private> acc: array<f32, MAX_HEAD_DIM>;
var<private> qs: array<f32, MAX_HEAD_DIM>;
var<private> score: array<f32, TILE>;
var<private> slots: array<u32, TILE>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let pair = gid.x + gid.y * nwg.x * WG;  // (token, head), head fastest
  let h = pair % params.numHeads;
  let t = pair / params.numHeads;
  if (t >= params.numTokens) { return; }
  let d = params.headDim;
  let kvh = h / (params.numHeads / params.numKvHeads);
  let kvRowStride = params.numKvHeads * d;
  let tokenInfo = tokenMeta[t];
  let btStart = u32(tokenInfo.y);
  let end = u32(tokenInfo.x) + 1u;

  let qBase = t * params.qRowStride + params.qColOffset + h * d;
  for (var i = 0u; i < d; i++) { qs[i] = q[qBase + i] * params.scale; acc[i] = 0.0; }
  var mRun = NEG_BIG;
  var lRun = 0.0;

  for (var tileStart = windowStart(end - 1u); tileStart < end; tileStart += TILE) {
    let n = min(TILE, end - tileStart);
    var tileMax = NEG_BIG;
    for (var jj = 0u; jj < n; jj++) {
      let j = tileStart + jj;
      let slot = u32(blockTables[btStart + j / BLOCK_SIZE]) * BLOCK_SIZE + (j % BLOCK_SIZE);
      slots[jj] = slot;
      let kBase = slot * kvRowStride + kvh * d;
      var dot = 0.0;
      for (var i = 0u; i < d; i++) { dot += qs[i] * f32(kPool[kBase + i]); }
      dot = capScore(dot);
      score[jj] = dot;
      tileMax = max(tileMax, dot);
    }
    let mNew = max(mRun, tileMax);
    var tileSum = 0.0;
    for (var jj = 0u; jj < n; jj++) {
      let p = exp(score[jj] - mNew);
      score[jj] = p;
      tileSum += p;
    }
    let correction = exp(mRun - mNew);
    lRun = lRun * correction + tileSum;
    mRun = mNew;
    for (var i = 0u; i < d; i++) { acc[i] *= correction; }
    for (var jj = 0u; jj < n; jj++) {
      let vBase = slots[jj] * kvRowStride + kvh * d;
      let p = score[jj];
      for (var i = 0u; i < d; i++) { acc[i] += p * f32(vPool[vBase + i]); }
    }
  }
  let outBase = t * params.outRowStride + h * d;
  for (var i = 0u; i < d; i++) { out[outBase + i] = acc[i] / lRun; }
}
