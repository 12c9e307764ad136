// K-quant reference quantizers (Q4_K, Q5_K, Q6_K): 256-value super-blocks with per-sub-block
// scales, following ggml's `quantize_row_q{4,5,6}_K_ref` (no importance matrix). Every float op
// is rounded to float32 (`fr`) in the same order as the C code, so the bytes come out the same.
import { GGUFError } from './errors';
import { f16ToF32, f32ToF16, Q4_K_BLOCK_BYTES, Q5_K_BLOCK_BYTES, Q6_K_BLOCK_BYTES, QK_K } from './quant';

const fr = Math.fround;
const GROUP_MAX_EPS = fr(1e-15);

/** ggml's nearest_int: round half to even through the float32 magic-number trick. */
export function nearestInt(value: number): number {
  return fr(value + 12582912) - 12582912;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function checkSuperBlocks(values: Float32Array): number {
  if (values.length % QK_K !== 0) throw new GGUFError('bad_shape', `${values.length} values is not a whole number of 256-value K-quant blocks`);
  return values.length / QK_K;
}

/**
 * Fits x ≈ scale * L - theMin with L in [0, nmax], minimizing the weighted squared error over a
 * small search of inverse scales (ggml's make_qkx2_quants with use_mad = false).
 * Writes L into `levels[at..at+n)`; returns [scale, theMin].
 */
function makeQkx2Quants(
  n: number, nmax: number, x: Float32Array, xAt: number, weights: Float32Array,
  levels: Uint8Array, at: number, aux: Uint8Array, rmin: number, rdelta: number, nstep: number,
): [number, number] {
  let min = x[xAt];
  let max = x[xAt];
  let sumW = weights[0];
  let sumX = fr(sumW * x[xAt]);
  for (let i = 1; i < n; i++) {
    const xi = x[xAt + i];
    if (xi < min) min = xi;
    if (xi > max) max = xi;
    const w = weights[i];
    sumW = fr(sumW + w);
    sumX = fr(sumX + fr(w * xi));
  }
  if (min > 0) min = 0;
  if (max === min) {
    levels.fill(0, at, at + n);
    return [0, -min];
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let bestError = 0;
  for (let i = 0; i < n; i++) {
    const l = clamp(nearestInt(fr(iscale * fr(x[xAt + i] - min))), 0, nmax);
    levels[at + i] = l;
    const diff = fr(fr(fr(scale * l) + min) - x[xAt + i]);
    bestError = fr(bestError + fr(weights[i] * fr(diff * diff)));
  }
  if (nstep < 1) return [scale, -min];
  for (let step = 0; step <= nstep; step++) {
    iscale = fr(fr(fr(rmin + fr(fr(rdelta) * step)) + nmax) / fr(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = clamp(nearestInt(fr(iscale * fr(x[xAt + i] - min))), 0, nmax);
      aux[i] = l;
      const w = weights[i];
      sumL = fr(sumL + fr(w * l));
      sumL2 = fr(sumL2 + fr(fr(w * l) * l));
      sumXL = fr(sumXL + fr(fr(w * l) * x[xAt + i]));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (D > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let error = 0;
      for (let i = 0; i < n; i++) {
        const diff = fr(fr(fr(thisScale * aux[i]) + thisMin) - x[xAt + i]);
        error = fr(error + fr(weights[i] * fr(diff * diff)));
      }
      if (error < bestError) {
        for (let i = 0; i < n; i++) levels[at + i] = aux[i];
        bestError = error;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  return [scale, -min];
}

/** Unpacks sub-block j's 6-bit (scale, min) from the 12-byte K-quant scales field. */
export function scaleMinK4(j: number, scales: Uint8Array, at: number): [number, number] {
  if (j < 4) return [scales[at + j] & 63, scales[at + j + 4] & 63];
  return [
    (scales[at + j + 4] & 0xf) | ((scales[at + j - 4] >> 6) << 4),
    (scales[at + j + 4] >> 4) | ((scales[at + j] >> 6) << 4),
  ];
}

/**
 * Shared Q4_K/Q5_K path: per 32-value sub-block fit (scale, min), quantize the 8 scales and
 * 8 mins to 6 bits against the block maxima, then re-quantize the values with the stored
 * (rounded) scales. Writes d, dmin, scales; returns the levels L[256] for packing.
 */
function quantizeKSuperBlock(
  x: Float32Array, xAt: number, out: Uint8Array, view: DataView, at: number,
  nmax: number, rmin: number, nstep: number, levels: Uint8Array,
): void {
  const aux = new Uint8Array(32);
  const weights = new Float32Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  let maxScale = 0;
  let maxMin = 0;
  for (let j = 0; j < 8; j++) {
    let sumX2 = 0;
    for (let l = 0; l < 32; l++) sumX2 = fr(sumX2 + fr(x[xAt + 32 * j + l] * x[xAt + 32 * j + l]));
    const avX = fr(Math.sqrt(fr(sumX2 / 32)));
    for (let l = 0; l < 32; l++) weights[l] = fr(avX + Math.abs(x[xAt + 32 * j + l]));
    const [scale, theMin] = makeQkx2Quants(32, nmax, x, xAt + 32 * j, weights, levels, 32 * j, aux, rmin, 0.1, nstep);
    scales[j] = scale;
    mins[j] = theMin;
    if (scales[j] > maxScale) maxScale = scales[j];
    if (mins[j] > maxMin) maxMin = mins[j];
  }
  const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
  const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
  const sc = at + 4; // scales field
  for (let j = 0; j < 8; j++) {
    const ls = Math.min(63, nearestInt(fr(invScale * scales[j])) & 0xff);
    const lm = Math.min(63, nearestInt(fr(invMin * mins[j])) & 0xff);
    if (j < 4) {
      out[sc + j] = ls;
      out[sc + j + 4] = lm;
    } else {
      out[sc + j + 4] = (ls & 0xf) | ((lm & 0xf) << 4);
      out[sc + j - 4] |= (ls >> 4) << 6;
      out[sc + j] |= (lm >> 4) << 6;
    }
  }
  const dHalf = f32ToF16(fr(maxScale / 63));
  const dminHalf = f32ToF16(fr(maxMin / 63));
  view.setUint16(at, dHalf, true);
  view.setUint16(at + 2, dminHalf, true);
  for (let j = 0; j < 8; j++) {
    const [s, m] = scaleMinK4(j, out, sc);
    const d = fr(f16ToF32(dHalf) * s);
    if (!d) continue; // keeps the levels from the fit, as ggml does
    const dm = fr(f16ToF32(dminHalf) * m);
    for (let i = 0; i < 32; i++) {
      levels[32 * j + i] = clamp(nearestInt(fr(fr(x[xAt + 32 * j + i] + dm) / d)), 0, nmax);
    }
  }
}

export function quantizeQ4K(values: Float32Array): Uint8Array {
  const numBlocks = checkSuperBlocks(values);
  // [numBlocks] x {d f16, dmin f16, scales u8[12], qs u8[128]}
  const out = new Uint8Array(numBlocks * Q4_K_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const levels = new Uint8Array(QK_K);
  for (let b = 0; b < numBlocks; b++) {
    const at = b * Q4_K_BLOCK_BYTES;
    quantizeKSuperBlock(values, b * QK_K, out, view, at, 15, -1, 20, levels);
    // qs: 4 chunks of 32 bytes; byte l of chunk c holds value 64c+l (low) and 64c+32+l (high).
    const qs = at + 16;
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) out[qs + 32 * c + l] = levels[64 * c + l] | (levels[64 * c + l + 32] << 4);
    }
  }
  return out;
}

export function quantizeQ5K(values: Float32Array): Uint8Array {
  const numBlocks = checkSuperBlocks(values);
  // [numBlocks] x {d f16, dmin f16, scales u8[12], qh u8[32], qs u8[128]}
  const out = new Uint8Array(numBlocks * Q5_K_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const levels = new Uint8Array(QK_K);
  for (let b = 0; b < numBlocks; b++) {
    const at = b * Q5_K_BLOCK_BYTES;
    quantizeKSuperBlock(values, b * QK_K, out, view, at, 31, -0.5, 15, levels);
    // The 5th bit of value 64c+l goes to bit 2c of qh[l], of value 64c+32+l to bit 2c+1.
    const qh = at + 16;
    const qs = at + 48;
    for (let c = 0; c < 4; c++) {
      for (let l = 0; l < 32; l++) {
        const lo = levels[64 * c + l];
        const hi = levels[64 * c + l + 32];
        out[qh + l] |= ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1));
        out[qs + 32 * c + l] = (lo & 0xf) | ((hi & 0xf) << 4);
      }
    }
  }
  return out;
}

/**
 * Symmetric fit x ≈ scale * (L - nmax), L in [0, 2*nmax), weights x^2 (ggml's make_qx_quants
 * with rmse_type = 1). Writes L into `levels[at..at+n)` and returns the scale.
 */
function makeQxQuants(n: number, nmax: number, x: Float32Array, xAt: number, levels: Uint8Array, at: number): number {
  let max = 0;
  let amax = 0;
  for (let i = 0; i < n; i++) {
    const ax = Math.abs(x[xAt + i]);
    if (ax > amax) {
      amax = ax;
      max = x[xAt + i];
    }
  }
  if (amax < GROUP_MAX_EPS) {
    levels.fill(0, at, at + n);
    return 0;
  }
  const fit = (iscale: number, store: boolean): [number, number] => {
    let sumLX = 0;
    let sumL2 = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[xAt + i];
      const l = clamp(nearestInt(fr(iscale * xi)), -nmax, nmax - 1);
      if (store) levels[at + i] = l + nmax;
      const w = fr(xi * xi);
      sumLX = fr(sumLX + fr(fr(w * xi) * l));
      sumL2 = fr(sumL2 + fr(fr(w * l) * l));
    }
    return [sumLX, sumL2];
  };
  let [sumLX, sumL2] = fit(fr(-nmax / max), true);
  let scale = sumL2 ? fr(sumLX / sumL2) : 0;
  let best = fr(scale * sumLX);
  for (let step = -9; step <= 9; step++) {
    if (step === 0) continue;
    const iscale = fr(-fr(nmax + fr(fr(0.1) * step)) / max);
    [sumLX, sumL2] = fit(iscale, false);
    if (sumL2 > 0 && fr(sumLX * sumLX) > fr(best * sumL2)) {
      fit(iscale, true);
      scale = fr(sumLX / sumL2);
      best = fr(scale * sumLX);
    }
  }
  return scale;
}

export function quantizeQ6K(values: Float32Array): Uint8Array {
  const numBlocks = checkSuperBlocks(values);
  // [numBlocks] x {ql u8[128], qh u8[64], scales i8[16], d f16}
  const out = new Uint8Array(numBlocks * Q6_K_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  const levels = new Uint8Array(QK_K); // 0..63, i.e. q + 32
  const scales = new Float32Array(16);
  for (let b = 0; b < numBlocks; b++) {
    const xAt = b * QK_K;
    const at = b * Q6_K_BLOCK_BYTES;
    let maxScale = 0;
    let maxAbsScale = 0;
    for (let ib = 0; ib < 16; ib++) {
      scales[ib] = makeQxQuants(16, 32, values, xAt + 16 * ib, levels, 16 * ib);
      const absScale = Math.abs(scales[ib]);
      if (absScale > maxAbsScale) {
        maxAbsScale = absScale;
        maxScale = scales[ib];
      }
    }
    if (maxAbsScale < GROUP_MAX_EPS) continue; // an all-zero block stays all-zero bytes
    const iscale = fr(-128 / maxScale);
    const dHalf = f32ToF16(fr(1 / iscale));
    view.setUint16(at + 208, dHalf, true);
    for (let ib = 0; ib < 16; ib++) view.setInt8(at + 192 + ib, Math.min(127, nearestInt(fr(iscale * scales[ib]))));
    for (let j = 0; j < 16; j++) {
      const d = fr(f16ToF32(dHalf) * view.getInt8(at + 192 + j));
      if (!d) continue;
      for (let i = 0; i < 16; i++) levels[16 * j + i] = clamp(nearestInt(fr(values[xAt + 16 * j + i] / d)), -32, 31) + 32;
    }
    // Two halves of 128 values; in half h, value 128h + 32k + l (k = 0..3) has its low nibble
    // in ql[64h + l + 32(k & 1)] (k >= 2: high nibble) and its top 2 bits in qh[32h + l] at bit 2k.
    for (let h = 0; h < 2; h++) {
      const ql = at + 64 * h;
      const qh = at + 128 + 32 * h;
      for (let l = 0; l < 32; l++) {
        const q = [0, 1, 2, 3].map((k) => levels[128 * h + 32 * k + l]);
        out[ql + l] = (q[0] & 0xf) | ((q[2] & 0xf) << 4);
        out[ql + l + 32] = (q[1] & 0xf) | ((q[3] & 0xf) << 4);
        out[qh + l] = (q[0] >> 4) | ((q[1] >> 4) << 2) | ((q[2] >> 4) << 4) | ((q[3] >> 4) << 6);
      }
    }
  }
  return out;
}
