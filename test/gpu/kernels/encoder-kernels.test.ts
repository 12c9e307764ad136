// The encoder kernels vs float64: LayerNorm (weight + bias), GELU in place, the row
// broadcast add, and pooling (mean / cls / last over ragged sequences).
// Tolerances: LayerNorm 2e-5 relative to the row's output scale (f32 mean, variance and
// rsqrt over up to 1000 values); GELU 1e-5 relative (tanh in f32); row add exact (one f32
// add); mean pooling 1e-6 relative to the largest |x| (sum of n f32 products in order);
// cls / last exact (a copy times 1).
import { describe, expect, it } from 'vitest';
import { addRowInPlace, geluInPlace } from '../../../src/kernels/elementwise';
import { KernelArgError } from '../../../src/kernels/encoder';
import { layerNorm } from '../../../src/kernels/layernorm';
import { poolingRows, poolRows } from '../../../src/kernels/pool';
import { layerNorm as layerNorm64 } from '../../ref/ref-encoder';
import { geluTanh } from '../../ref/ref-model';
import { getTestContext, maxAbsDiff, randomF32, readF32, rng, runPass } from './harness';

describe('layerNorm', () => {
  for (const variant of ['workgroup', 'thread'] as const) {
    it(`${variant}: ragged rows, a large mean, a constant row (eps only)`, async () => {
      const ctx = await getTestContext();
      const rand = rng(11);
      for (const [rows, size] of [[7, 383], [3, 1000], [1, 5]] as const) {
        const x = randomF32(rand, rows * size, 3);
        for (let i = 0; i < size; i++) x[i] += 1000; // row 0: mean 1000 (one-pass variance would cancel)
        if (rows > 2) x.fill(2.5, 2 * size, 3 * size); // row 2: constant, variance 0
        const w = randomF32(rand, size, 1).map((v) => 1 + 0.2 * v);
        const b = randomF32(rand, size, 0.5);
        const eps = 1e-12;
        const xb = ctx.upload('x', x), wb = ctx.upload('w', w), bb = ctx.upload('b', b), out = ctx.storage('out', rows * size * 4);
        await runPass(ctx, (enc) => layerNorm(enc, { x: xb, weight: wb, bias: bb, out, numRows: rows, rowSize: size, eps, variant }));
        const got = await readF32(ctx, out, rows * size);
        for (let r = 0; r < rows; r++) {
          const want = layerNorm64(Float64Array.from(x.subarray(r * size, (r + 1) * size)), Float64Array.from(w), Float64Array.from(b), eps);
          const scale = Math.max(...want.map(Math.abs), 1);
          expect(maxAbsDiff(got.subarray(r * size, (r + 1) * size), want), `rows ${rows} x ${size}, row ${r}`).toBeLessThan(2e-5 * scale);
        }
      }
    });
  }
  it('refuses out aliasing x', async () => {
    const ctx = await getTestContext();
    const buf = ctx.storage('x', 64);
    await expect(runPass(ctx, (enc) => layerNorm(enc, { x: buf, weight: buf, bias: buf, out: buf, numRows: 1, rowSize: 4, eps: 0 }))).rejects.toBeInstanceOf(KernelArgError);
  });
});

describe('geluInPlace and addRowInPlace', () => {
  it('gelu (ggml tanh form) over a ragged length, extreme values included', async () => {
    const ctx = await getTestContext();
    const n = 1003;
    const x = randomF32(rng(12), n, 6);
    x.set([1e4, -1e4, 40, -40, 0], 0);
    const xb = ctx.upload('x', x);
    await runPass(ctx, (enc) => geluInPlace(enc, { x: xb, n }));
    const got = await readF32(ctx, xb, n);
    got.forEach((v, i) => expect(Math.abs(v - geluTanh(x[i])), `element ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(x[i]))));
  });
  it('adds one row to every row, exactly', async () => {
    const ctx = await getTestContext();
    const rand = rng(13);
    const rows = 9, n = 77;
    const x = randomF32(rand, rows * n, 10), row = randomF32(rand, n, 10);
    const xb = ctx.upload('x', x), rb = ctx.upload('row', row);
    await runPass(ctx, (enc) => addRowInPlace(enc, { x: xb, row: rb, numRows: rows, n }));
    expect(maxAbsDiff(await readF32(ctx, xb, rows * n), x.map((v, i) => Math.fround(v + row[i % n])))).toBe(0);
  });
});

describe('poolRows', () => {
  const lengths = [5, 1, 17, 3];
  for (const pooling of ['mean', 'cls', 'last'] as const) {
    it(`${pooling} over ragged sequences`, async () => {
      const ctx = await getTestContext();
      const dim = 45;
      const T = lengths.reduce((a, b) => a + b, 0);
      const x = randomF32(rng(14), T * dim, 4);
      const xb = ctx.upload('x', x);
      const rows = ctx.upload('rows', poolingRows(lengths, pooling));
      const out = ctx.storage('out', lengths.length * dim * 4);
      await runPass(ctx, (enc) => poolRows(enc, { x: xb, seqRows: rows, out, numSeqs: lengths.length, dim }));
      const got = await readF32(ctx, out, lengths.length * dim);
      let first = 0;
      lengths.forEach((n, s) => {
        const want = Array.from({ length: dim }, (_, i) => {
          if (pooling === 'cls') return x[first * dim + i];
          if (pooling === 'last') return x[(first + n - 1) * dim + i];
          let sum = 0;
          for (let r = 0; r < n; r++) sum += x[(first + r) * dim + i];
          return sum / n;
        });
        const diff = maxAbsDiff(got.subarray(s * dim, (s + 1) * dim), want);
        if (pooling === 'mean') expect(diff, `sequence ${s}`).toBeLessThan(1e-6 * 4 * 4);
        else expect(diff, `sequence ${s}`).toBe(0);
        first += n;
      });
    });
  }
  it('poolingRows refuses an empty sequence', () => {
    expect(() => poolingRows([3, 0], 'mean')).toThrow(KernelArgError);
  });
});
