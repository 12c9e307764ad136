// RoPE in place on x[t, h, :] (q or k heads) at per-token positions, optionally preceded
// by a per-head RMSNorm (qwen3 q/k norm). One workgroup per (token, head).
//
//   element (t, h, j) lives at  t * rowStride + colOffset + h * headDim + j
//   (rowStride/colOffset let q and k be read in place from a fused qkv row, phi3)
//
//   adjacent (llama): pairs (2i, 2i+1)          neox: pairs (i, i + ropeDim/2)
//   angle_i = pos * freq_i,  i < ropeDim/2; dims >= ropeDim are not rotated
//   freq_i = theta^(-2i/ropeDim), with Llama 3 divisors and linear / YaRN scaling
//   already applied on the CPU (the turns table), so scaling costs nothing here
//
// The per-head norm and rotation, and why angles are exact: rope-common.wgsl (prepended by rope.ts).

override WG: u32 = 64;
override HAS_NORM: bool = false;

struct Params {
  numTokens: u32,
  numHeads: u32,
  headDim: u32,
  ropeDim: u32,
  neox: u32,
  rowStride: u32,
  colOffset: u32,
  eps: f32,
  magnitude: f32, // cos and sin are scaled by this (YaRN mscale * attn_factor; 1 otherwise)
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;     // [numTokens, rowStride] f32
@group(0) @binding(1) var<storage, read> positions: array<i32>;   // [numTokens] i32
@group(0) @binding(2) var<storage, read> turns: array<vec2u>;     // [ropeDim / 2] (gLo, gHi) u32: freq / 2pi * 2^64 (scaling applied)
@group(0) @binding(3) var<storage, read> normWeight: array<f32>;  // [headDim] f32 (HAS_NORM)
@group(0) @binding(4) var<uniform> params: Params;

fn normWeightAt(j: u32, isK: bool) -> f32 { return normWeight[j]; }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let t = wid.y + wid.z * 65535u;
  if (t >= params.numTokens || h >= params.numHeads) { return; }
  let base = t * params.rowStride + params.colOffset + h * params.headDim;
  ropeHead(base, u32(positions[t]), tid, params.headDim, params.ropeDim, params.neox != 0u, params.magnitude, HAS_NORM, params.eps, false);
}
