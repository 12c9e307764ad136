// Scatter each token's K and V heads into their KV-pool slots:
//   kPool[slotMapping[t], :, :] = k[t, colOffset .. colOffset + kvDim)   (same for V)
// where slot = blockTable[pos >> 4] * 16 + (pos & 15) was resolved on the CPU.
// One thread per (token, element of kvDim = nKvHeads * headDim).

// KV element type: this line is replaced by `alias KvT = f16;` (+ `enable f16;`) for
// the half-precision pool (kv-write.ts), so the f32 build type-checks the f16 one.
alias KvT = f32;

override WG: u32 = 64;

struct Params {
  numTokens: u32,
  kvDim: u32,
  kRowStride: u32,
  kColOffset: u32,
  vRowStride: u32,
  vColOffset: u32,
}

@group(0) @binding(0) var<storage, read> k: array<f32>;             // [numTokens, kRowStride] f32
@group(0) @binding(1) var<storage, read> v: array<f32>;             // [numTokens, vRowStride] f32
@group(0) @binding(2) var<storage, read> slotMapping: array<i32>;   // [numTokens] i32, slot < numBlocks * 16
@group(0) @binding(3) var<storage, read_write> kPool: array<KvT>;   // [numBlocks, 16, nKvHeads, headDim] KvT
@group(0) @binding(4) var<storage, read_write> vPool: array<KvT>;   // [numBlocks, 16, nKvHeads, headDim] KvT
@group(0) @binding(5) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let total = params.numTokens * params.kvDim;
  for (var i = gid.x + gid.y * nwg.x * WG; i < total; i += nwg.x * nwg.y * WG) {
    let t = i / params.kvDim;
    let e = i - t * params.kvDim;
    let dst = u32(slotMapping[t]) * params.kvDim + e;
    kPool[dst] = KvT(k[t * params.kRowStride + params.kColOffset + e]);
    vPool[dst] = KvT(v[t * params.vRowStride + params.vColOffset + e]);
  }
}
