// RMSNorm and RoPE (+ fused q/k norm) against float64 oracles on ragged shapes.
// Tolerances (f32 path): rmsnorm 4e-5 absolute on outputs of scale ~2; rope 2e-6 absolute
// on unit-scale inputs (2e-5 with the fused norm, outputs scale ~2) at any position: the
// angle is exact fixed-point turns and sin/cos are polynomials (see rope.wgsl).
import { describe, expect, it } from 'vitest';
import { rmsNorm } from '../../../src/kernels/rmsnorm';
import { createRopeTable, rope, ropeTurnTableFromFrequencies } from '../../../src/kernels/rope';
import type { RopeScaling } from '../../../src/model/config';
import { ropeMagnitude, ropePairFrequencies } from '../../../src/model/rope-scaling';
import { rope as ropeF64 } from '../../ref/ref-model';
import { KernelArgError } from '../../../src/kernels/encoder';
import { getTestContext, maxAbsDiff, randomF32, readF32, rng, runPass } from './harness';
import { rmsNormRef, ropeRef, type RopeCase } from './norm-rope-oracle';

describe('rmsnorm', () => {
  it.each(['workgroup', 'thread'] as const)('%s variant matches float64 on ragged rows, large and tiny magnitudes', async (variant) => {
    const ctx = await getTestContext();
    const rand = rng(1);
    for (const [rows, n, scale] of [[7, 64, 1], [3, 173, 1e3], [5, 1000, 1e-3], [1, 3, 1], [70, 9, 1]] as const) {
      const x = randomF32(rand, rows * n, scale);
      const w = randomF32(rand, n, 2);
      const xb = ctx.upload('x', x), wb = ctx.upload('w', w), ob = ctx.storage('o', rows * n * 4);
      await runPass(ctx, (enc) => rmsNorm(enc, { x: xb, weight: wb, out: ob, numRows: rows, rowSize: n, eps: 1e-5, variant }));
      const got = await readF32(ctx, ob, rows * n);
      const err = maxAbsDiff(got, rmsNormRef(x, w, rows, n, 1e-5));
      expect(err).toBeLessThan(2e-5 * 2);
    }
  });
  it('rejects aliasing and short buffers with a coded error', async () => {
    const ctx = await getTestContext();
    const b = ctx.storage('b', 64);
    await runPass(ctx, (enc) => {
      expect(() => rmsNorm(enc, { x: b, weight: b, out: b, numRows: 1, rowSize: 4, eps: 1e-5 })).toThrow(KernelArgError);
      let err: unknown;
      try { rmsNorm(enc, { x: b, weight: b, out: ctx.storage('o', 16), numRows: 10, rowSize: 4, eps: 1e-5 }); } catch (e) { err = e; }
      expect((err as KernelArgError | undefined)?.code).toBe('kernel_bad_args');
    });
  });
});

describe('rope', () => {
  const cases: RopeCase[] = [
    { numTokens: 5, numHeads: 3, headDim: 8, ropeDim: 8, neox: false, theta: 10000, rowStride: 24, colOffset: 0, eps: 1e-6 },
    { numTokens: 3, numHeads: 2, headDim: 64, ropeDim: 64, neox: true, theta: 1e6, rowStride: 128, colOffset: 0, eps: 1e-6 },
    { numTokens: 4, numHeads: 3, headDim: 80, ropeDim: 32, neox: true, theta: 10000, rowStride: 80 * 7, colOffset: 80 * 2, eps: 1e-6 }, // partial, inside fused qkv
    { numTokens: 2, numHeads: 4, headDim: 128, ropeDim: 128, neox: false, theta: 500000, rowStride: 512, colOffset: 0, eps: 1e-6 },
  ];
  for (const c of cases) {
    for (const norm of [false, true]) {
      it(`${c.neox ? 'neox' : 'adjacent'} hd${c.headDim} rot${c.ropeDim} heads${c.numHeads}${norm ? ' +qk-norm' : ''}`, async () => {
        const ctx = await getTestContext();
        const rand = rng(c.headDim * 7 + (norm ? 1 : 0));
        const cc = { ...c, norm: norm ? randomF32(rand, c.headDim, 2) : undefined };
        const x = randomF32(rand, c.numTokens * c.rowStride);
        const pos = Int32Array.from({ length: c.numTokens }, (_, i) => (i === 0 ? 0 : Math.floor(rand() * 4000)));
        const xb = ctx.upload('x', x), pb = ctx.upload('pos', pos), fb = createRopeTable(ctx, c.theta, c.ropeDim);
        const nb = cc.norm ? ctx.upload('nw', cc.norm) : undefined;
        await runPass(ctx, (enc) => rope(enc, { x: xb, positions: pb, turns: fb, numTokens: c.numTokens, numHeads: c.numHeads, headDim: c.headDim, ropeDim: c.ropeDim, style: c.neox ? 'neox' : 'adjacent', rowStride: c.rowStride, colOffset: c.colOffset, norm: nb && { weight: nb, eps: c.eps } }));
        const got = await readF32(ctx, xb, x.length);
        expect(maxAbsDiff(got, ropeRef(x, pos, cc))).toBeLessThan(norm ? 2e-5 : 2e-6);
      });
    }
  }
  it('keeps angle accuracy at long positions (up to 1e6)', async () => {
    const ctx = await getTestContext();
    const c: RopeCase = { numTokens: 6, numHeads: 1, headDim: 64, ropeDim: 64, neox: true, theta: 10000, rowStride: 64, colOffset: 0, eps: 0 };
    const x = randomF32(rng(5), 6 * 64);
    const pos = Int32Array.from([4095, 32767, 65537, 131071, 500009, 1000003]);
    const xb = ctx.upload('x', x), pb = ctx.upload('pos', pos), fb = createRopeTable(ctx, c.theta, c.ropeDim);
    await runPass(ctx, (enc) => rope(enc, { x: xb, positions: pb, turns: fb, numTokens: 6, numHeads: 1, headDim: 64, ropeDim: 64, style: 'neox' }));
    const got = await readF32(ctx, xb, x.length);
    const err = maxAbsDiff(got, ropeRef(x, pos, c));
    console.log(`rope max abs error at positions up to 1e6: ${err.toExponential(2)}`);
    expect(err).toBeLessThan(2e-6);
  });

  // RoPE scaling is folded into the turn table and a magnitude uniform; the float64 oracle is
  // the reference model's rope (ggml's rope_yarn per position, written independently).
  const scalings: RopeScaling[] = [
    { type: 'linear', factor: 3, attnFactor: 1, originalContextLength: 64, betaFast: 32, betaSlow: 1 },
    { type: 'yarn', factor: 8, attnFactor: 0.8, originalContextLength: 64, betaFast: 32, betaSlow: 1 },
    { type: 'yarn', factor: 4, attnFactor: 1, originalContextLength: 4096, betaFast: 24, betaSlow: 2 },
  ];
  for (const scaling of scalings) {
    for (const style of ['adjacent', 'neox'] as const) {
      it(`${scaling.type} x${scaling.factor} (original context ${scaling.originalContextLength}, attn ${scaling.attnFactor}) ${style}: matches float64 past the original context`, async () => {
        const ctx = await getTestContext();
        const numTokens = 5, numHeads = 3, headDim = 40, ropeDim = 32, theta = 10000;
        const config = { ropeTheta: theta, ropeDim, ropeScaling: scaling };
        const x = randomF32(rng(scaling.factor * 13 + (style === 'neox' ? 1 : 0)), numTokens * numHeads * headDim);
        const pos = Int32Array.from([0, 17, 63, 200, 70001]);
        const xb = ctx.upload('x', x), pb = ctx.upload('pos', pos);
        const fb = ctx.upload('turns', ropeTurnTableFromFrequencies(ropePairFrequencies(config)));
        await runPass(ctx, (enc) => rope(enc, { x: xb, positions: pb, turns: fb, numTokens, numHeads, headDim, ropeDim, style, magnitude: ropeMagnitude(config) }));
        const got = await readF32(ctx, xb, x.length);
        const want = Float64Array.from(x);
        for (let t = 0; t < numTokens; t++) {
          ropeF64(want.subarray(t * numHeads * headDim, (t + 1) * numHeads * headDim), numHeads, headDim, ropeDim, pos[t], theta, style, undefined, scaling);
        }
        expect(maxAbsDiff(got, want)).toBeLessThan(2e-6 * 1.3); // outputs scale with the magnitude (<= 1.21)
      });
    }
  }
});
