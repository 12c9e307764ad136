// How the unsplit tiled kernel (matmul-tiled.wgsl, SPLIT = 1) writes an output: the root of
// the 32-partial tree goes through the epilogue (bias, residual add) to y. The split
// variant's counterpart is matmul-splitk.wgsl.

const SPLIT: u32 = 1u;

fn tileOut(_splitIdx: u32, t: u32, n: u32, sum: f32) {
  writeY(t, n, sum);
}
