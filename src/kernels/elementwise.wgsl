// Small elementwise kernels that sit between matmuls. Grid-stride loops over a 2-D
// dispatch so any size fits under the 65535-workgroups-per-dimension limit.
//   add_inplace : x[i] += y[i]                                     (residual add)
//   silu_mul    : out[t, i] = act(a[t, aOff + i]) * b[t, bOff + i] (FFN; phi3 reads gate
//                 and up from one fused [T, 2 ffnDim] row: a == b, different offsets);
//                 act = silu (SwiGLU) or gelu with the tanh approximation (GeGLU, gemma)
//   glu_inplace : x[t, aOff + i] = act(x[t, aOff + i]) * x[t, bOff + i]   silu_mul over the gate
//                 half of fused gate|up rows, written in place (software set: no [T, ffnDim] buffer)
//   map_inplace : x[i] = x[i] * s (embedding scale), s * tanh(x[i] / s) (logit soft-cap)
//                 or gelu_tanh(x[i]) (bert's FFN, ggml_gelu)
//   add_row     : x[t, i] += row[i]                                 (bert's token-type row)
//   gather_rows : out[r, :] = x[rows[r], :]                         (last tokens to sample)
// Entry points use disjoint variables; bindings restart at 0 for each.

override WG: u32 = 256;

struct Params {
  n: u32,          // elements per row (add: total elements)
  numRows: u32,
  aStride: u32,
  aOffset: u32,
  bStride: u32,
  bOffset: u32,
  op: u32,         // silu_mul: 0 silu, 1 gelu_tanh; map_inplace: 0 scale, 1 soft-cap, 2 gelu_tanh
  s: f32,          // map_inplace: the scale or the cap
}

// tanhSafe, geluTanh, silu: activation.wgsl (prepended by elementwise.ts).

@group(0) @binding(0) var<storage, read_write> addX: array<f32>;  // [n] f32
@group(0) @binding(1) var<storage, read> addY: array<f32>;        // [n] f32
@group(0) @binding(2) var<uniform> addParams: Params;

@compute @workgroup_size(WG)
fn add_inplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var i = gid.x + gid.y * nwg.x * WG; i < addParams.n; i += nwg.x * nwg.y * WG) {
    addX[i] = addX[i] + addY[i];
  }
}

@group(0) @binding(0) var<storage, read> gate: array<f32>;        // [numRows, aStride] f32
@group(0) @binding(1) var<storage, read> up: array<f32>;          // [numRows, bStride] f32
@group(0) @binding(2) var<storage, read_write> act: array<f32>;   // [numRows, n] f32
@group(0) @binding(3) var<uniform> siluParams: Params;

@compute @workgroup_size(WG)
fn silu_mul(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = siluParams;
  let total = p.n * p.numRows;
  for (var i = gid.x + gid.y * nwg.x * WG; i < total; i += nwg.x * nwg.y * WG) {
    let t = i / p.n;
    let c = i - t * p.n;
    act[i] = gateAct(gate[t * p.aStride + p.aOffset + c], p.op) * up[t * p.bStride + p.bOffset + c];
  }
}

// silu_mul's activation (op 0 silu, 1 gelu_tanh): one expression for both GLU kernels, so
// they write the same bits.
fn gateAct(g: f32, op: u32) -> f32 {
  if (op == 1u) { return geluTanh(g); }
  return silu(g);
}

@group(0) @binding(0) var<storage, read_write> gluRows: array<f32>;  // [numRows, aStride] f32: gate at aOffset, up at bOffset
@group(0) @binding(1) var<uniform> gluParams: Params;

// Each element is read and then written by the same invocation, and no other reads it.
@compute @workgroup_size(WG)
fn glu_inplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = gluParams;
  let total = p.n * p.numRows;
  for (var i = gid.x + gid.y * nwg.x * WG; i < total; i += nwg.x * nwg.y * WG) {
    let t = i / p.n;
    let c = i - t * p.n;
    let at = t * p.aStride + p.aOffset + c;
    gluRows[at] = gateAct(gluRows[at], p.op) * gluRows[t * p.aStride + p.bOffset + c];
  }
}

@group(0) @binding(0) var<storage, read> src: array<f32>;          // [*, n] f32
@group(0) @binding(1) var<storage, read> rowIds: array<u32>;       // [numRows] u32
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;    // [numRows, n] f32
@group(0) @binding(3) var<uniform> gatherParams: Params;

@compute @workgroup_size(WG)
fn gather_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = gatherParams;
  let total = p.n * p.numRows;
  for (var i = gid.x + gid.y * nwg.x * WG; i < total; i += nwg.x * nwg.y * WG) {
    let r = i / p.n;
    dst[i] = src[rowIds[r] * p.n + (i - r * p.n)];
  }
}

@group(0) @binding(0) var<storage, read_write> mapX: array<f32>;  // [n] f32
@group(0) @binding(1) var<uniform> mapParams: Params;

@compute @workgroup_size(WG)
fn map_inplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = mapParams;
  for (var i = gid.x + gid.y * nwg.x * WG; i < p.n; i += nwg.x * nwg.y * WG) {
    if (p.op == 2u) {
      mapX[i] = geluTanh(mapX[i]);
    } else if (p.op == 1u) {
      mapX[i] = p.s * tanhSafe(mapX[i] / p.s);
    } else {
      mapX[i] = mapX[i] * p.s;
    }
  }
}

@group(0) @binding(0) var<storage, read_write> rowX: array<f32>;  // [numRows, n] f32
@group(0) @binding(1) var<storage, read> row: array<f32>;         // [n] f32
@group(0) @binding(2) var<uniform> rowParams: Params;

@compute @workgroup_size(WG)
fn add_row(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let p = rowParams;
  let total = p.n * p.numRows;
  for (var i = gid.x + gid.y * nwg.x * WG; i < total; i += nwg.x * nwg.y * WG) {
    rowX[i] = rowX[i] + row[i % p.n];
  }
}
