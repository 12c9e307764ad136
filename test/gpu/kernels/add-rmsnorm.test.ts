// The fused residual add + RMSNorm (add-rmsnorm.ts) against a float64 oracle on ragged rows
// and extreme magnitudes, and bit for bit against the unfused kernels it replaces
// (addInPlace + rmsNorm; gemma: rmsNorm + addInPlace + rmsNorm) in both variants.
// Tolerance: 4e-5 relative to the output scale (as rmsnorm's test); x after the add: 1e-6 relative.
import { describe, expect, it } from 'vitest';
import { addRmsNorm } from '../../../src/kernels/add-rmsnorm';
import { addInPlace } from '../../../src/kernels/elementwise';
import { KernelArgError } from '../../../src/kernels/encoder';
import { rmsNorm } from '../../../src/kernels/rmsnorm';
import { getTestContext, maxAbsDiff, randomF32, readF32, rng, runPass } from './harness';
import { rmsNormRef } from './norm-rope-oracle';

const EPS = 1e-5;
const SHAPES = [[7, 64, 1], [3, 173, 1e3], [5, 1000, 1e-3], [1, 3, 1], [70, 9, 1]] as const;

describe('add-rmsnorm', () => {
  for (const variant of ['workgroup', 'thread'] as const) {
    for (const post of [false, true]) {
      it(`${variant} variant${post ? ' with a post-norm' : ''}: float64 oracle on ragged rows, and the unfused kernels' bits`, async () => {
        const ctx = await getTestContext();
        const rand = rng(post ? 11 : 7);
        for (const [rows, n, scale] of SHAPES) {
          const x = randomF32(rand, rows * n, scale);
          const y = randomF32(rand, rows * n, scale);
          const w = randomF32(rand, n, 2);
          const pw = randomF32(rand, n, 2);
          // float64: y' = post ? rmsnorm(y) · pw : y;  x' = x + y';  out = rmsnorm(x') · w
          const yPost = post ? rmsNormRef(y, pw, rows, n, EPS) : Float64Array.from(y);
          const xNew = Float64Array.from(x, (v, i) => v + yPost[i]);
          const want = rmsNormRef(Float32Array.from(xNew), w, rows, n, EPS);

          const xb = ctx.upload('x', x), yb = ctx.upload('y', y), wb = ctx.upload('w', w), pwb = ctx.upload('pw', pw);
          const ob = ctx.storage('out', rows * n * 4);
          await runPass(ctx, (enc) => addRmsNorm(enc, {
            x: xb, y: yb, postWeight: post ? pwb : undefined, weight: wb, out: ob, numRows: rows, rowSize: n, eps: EPS, variant,
          }));
          const gotX = await readF32(ctx, xb, rows * n);
          const gotOut = await readF32(ctx, ob, rows * n);
          const xScale = post ? Math.max(scale, 2) : scale;
          expect(maxAbsDiff(gotX, xNew)).toBeLessThan(1e-6 * xScale * 4);
          expect(maxAbsDiff(gotOut, want)).toBeLessThan(4e-5 * 2);

          // The unfused graph on the same inputs: identical bits.
          const x2 = ctx.upload('x2', x), tmp = ctx.storage('tmp', rows * n * 4), o2 = ctx.storage('out2', rows * n * 4);
          await runPass(ctx, (enc) => {
            if (post) rmsNorm(enc, { x: yb, weight: pwb, out: tmp, numRows: rows, rowSize: n, eps: EPS, variant });
            addInPlace(enc, { x: x2, y: post ? tmp : yb, n: rows * n });
            rmsNorm(enc, { x: x2, weight: wb, out: o2, numRows: rows, rowSize: n, eps: EPS, variant });
          });
          expect(new Uint32Array((await readF32(ctx, x2, rows * n)).buffer)).toEqual(new Uint32Array(gotX.buffer));
          expect(new Uint32Array((await readF32(ctx, o2, rows * n)).buffer)).toEqual(new Uint32Array(gotOut.buffer));
          for (const b of [xb, yb, wb, pwb, ob, x2, tmp, o2]) b.destroy();
        }
      });
    }
  }

  it('refuses aliased buffers and short weights with kernel_bad_args', async () => {
    const ctx = await getTestContext();
    const x = ctx.storage('x', 64 * 4), y = ctx.storage('y', 64 * 4), w = ctx.storage('w', 8 * 4), o = ctx.storage('o', 64 * 4);
    const args = { x, y, weight: w, out: o, numRows: 4, rowSize: 16, eps: EPS };
    for (const bad of [{ ...args, out: x }, { ...args, y: x }, args]) {
      const err = await runPass(ctx, (enc) => addRmsNorm(enc, bad)).catch((e) => e);
      expect(err).toBeInstanceOf(KernelArgError);
      expect((err as KernelArgError).code).toBe('kernel_bad_args');
    }
  });
});
