// quantize -> dequantize for every writer type on eight kinds of data (outliers, zero blocks,
// constant runs, all-positive, tiny and power-of-two values), with each format's error bound
// derived from its definition and stated next to the check.
import { describe, expect, it } from 'vitest';
import { dequantize, f16ToF32, GGMLType, quantize, writeGGUF, readGGUF, readTensorBytes } from '../../../src/model/gguf';
import { scaleMinK4 } from '../../../src/model/gguf/quantize-k';
import { DATA_KINDS, quantTestData } from './quant-data';

const T = GGMLType;
const N = 256 * 24;
const halfAt = (bytes: Uint8Array, at: number): number => f16ToF32(bytes[at] | (bytes[at + 1] << 8));

/** Largest |x - y| / bound over all values; <= 1 means every value is within its bound. */
function worstRatio(x: Float32Array, y: Float32Array, bound: (i: number) => number): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const err = Math.abs(x[i] - y[i]);
    const b = bound(i);
    worst = Math.max(worst, err === 0 ? 0 : err / b);
  }
  return worst;
}

function relativeRms(x: Float32Array, y: Float32Array): number {
  let se = 0;
  let sx = 0;
  for (let i = 0; i < x.length; i++) {
    se += (x[i] - y[i]) ** 2;
    sx += x[i] ** 2;
  }
  return Math.sqrt(se / sx);
}

/** Distance from x to the nearest point of the grid D * l - M, l in [lo, hi]. */
function gridDistance(x: number, D: number, M: number, lo: number, hi: number): number {
  if (D === 0) return Math.abs(x + M);
  const l = Math.min(hi, Math.max(lo, Math.round((x + M) / D)));
  let best = Infinity;
  for (const c of [l - 1, l, l + 1]) if (c >= lo && c <= hi) best = Math.min(best, Math.abs(x - (D * c - M)));
  return best;
}

const EPS = 1e-6;

describe.each(DATA_KINDS.map((name, kind) => ({ name, kind })))('data: $name', ({ kind }) => {
  const x = quantTestData(kind, N, 99);

  it('F32 is exact, F16 within 2^-11 relative (2^-25 absolute below 2^-14), BF16 within 2^-8 relative', () => {
    expect(dequantize(T.F32, quantize(T.F32, x))).toEqual(x);
    const f16 = dequantize(T.F16, quantize(T.F16, x));
    expect(worstRatio(x, f16, (i) => Math.max(Math.abs(x[i]) * 2 ** -11, 2 ** -25))).toBeLessThanOrEqual(1);
    const bf16 = dequantize(T.BF16, quantize(T.BF16, x));
    expect(worstRatio(x, bf16, (i) => Math.abs(x[i]) * 2 ** -8)).toBeLessThanOrEqual(1);
  });

  it('Q8_0: |x - y| <= d/2 + 127 |d - f16(d)|, d = max|x| / 127 per 32-block', () => {
    const bytes = quantize(T.Q8_0, x);
    const y = dequantize(T.Q8_0, bytes);
    const ratio = worstRatio(x, y, (i) => {
      const b = i >> 5;
      let amax = 0;
      for (let j = 32 * b; j < 32 * b + 32; j++) amax = Math.max(amax, Math.abs(x[j]));
      const d = amax / 127;
      return d / 2 + 127 * Math.abs(d - halfAt(bytes, 34 * b)) + EPS * amax;
    });
    expect(ratio).toBeLessThanOrEqual(1);
  });

  it('Q4_0: |x - y| <= |d|/2 (|d| where x/d > 7.5 clips to 7) + 8 |d - f16(d)|, d = -max/8', () => {
    const bytes = quantize(T.Q4_0, x);
    const y = dequantize(T.Q4_0, bytes);
    const ratio = worstRatio(x, y, (i) => {
      const b = i >> 5;
      let max = 0;
      for (let j = 32 * b; j < 32 * b + 32; j++) if (Math.abs(x[j]) > Math.abs(max)) max = x[j];
      const d = max / -8;
      const clipped = x[i] / d > 7.5;
      return (clipped ? Math.abs(d) : Math.abs(d) / 2) + 8 * Math.abs(d - halfAt(bytes, 18 * b)) + EPS * Math.abs(max);
    });
    expect(ratio).toBeLessThanOrEqual(1);
  });

  it('Q4_1: |x - y| <= d/2 + 15 |d - f16(d)| + |min - f16(min)|, d = (max - min)/15', () => {
    const bytes = quantize(T.Q4_1, x);
    const y = dequantize(T.Q4_1, bytes);
    const ratio = worstRatio(x, y, (i) => {
      const b = i >> 5;
      const block = x.subarray(32 * b, 32 * b + 32);
      const min = Math.min(...block);
      const d = (Math.max(...block) - min) / 15;
      return d / 2 + 15 * Math.abs(d - halfAt(bytes, 20 * b)) + Math.abs(min - halfAt(bytes, 20 * b + 2)) + EPS * (Math.abs(min) + 15 * d);
    });
    expect(ratio).toBeLessThanOrEqual(1);
  });

  for (const [type, nmax, blockBytes] of [[T.Q4_K, 15, 144], [T.Q5_K, 31, 176]] as const) {
    it(`${T[type]}: each value is the nearest point of its sub-block grid d*sc*q - dmin*m, q in [0, ${nmax}]; within one coarse step (range/${nmax}) per super-block`, () => {
      const bytes = quantize(type, x);
      const y = dequantize(type, bytes);
      const nearest = worstRatio(x, y, (i) => {
        const at = blockBytes * (i >> 8);
        const [sc, m] = scaleMinK4((i >> 5) & 7, bytes, at + 4);
        const D = halfAt(bytes, at) * sc;
        const M = halfAt(bytes, at + 2) * m;
        return gridDistance(x[i], D, M, 0, nmax) * (1 + EPS) + EPS * (Math.abs(x[i]) + D);
      });
      expect(nearest).toBeLessThanOrEqual(1);
      const coarse = worstRatio(x, y, (i) => {
        const block = x.subarray(256 * (i >> 8), 256 * (i >> 8) + 256);
        return (Math.max(0, ...block) - Math.min(0, ...block)) / nmax;
      });
      expect(coarse).toBeLessThanOrEqual(1);
    });
  }

  it('Q6_K: each value is the nearest point of d*sc*q, q in [-32, 31]; within amax/32 per super-block', () => {
    const bytes = quantize(T.Q6_K, x);
    const y = dequantize(T.Q6_K, bytes);
    const view = new DataView(bytes.buffer);
    const nearest = worstRatio(x, y, (i) => {
      const at = 210 * (i >> 8);
      const D = halfAt(bytes, at + 208) * view.getInt8(at + 192 + ((i >> 4) & 15));
      return D === 0 ? Math.abs(x[i]) : gridDistance(x[i], Math.abs(D), 0, D > 0 ? -32 : -31, D > 0 ? 31 : 32) * (1 + EPS) + EPS * (Math.abs(x[i]) + Math.abs(D));
    });
    expect(nearest).toBeLessThanOrEqual(1);
    const coarse = worstRatio(x, y, (i) => Math.max(...x.subarray(256 * (i >> 8), 256 * (i >> 8) + 256).map(Math.abs)) / 32);
    expect(coarse).toBeLessThanOrEqual(1);
  });
});

describe('special blocks', () => {
  it('all-zero input encodes to all-zero values for every type', () => {
    const zeros = new Float32Array(512);
    for (const type of [T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.IQ4_NL, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.IQ4_XS]) {
      expect(Array.from(dequantize(type, quantize(type, zeros))).every((v) => v === 0), T[type]).toBe(true);
    }
  });

  it('a constant block whose scale is exact in f16 comes back exactly', () => {
    // -127/64: Q8_0's d = 1/64 and Q4_0's d = 127/512 are exact halves; Q4_1 stores it as its min.
    const c = new Float32Array(256).fill(-127 / 64);
    for (const type of [T.Q8_0, T.Q4_0, T.Q4_1, T.Q6_K]) {
      expect(Array.from(new Set(dequantize(type, quantize(type, c)))), T[type]).toEqual([-127 / 64]);
    }
  });

  it('relative RMS error on gaussian data stays at each format’s known level', () => {
    const x = quantTestData(0, 256 * 64, 5);
    const rms = (type: GGMLType): number => relativeRms(x, dequantize(type, quantize(type, x)));
    expect(rms(T.F16)).toBeLessThan(3e-4);
    expect(rms(T.BF16)).toBeLessThan(3e-3);
    expect(rms(T.Q8_0)).toBeLessThan(0.008);
    expect(rms(T.Q6_K)).toBeLessThan(0.025);
    expect(rms(T.Q5_K)).toBeLessThan(0.045);
    expect(rms(T.Q4_K)).toBeLessThan(0.085);
    expect(rms(T.Q4_1)).toBeLessThan(0.095);
    expect(rms(T.Q4_0)).toBeLessThan(0.1);
    // ggml's formats, tabllm's own fits for Q2_K/Q3_K/IQ4_* (quantize-k-low.ts, quantize-iq4.ts):
    // measured 0.043, 0.038, 0.077, 0.078, 0.156, 0.327; a layout slip would give ~1.
    expect(rms(T.Q5_0)).toBeLessThan(0.05);
    expect(rms(T.Q5_1)).toBeLessThan(0.045);
    expect(rms(T.IQ4_NL)).toBeLessThan(0.085);
    expect(rms(T.IQ4_XS)).toBeLessThan(0.085);
    expect(rms(T.Q3_K)).toBeLessThan(0.17);
    expect(rms(T.Q2_K)).toBeLessThan(0.35);
  });

  it.each(DATA_KINDS.map((kind, i) => [kind, i] as const))('Q5_0 … IQ4_XS on %s: finite, constant runs near exact, error below each format’s level', (_kind, i) => {
    const x = quantTestData(i, 256 * 16, 9);
    const limits: [GGMLType, number][] = [[T.Q5_0, 0.08], [T.Q5_1, 0.08], [T.IQ4_NL, 0.1], [T.IQ4_XS, 0.1], [T.Q3_K, 0.2], [T.Q2_K, 0.5]];
    for (const [type, limit] of limits) {
      const y = dequantize(type, quantize(type, x));
      expect(y.every(Number.isFinite), T[type]).toBe(true);
      expect(relativeRms(x, y), T[type]).toBeLessThan(i === 3 ? 0.03 : limit);
    }
  });

  it('writeGGUF stores what quantize produces, and readGGUF finds it', async () => {
    const x = quantTestData(1, 512, 3);
    const types = [T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.IQ4_NL, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K, T.IQ4_XS];
    const file = writeGGUF({ metadata: { 'general.architecture': 'test' }, tensors: types.map((type) => ({ name: T[type], type, shape: [256, 2], data: x })) });
    const gguf = await readGGUF(file);
    for (const t of gguf.tensors) {
      const bytes = await readTensorBytes(file, t);
      expect(Buffer.from(bytes).equals(Buffer.from(quantize(t.type, x))), t.name).toBe(true);
    }
  });
});
