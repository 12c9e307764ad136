// Embedding gather: out[t, :] = dequant(W[tokenIds[t], :]) for the rows held by this
// weight part; a vocab split over several parts takes one dispatch per part.
// Ids outside [0, totalRows) produce a row of zeros (written by part 0).
// One thread per (token, run of 8 elements). Prepended: the dequant snippets.

struct Params {
  numTokens: u32,
  cols: u32,       // dim
  rowStart: u32,   // first vocab row of this part
  partRows: u32,
  scaleOff: u32,
  totalRows: u32,  // vocab size
  pad0: u32,
  isFirstPart: u32,
}

@group(0) @binding(0) var<storage, read> w: array<u32>;          // [repacked part] u32
@group(0) @binding(1) var<storage, read> tokenIds: array<i32>;   // [T] i32
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // [T, cols] f32
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let run = gid.x;
  let t = gid.y + gid.z * 65535u;
  let k0 = run * 8u;
  if (t >= p.numTokens || k0 >= p.cols) { return; }
  let id = tokenIds[t];
  var wv = W8(vec4f(0.0), vec4f(0.0));
  if (id < 0 || u32(id) >= p.totalRows) {
    if (p.isFirstPart == 0u) { return; }
  } else {
    let local = u32(id) - p.rowStart;
    if (u32(id) < p.rowStart || local >= p.partRows) { return; }
    wv = loadW8(local, k0, p.cols, p.scaleOff);
  }
  let o = t * p.cols + k0;
  for (var j = 0u; j < 4u; j++) {
    if (k0 + j < p.cols) { out[o + j] = wv.lo[j]; }
    if (k0 + 4u + j < p.cols) { out[o + 4u + j] = wv.hi[j]; }
  }
}
