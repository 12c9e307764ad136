// Residual add, SiLU/GELU x up (separate and phi3-fused inputs), row gather, in-place
// scale and soft-cap vs float64.
// Tolerance: add exact in f32 (compared to the f32-rounded sum); silu_mul 1e-6 relative;
// gelu and soft-cap 1e-5 relative (tanh in f32); scale exact (one f32 multiply).
import { describe, expect, it } from 'vitest';
import { addInPlace, gatherRows, scaleInPlace, siluMul, softcapInPlace } from '../../../src/kernels/elementwise';
import { geluTanh, softcap } from '../../ref/ref-model';
import { KernelArgError } from '../../../src/kernels/encoder';
import { getTestContext, maxAbsDiff, randomF32, readF32, rng, runPass } from './harness';

describe('elementwise', () => {
  it('add_inplace over a ragged length', async () => {
    const ctx = await getTestContext();
    const rand = rng(3);
    const n = 70001;
    const x = randomF32(rand, n, 100), y = randomF32(rand, n, 100);
    const xb = ctx.upload('x', x), yb = ctx.upload('y', y);
    await runPass(ctx, (enc) => addInPlace(enc, { x: xb, y: yb, n }));
    const got = await readF32(ctx, xb, n);
    expect(maxAbsDiff(got, x.map((v, i) => Math.fround(v + y[i])))).toBe(0);
  });
  it('silu_mul, separate and fused gate/up', async () => {
    const ctx = await getTestContext();
    const rand = rng(4);
    const rows = 5, n = 173;
    const fused = randomF32(rand, rows * 2 * n, 8);
    const fb = ctx.upload('gu', fused), out = ctx.storage('out', rows * n * 4);
    await runPass(ctx, (enc) => siluMul(enc, { gate: fb, up: fb, out, numRows: rows, n, gateStride: 2 * n, upStride: 2 * n, upOffset: n }));
    const got = await readF32(ctx, out, rows * n);
    const want = Array.from({ length: rows * n }, (_, i) => {
      const t = Math.floor(i / n), c = i % n;
      const g = fused[t * 2 * n + c];
      return (g / (1 + Math.exp(-g))) * fused[t * 2 * n + n + c];
    });
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5 * 64);
    const g2 = randomF32(rand, rows * n, 3), u2 = randomF32(rand, rows * n, 3);
    const gb = ctx.upload('g', g2), ub = ctx.upload('u', u2);
    await runPass(ctx, (enc) => siluMul(enc, { gate: gb, up: ub, out, numRows: rows, n }));
    const got2 = await readF32(ctx, out, rows * n);
    expect(maxAbsDiff(got2, Array.from(g2, (g, i) => (g / (1 + Math.exp(-g))) * u2[i]))).toBeLessThan(1e-5);
  });
  it('gelu (tanh form) x up, separate and fused, with extreme gates', async () => {
    const ctx = await getTestContext();
    const rand = rng(6);
    const rows = 3, n = 157;
    const fused = randomF32(rand, rows * 2 * n, 6);
    fused.set([1e4, -1e4, 40, -40, 0], 0); // past tanh's f32 range: finite, x and 0
    const fb = ctx.upload('gu', fused), out = ctx.storage('out', rows * n * 4);
    await runPass(ctx, (enc) => siluMul(enc, { gate: fb, up: fb, out, numRows: rows, n, gateStride: 2 * n, upStride: 2 * n, upOffset: n, act: 'gelu' }));
    const got = await readF32(ctx, out, rows * n);
    const want = Array.from({ length: rows * n }, (_, i) => {
      const t = Math.floor(i / n), c = i % n;
      return geluTanh(fused[t * 2 * n + c]) * fused[t * 2 * n + n + c];
    });
    got.forEach((v, i) => expect(Math.abs(v - want[i]), `element ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i]))));
  });
  it('scale and soft-cap in place over a ragged length, extreme values included', async () => {
    const ctx = await getTestContext();
    const n = 1001;
    const x = randomF32(rng(7), n, 50);
    x.set([1e30, -1e30, 0, 3e38], 0);
    const sb = ctx.upload('s', x), cb = ctx.upload('c', x);
    await runPass(ctx, (enc) => {
      scaleInPlace(enc, { x: sb, n: n - 4, scale: 0.5 }); // the last 4 untouched
      softcapInPlace(enc, { x: cb, n, cap: 30 });
    });
    const scaled = await readF32(ctx, sb, n), capped = await readF32(ctx, cb, n);
    expect([...scaled]).toEqual([...x].map((v, i) => (i < n - 4 ? Math.fround(v * 0.5) : v)));
    capped.forEach((v, i) => expect(Math.abs(v - softcap(x[i], 30)), `element ${i}`).toBeLessThanOrEqual(1e-5 * 30));
    await runPass(ctx, (enc) => expect(() => softcapInPlace(enc, { x: cb, n, cap: 0 })).toThrow(KernelArgError));
  });
  it('gather_rows picks the named rows', async () => {
    const ctx = await getTestContext();
    const x = randomF32(rng(5), 9 * 13);
    const rows = Uint32Array.from([8, 0, 3]);
    const xb = ctx.upload('x', x), rb = ctx.upload('rows', rows), out = ctx.storage('o', 3 * 13 * 4);
    await runPass(ctx, (enc) => gatherRows(enc, { x: xb, rowIds: rb, out, numRows: 3, rowLen: 13 }));
    const got = await readF32(ctx, out, 39);
    expect([...got]).toEqual([...rows].flatMap((r) => [...x.subarray(r * 13, r * 13 + 13)]));
  });
  it('rejects aliasing with a coded error', async () => {
    const ctx = await getTestContext();
    const b = ctx.storage('b', 64);
    await runPass(ctx, (enc) => {
      expect(() => addInPlace(enc, { x: b, y: b, n: 4 })).toThrow(KernelArgError);
      expect(() => siluMul(enc, { gate: b, up: b, out: b, numRows: 1, n: 4 })).toThrow(/alias/);
    });
  });
});
