// The matmul prologues and epilogue (matmul-io.wgsl) on every variant:
// - against float64: y = norm(x) · Wᵀ, y = (act(gate) · up) · Wᵀ (silu, gelu), y += x · Wᵀ;
// - bit for bit against the unfused kernels they replace (rmsNorm of the same set, then
//   matmul; siluMul, then matmul; matmul, then addInPlace), so forward.ts's fusions keep
//   the model's bits;
// - batch invariance with the prologue: a token alone (vec) equals itself inside T = 3, 16
//   and 37 (vec and tiled); blocked alone equals blocked in T = 37;
// - split-K (S = 2, 4, 8) with every fusion and a bias: the unsplit tiled kernel's and the
//   vec kernel's bits; the 8×4 register tile (T = 130, unsplit and S = 2) likewise;
// - the software set's act×up in place (gluInPlace over the gate half of gate|up rows, then
//   the matmul reading K of every 2K values, xStride): the bits of siluMul then matmul;
// - guards: a glu x shorter than [T, 2K], a norm weight shorter than K, an xStride below K
//   or beside a glu prologue, a gate|up buffer shorter than [T, 2n] for gluInPlace.
// Tolerance as test/gpu/matmul.test.ts: |gpu − ref| ≤ 1e-4 · Σ_k |x'_k w_k| (x' the
// prologue's output in float64; + |y0| with accumulate): the prologue adds a few f32
// roundings (exp/tanh ~1e-6 relative) per element.
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/context';
import type { GpuWeight } from '../../src/gpu/types';
import { uploadWeightBytes } from '../../src/gpu/weights';
import { addInPlace, gluInPlace, siluMul } from '../../src/kernels/elementwise';
import { KernelArgError } from '../../src/kernels/encoder';
import { matmul, splitKScratchBytes, type MatmulPrologue, type MatmulVariant, type SplitK, type TiledTokensPerThread } from '../../src/kernels/matmul';
import { rmsNorm } from '../../src/kernels/rmsnorm';
import { GGMLType } from '../../src/model/gguf/types';
import { geluTanh, silu } from '../ref/ref-model';
import { readF32, runPass } from './kernels/harness';
import { rmsNormRef } from './kernels/norm-rope-oracle';
import { dequantRef, matmulRef, randomActivations, randomTensorBytes } from './matmul-fixtures';
import { testContext } from './matmul-run';

const REL_TOL = 1e-4;
const EPS = 1e-6;

// [name, type, K, N]: ragged K (not a multiple of 64: the norm's partials are uneven), odd N.
// The fusions live in matmul-io.wgsl, apart from the dequant snippets (every type:
// matmul.test.ts), so three types suffice: a plain one, a K-quant, one past a round of 1024.
const SHAPES: [string, GGMLType, number, number][] = [
  ['F32', GGMLType.F32, 83, 77],
  ['Q4_K', GGMLType.Q4_K, 768, 77],
  ['F16 long', GGMLType.F16, 1111, 45],
];

type Fusion = 'norm' | 'silu' | 'gelu' | 'acc';
const FUSIONS: Fusion[] = ['norm', 'silu', 'gelu', 'acc'];

interface Case {
  x: Float32Array<ArrayBuffer>; // [T, K], or [T, 2K] for a glu
  normWeight: Float32Array<ArrayBuffer>; // [K]
  y0: Float32Array<ArrayBuffer>; // [T, N], the residual for 'acc'
}

function makeCase(fusion: Fusion, T: number, K: number, N: number, seed: number, xScale = 1): Case {
  const glu = fusion === 'silu' || fusion === 'gelu';
  return {
    x: randomActivations(T * K * (glu ? 2 : 1), seed, glu ? 4 : xScale), // gates to ±4: both tails of the activation
    normWeight: randomActivations(K, seed + 1, 2),
    y0: randomActivations(T * N, seed + 2, 3),
  };
}

/** The matmul's input as the prologue makes it, in float64. */
function inputRef(fusion: Fusion, c: Case, T: number, K: number): Float64Array {
  if (fusion === 'norm') return rmsNormRef(c.x, c.normWeight, T, K, EPS);
  if (fusion === 'acc') return Float64Array.from(c.x);
  const act = fusion === 'silu' ? silu : geluTanh;
  const out = new Float64Array(T * K);
  for (let t = 0; t < T; t++) for (let k = 0; k < K; k++) out[t * K + k] = act(c.x[t * 2 * K + k]) * c.x[t * 2 * K + K + k];
  return out;
}

/** Runs the fused matmul on the GPU; returns y [T, N]. */
async function runFused(
  ctx: GpuContext, weight: GpuWeight, fusion: Fusion, c: Case, T: number, variant: MatmulVariant,
  opts: { splitK?: SplitK; bias?: Float32Array<ArrayBuffer>; tokensPerThread?: TiledTokensPerThread } = {},
): Promise<Float32Array> {
  const xBuf = ctx.upload('x', c.x);
  const nwBuf = ctx.upload('norm-w', c.normWeight);
  const yBuf = ctx.upload('y', c.y0);
  const biasBuf = opts.bias ? ctx.upload('bias', opts.bias) : undefined;
  const scratch = opts.splitK ? ctx.storage('splitk', splitKScratchBytes(opts.splitK, T, weight.rows)) : undefined;
  const prologue: MatmulPrologue | undefined =
    fusion === 'norm' ? { kind: 'norm', weight: nwBuf, eps: EPS } : fusion === 'acc' ? undefined : { kind: 'glu', act: fusion };
  await runPass(ctx, (enc) => matmul(enc, {
    weight, x: xBuf, y: yBuf, bias: biasBuf, numTokens: T, prologue, accumulate: fusion === 'acc', variant, splitK: opts.splitK, splitScratch: scratch, tokensPerThread: opts.tokensPerThread,
  }));
  const y = await readF32(ctx, yBuf, T * weight.rows);
  for (const b of [xBuf, nwBuf, yBuf, biasBuf, scratch]) b?.destroy();
  return y;
}

/** The unfused kernels the fusion replaces, in one pass: the bits forward.ts had before. */
async function runUnfused(ctx: GpuContext, weight: GpuWeight, fusion: Fusion, c: Case, T: number, variant: MatmulVariant): Promise<Float32Array> {
  const K = weight.cols;
  const xBuf = ctx.upload('x', c.x);
  const nwBuf = ctx.upload('norm-w', c.normWeight);
  const yBuf = ctx.upload('y', c.y0);
  const mid = ctx.storage('mid', T * Math.max(K, weight.rows) * 4);
  await runPass(ctx, (enc) => {
    if (fusion === 'acc') {
      matmul(enc, { weight, x: xBuf, y: mid, numTokens: T, variant });
      addInPlace(enc, { x: yBuf, y: mid, n: T * weight.rows });
      return;
    }
    if (fusion === 'norm') {
      rmsNorm(enc, { x: xBuf, weight: nwBuf, out: mid, numRows: T, rowSize: K, eps: EPS, variant: variant === 'blocked' ? 'thread' : 'workgroup' });
    } else {
      siluMul(enc, { gate: xBuf, up: xBuf, out: mid, numRows: T, n: K, gateStride: 2 * K, upStride: 2 * K, upOffset: K, act: fusion });
    }
    matmul(enc, { weight, x: mid, y: yBuf, numTokens: T, variant });
  });
  const y = await readF32(ctx, yBuf, T * weight.rows);
  for (const b of [xBuf, nwBuf, yBuf, mid]) b.destroy();
  return y;
}

function expectClose(got: Float32Array, want: { y: Float64Array; mag: Float64Array }): void {
  expect(got.length).toBe(want.y.length);
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want.y[i]) / (want.mag[i] + 1e-30);
    if (!(err <= REL_TOL)) throw new Error(`element ${i}: gpu ${got[i]} vs ref ${want.y[i]} (scale ${want.mag[i]}, rel ${err})`);
  }
}

const sliceRows = (a: Float32Array<ArrayBuffer>, from: number, to: number, width: number) => a.slice(from * width, to * width);

describe.each(SHAPES)('matmul fusions, %s', (_name, type, K, N) => {
  const bytes = randomTensorBytes(type, N, K, 200 + type);
  const w64 = dequantRef(type, bytes, N, K);

  it.each([[1, 'vec'], [37, 'tiled'], [5, 'blocked']] as const)(`T=%i %s: every fusion vs float64 (K=${K}, N=${N})`, async (T, variant) => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w', type, [K, N], bytes);
    for (const fusion of FUSIONS) {
      const c = makeCase(fusion, T, K, N, 11 + T, fusion === 'norm' ? 1e3 : 1); // the norm divides any scale away
      const want = matmulRef(inputRef(fusion, c, T, K), w64, T, N, K);
      if (fusion === 'acc') for (let i = 0; i < want.y.length; i++) { want.y[i] += c.y0[i]; want.mag[i] += Math.abs(c.y0[i]); }
      try {
        expectClose(await runFused(ctx, weight, fusion, c, T, variant), want);
      } catch (e) {
        throw new Error(`${fusion}: ${(e as Error).message}`);
      }
    }
    weight.destroy();
  });

  it('each fusion gives the bits of the unfused kernels it replaces (vec T=3, tiled T=37, blocked T=37)', async () => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w', type, [K, N], bytes);
    for (const [T, variant] of [[3, 'vec'], [37, 'tiled'], [37, 'blocked']] as const) {
      for (const fusion of FUSIONS) {
        const c = makeCase(fusion, T, K, N, 5);
        expect(await runFused(ctx, weight, fusion, c, T, variant), `${variant} ${fusion}`).toEqual(await runUnfused(ctx, weight, fusion, c, T, variant));
      }
    }
    weight.destroy();
  });

  it('split-K S=2, 4, 8 with every fusion (and a bias) gives the unsplit tiled and the vec bits', async () => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w', type, [K, N], bytes);
    const bias = randomActivations(N, 17);
    for (const fusion of FUSIONS) {
      const c = makeCase(fusion, 37, K, N, 13);
      const unsplit = await runFused(ctx, weight, fusion, c, 37, 'tiled', { bias });
      expect(await runFused(ctx, weight, fusion, c, 37, 'vec', { bias }), `vec ${fusion}`).toEqual(unsplit);
      for (const splitK of [2, 4, 8] as const) {
        expect(await runFused(ctx, weight, fusion, c, 37, 'tiled', { bias, splitK }), `split ${splitK} ${fusion}`).toEqual(unsplit);
      }
    }
    weight.destroy();
  });

  // T = 130: two 128-token tiles, the second with 2 tokens; the norm prologue's second pass
  // (tile tokens 64..127) serves the thread's second staged token.
  it('the 8×4 register tile (T=130) with every fusion and a bias gives the 4×4 tile and the vec bits; split S=2 too', async () => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w', type, [K, N], bytes);
    const bias = randomActivations(N, 18);
    for (const fusion of FUSIONS) {
      const c = makeCase(fusion, 130, K, N, 19);
      const narrow = await runFused(ctx, weight, fusion, c, 130, 'tiled', { bias, tokensPerThread: 4 });
      expect(await runFused(ctx, weight, fusion, c, 130, 'tiled', { bias, tokensPerThread: 8 }), `8×4 ${fusion}`).toEqual(narrow);
      expect(await runFused(ctx, weight, fusion, c, 130, 'vec', { bias }), `vec ${fusion}`).toEqual(narrow);
      expect(await runFused(ctx, weight, fusion, c, 130, 'tiled', { bias, tokensPerThread: 8, splitK: 2 }), `8×4 split 2 ${fusion}`).toEqual(narrow);
    }
    weight.destroy();
  });

  it('act×up in place over gate|up, then a matmul reading K of each 2K row: the bits of siluMul then matmul (silu, gelu; every variant)', async () => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w', type, [K, N], bytes);
    for (const [T, variant] of [[3, 'vec'], [37, 'tiled'], [37, 'blocked'], [1, 'blocked']] as const) {
      for (const act of ['silu', 'gelu'] as const) {
        const c = makeCase(act, T, K, N, 21);
        const gateUp = ctx.upload('gate-up', c.x); // [T, 2K]
        const y = ctx.upload('y', c.y0);
        await runPass(ctx, (enc) => {
          gluInPlace(enc, { gateUp, numRows: T, n: K, act });
          matmul(enc, { weight, x: gateUp, xStride: 2 * K, y, numTokens: T, variant });
        });
        const got = await readF32(ctx, y, T * N);
        const inPlace = await readF32(ctx, gateUp, T * 2 * K);
        for (const b of [gateUp, y]) b.destroy();
        expect(got, `${variant} T=${T} ${act}`).toEqual(await runUnfused(ctx, weight, act, c, T, variant));
        // The up half is left as it was; the gate half holds act(gate) · up.
        for (let t = 0; t < T; t++) expect(inPlace.slice(t * 2 * K + K, (t + 1) * 2 * K)).toEqual(c.x.slice(t * 2 * K + K, (t + 1) * 2 * K));
      }
    }
    weight.destroy();
  });

  it('batch invariance with a prologue: a token alone (vec) equals itself inside T = 3, 16, 37 (vec, tiled); blocked alone equals blocked in T = 37', async () => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w', type, [K, N], bytes);
    for (const fusion of ['norm', 'silu'] as const) {
      const c = makeCase(fusion, 37, K, N, 9);
      const xw = c.x.length / 37; // x's row length
      const part = (from: number, to: number): Case => ({ ...c, x: sliceRows(c.x, from, to, xw), y0: sliceRows(c.y0, from, to, N) });
      const big = await runFused(ctx, weight, fusion, c, 37, 'tiled');
      expect(await runFused(ctx, weight, fusion, c, 37, 'vec'), fusion).toEqual(big);
      for (const T of [3, 16]) {
        for (const variant of ['vec', 'tiled'] as const) expect(await runFused(ctx, weight, fusion, part(0, T), T, variant), `${fusion} T=${T} ${variant}`).toEqual(big.slice(0, T * N));
      }
      const blockedBig = await runFused(ctx, weight, fusion, c, 37, 'blocked');
      for (const t of [0, 17, 36]) {
        expect(await runFused(ctx, weight, fusion, part(t, t + 1), 1, 'vec'), `${fusion} token ${t}`).toEqual(big.slice(t * N, (t + 1) * N));
        expect(await runFused(ctx, weight, fusion, part(t, t + 1), 1, 'blocked'), `${fusion} blocked token ${t}`).toEqual(blockedBig.slice(t * N, (t + 1) * N));
      }
    }
    weight.destroy();
  });
});

describe('matmul fusion guards', () => {
  it('rejects a glu x shorter than [T, 2K] and a norm weight shorter than K with kernel_bad_args', async () => {
    const ctx = await testContext();
    const [K, N, T] = [8, 4, 2];
    const weight = await uploadWeightBytes(ctx, 'w', GGMLType.F32, [K, N], randomTensorBytes(GGMLType.F32, N, K, 1));
    const x = ctx.storage('x', T * K * 4); // [T, K]: enough without a glu
    const y = ctx.storage('y', T * N * 4);
    const shortWeight = ctx.storage('nw', (K - 1) * 4);
    for (const prologue of [{ kind: 'glu', act: 'silu' }, { kind: 'norm', weight: shortWeight, eps: EPS }, { kind: 'norm', weight: x, eps: Number.NaN }] as MatmulPrologue[]) {
      const err = await runPass(ctx, (enc) => matmul(enc, { weight, x, y, numTokens: T, prologue })).catch((e) => e);
      expect(err).toBeInstanceOf(KernelArgError);
      expect((err as KernelArgError).code).toBe('kernel_bad_args');
    }
    // xStride: below K, not an integer, or beside a glu prologue (which fixes it at 2K).
    const wide = ctx.storage('wide', T * 2 * K * 4);
    for (const [xStride, prologue] of [[K - 1, undefined], [K + 0.5, undefined], [3 * K, { kind: 'glu', act: 'silu' }]] as [number, MatmulPrologue | undefined][]) {
      const err = await runPass(ctx, (enc) => matmul(enc, { weight, x: wide, y, numTokens: T, prologue, xStride })).catch((e) => e);
      expect(err, `xStride ${xStride}`).toBeInstanceOf(KernelArgError);
    }
    // A strided x must still hold [T, xStride].
    const strideErr = await runPass(ctx, (enc) => matmul(enc, { weight, x, y, numTokens: T, xStride: 2 * K })).catch((e) => e);
    expect(strideErr).toBeInstanceOf(KernelArgError);
    const gluErr = await runPass(ctx, (enc) => gluInPlace(enc, { gateUp: x, numRows: T, n: K })).catch((e) => e); // [T, K] < [T, 2K]
    expect(gluErr).toBeInstanceOf(KernelArgError);
    expect((gluErr as KernelArgError).code).toBe('kernel_bad_args');
    for (const b of [x, y, shortWeight, wide]) b.destroy();
    weight.destroy();
  });
});
