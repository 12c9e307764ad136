// RoPE of q and k plus the KV write, in one dispatch over a fused qkv row:
//
//   x [numTokens, rowStride] f32, row t = | q heads [numHeads, headDim] | k heads [numKvHeads, headDim] | v heads |
//
//   workgroup (h, t), h < numHeads               q head h: (norm,) rotate in place
//   workgroup (h, t), h = numHeads + kh           k head kh: (norm,) rotate in place, then
//                                                  kPool[slot t, kh, :] = k head, vPool[slot t, kh, :] = v head
//
// slot = slotMapping[t] = blockTable[pos >> 4] * 16 + (pos & 15), resolved on the CPU.
// The head math is rope-common.wgsl's ropeHead, the same code and workgroup size as
// rope.wgsl, so a fused layer computes the bits the separate rope + kv-write passes did.

// KV element type: replaced by `alias KvT = f16;` (+ `enable f16;`) for the half pool (kv-type.ts).
alias KvT = f32;

override WG: u32 = 64;
override HAS_NORM: bool = false;

struct Params {
  numTokens: u32,
  numHeads: u32,
  numKvHeads: u32,
  headDim: u32,
  ropeDim: u32,
  neox: u32,
  rowStride: u32,   // numHeads * headDim + 2 * numKvHeads * headDim (or wider)
  eps: f32,
  magnitude: f32,   // cos and sin are scaled by this (YaRN mscale * attn_factor; 1 otherwise)
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;       // [numTokens, rowStride] f32 (q | k | v)
@group(0) @binding(1) var<storage, read> positions: array<i32>;     // [numTokens] i32
@group(0) @binding(2) var<storage, read> turns: array<vec2u>;       // [ropeDim / 2] (gLo, gHi) u32
@group(0) @binding(3) var<storage, read> qNorm: array<f32>;         // [headDim] f32 (HAS_NORM)
@group(0) @binding(4) var<storage, read> kNorm: array<f32>;         // [headDim] f32 (HAS_NORM)
@group(0) @binding(5) var<storage, read> slotMapping: array<i32>;   // [numTokens] i32
@group(0) @binding(6) var<storage, read_write> kPool: array<KvT>;   // [numBlocks, 16, numKvHeads, headDim] KvT
@group(0) @binding(7) var<storage, read_write> vPool: array<KvT>;   // [numBlocks, 16, numKvHeads, headDim] KvT
@group(0) @binding(8) var<uniform> params: Params;

fn normWeightAt(j: u32, isK: bool) -> f32 {
  if (isK) { return kNorm[j]; }
  return qNorm[j];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let t = wid.y + wid.z * 65535u;
  if (t >= params.numTokens || h >= params.numHeads + params.numKvHeads) { return; }
  let d = params.headDim;
  let qDim = params.numHeads * d;
  let kvDim = params.numKvHeads * d;
  let isK = h >= params.numHeads;
  let row = t * params.rowStride;
  var base = row + h * d;
  if (isK) { base = row + qDim + (h - params.numHeads) * d; }
  ropeHead(base, u32(positions[t]), tid, d, params.ropeDim, params.neox != 0u, params.magnitude, HAS_NORM, params.eps, isK);
  if (isK) {
    // Another thread rotated some of the elements this one copies.
    storageBarrier();
    workgroupBarrier();
    let kh = h - params.numHeads;
    let dst = u32(slotMapping[t]) * kvDim + kh * d;
    let vBase = row + qDim + kvDim + kh * d;
    for (var j = tid; j < d; j += WG) {
      kPool[dst + j] = KvT(x[base + j]);
      vPool[dst + j] = KvT(x[vBase + j]);
    }
  }
}
