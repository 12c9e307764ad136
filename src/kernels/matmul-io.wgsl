// The interface shared by the matmul bodies (matmul-vec, matmul-tiled, matmul-blocked):
// matmul.ts prepends it, after the dequant snippets, and fills Params in this order.

struct Params {
  numTokens: u32,     // T
  K: u32,             // cols of W, row length of x
  partRows: u32,      // rows of W in this part
  yStride: u32,       // N: row length of y
  rowStart: u32,      // first output column of this part
  scaleOff: u32,      // word offset of the part's f16 scale segment
  wgX: u32,           // workgroups along x (row groups are split over x and y)
  hasBias: u32,
}

@group(0) @binding(0) var<storage, read> w: array<u32>;        // [repacked part] u32
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [T, K] f32
@group(0) @binding(2) var<storage, read> bias: array<f32>;     // [N] f32 (unused when hasBias = 0)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [T, N] f32
@group(0) @binding(4) var<uniform> p: Params;
