// Split-K for the tiled matmul (matmul.ts chooseSplitK): SPLIT workgroups per output tile,
// workgroup s computing the subtree of partials s·G .. s·G + G − 1 (G = 32 / SPLIT) of the
// fixed 32-partial tree (matmul-tiled.wgsl), then `combine` — one invocation per output —
// folds the SPLIT subtree sums with the top levels of that same tree, adjacent pairs:
//
//   SPLIT 2   s0 + s1
//   SPLIT 4   (s0 + s1) + (s2 + s3)
//   SPLIT 8   ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
//
// and applies the epilogue (bias, residual add: matmul-io.wgsl writeY) where the unsplit
// kernel applies it, after the root. So the bits equal the unsplit kernel's and the matrix ×
// vector kernel's for every SPLIT.
// Prepended with matmul-io.wgsl (after the dequant snippets and activation.wgsl for the
// tiled body; alone with activation.wgsl for `combine`).

override SPLIT: u32 = 2u; // 2, 4 or 8

@group(0) @binding(6) var<storage, read_write> scratch: array<f32>; // [SPLIT, T, N] f32 subtree sums

fn tileOut(splitIdx: u32, t: u32, n: u32, sum: f32) {
  // y and bias are the combine's; the split kernel binds them too (one binding list).
  _ = &bias;
  _ = &y;
  scratch[(splitIdx * p.numTokens + t) * p.yStride + n] = sum;
}

const COMBINE_WG: u32 = 256u; // matmul.ts SPLITK_COMBINE_WG

@compute @workgroup_size(COMBINE_WG)
fn combine(@builtin(global_invocation_id) gid: vec3u) {
  // The combine binds what the tiled dispatch binds (one binding list for both); these
  // keep the unread ones in its layout.
  _ = &w;
  _ = &x;
  _ = &normWeight;
  let i = gid.x;
  if (i >= p.numTokens * p.yStride) { return; }
  let t = i / p.yStride;
  let n = i % p.yStride;
  var v: array<f32, 8>;
  for (var s = 0u; s < SPLIT; s++) { v[s] = scratch[(s * p.numTokens + t) * p.yStride + n]; }
  for (var width = SPLIT / 2u; width >= 1u; width /= 2u) {
    for (var j = 0u; j < width; j++) { v[j] = v[2u * j] + v[2u * j + 1u]; }
  }
  writeY(t, n, v[0]);
}
