// Matmul kernels vs a float64 CPU matmul on the dequantized weights (same bytes).
// Tolerance: f32 accumulation over K terms → |gpu − ref| ≤ 1e-4 · Σ_k |x_k w_k| (+ a
// tiny absolute floor). The serial chains are short: the GPU set sums ≤ 72 units per
// partial then a 5-level tree, the software set ≤ 288 runs of 8 (K ≤ 2304), so the
// worst-case bound (chain length + 8)·2⁻²⁴ ≤ 2e-5 fits.
// Variants: 'vec' and 'tiled' are the GPU set (forced here: the test context has
// software = false), 'blocked' the software set; batch invariance is bitwise within a set.
import { describe, expect, it } from 'vitest';
import { plannedTokenCounts } from '../../src/gpu/step-plan';
import { uploadWeightBytes } from '../../src/gpu/weights';
import { KernelArgError } from '../../src/kernels/encoder';
import { chooseMatmulVariant, chooseSplitK, chooseTiledTokens, SPLITK_SCRATCH_BYTES, SPLITK_TARGET_WORKGROUPS, splitKScratchBytes, splitWorkgroups, WIDE_TILE_TOKENS, type MatmulVariant } from '../../src/kernels/matmul';
import { quantize } from '../../src/model/gguf/quantize';
import { GGMLType } from '../../src/model/gguf/types';
import { dequantRef, matmulRef, randomActivations, randomTensorBytes } from './matmul-fixtures';
import { runMatmul, testContext } from './matmul-run';

const REL_TOL = 1e-4;

// [type, K, N]: K a whole (odd) number of blocks, N odd
const SHAPES: [string, GGMLType, number, number][] = [
  ['F32', GGMLType.F32, 83, 77],
  ['F16', GGMLType.F16, 83, 77],
  ['Q8_0', GGMLType.Q8_0, 96, 131],
  ['Q4_0', GGMLType.Q4_0, 96, 131],
  ['Q4_K', GGMLType.Q4_K, 768, 77],
  ['Q5_K', GGMLType.Q5_K, 768, 77],
  ['Q6_K', GGMLType.Q6_K, 768, 77],
  ['BF16', GGMLType.BF16, 83, 77],
  ['Q4_1', GGMLType.Q4_1, 96, 131],
  ['Q5_0', GGMLType.Q5_0, 96, 131],
  ['Q5_1', GGMLType.Q5_1, 96, 131],
  ['Q2_K', GGMLType.Q2_K, 768, 77],
  ['Q3_K', GGMLType.Q3_K, 768, 77],
  ['IQ4_NL', GGMLType.IQ4_NL, 96, 131],
  ['IQ4_XS', GGMLType.IQ4_XS, 768, 77],
  // K of one unit: the matrix × vector kernel runs one lane per row (matmul.ts vecShape)
  ['F32 short', GGMLType.F32, 29, 77],
  // K past one round of 32 units × 32 (the GPU set's 32 partials each sum several units)
  ['F16 long', GGMLType.F16, 1111, 45],
  ['Q4_K long', GGMLType.Q4_K, 2304, 45],
];
// [T, variant]: auto picks vec for 1 and 3, tiled for 37 (blocked on software adapters); the others are checked too
const RUNS: [number, MatmulVariant | undefined][] = [
  [1, undefined],
  [3, undefined],
  [3, 'tiled'],
  [3, 'blocked'],
  [37, undefined],
  [37, 'vec'],
  [37, 'blocked'],
];

function expectClose(got: Float32Array, want: { y: Float64Array; mag: Float64Array }, relTol = REL_TOL): number {
  expect(got.length).toBe(want.y.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const err = Math.abs(got[i] - want.y[i]) / (want.mag[i] + 1e-30);
    if (!(err <= relTol)) throw new Error(`element ${i}: gpu ${got[i]} vs ref ${want.y[i]} (Σ|xw| ${want.mag[i]}, rel ${err})`);
    worst = Math.max(worst, err);
  }
  return worst;
}

describe.each(SHAPES)('matmul %s', (_name, type, K, N) => {
  const bytes = randomTensorBytes(type, N, K, 100 + type);
  const w64 = dequantRef(type, bytes, N, K);

  it.each(RUNS)(`T=%i variant=%s vs float64 (K=${K}, N=${N})`, async (T, variant) => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w', type, [K, N], bytes);
    const x = randomActivations(T * K, 7 + T);
    const got = await runMatmul(ctx, weight, x, T, { variant });
    expectClose(got, matmulRef(x, w64, T, N, K));
    weight.destroy();
  });

  // The GPU set (vec, tiled) shares one summation order; the software set (blocked) runs
  // alone on its contexts, so it is checked against itself across batch sizes.
  it('batch invariance: a token gets the same bits alone (vec, T=1) as inside T=3 (vec, tiled), 16 and 37 (tiled, vec); blocked alone equals blocked in T=37', async () => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w-inv', type, [K, N], bytes);
    const x = randomActivations(37 * K, 31);
    const bias = randomActivations(N, 32);
    const big = await runMatmul(ctx, weight, x, 37, { bias, variant: 'tiled' });
    expect(await runMatmul(ctx, weight, x, 37, { bias, variant: 'vec' })).toEqual(big);
    for (const T of [3, 16]) {
      for (const variant of ['vec', 'tiled'] as const) {
        expect(await runMatmul(ctx, weight, x.slice(0, T * K), T, { bias, variant })).toEqual(big.slice(0, T * N));
      }
    }
    const blockedBig = await runMatmul(ctx, weight, x, 37, { bias, variant: 'blocked' });
    for (const t of [0, 17, 36]) {
      const alone = await runMatmul(ctx, weight, x.slice(t * K, (t + 1) * K), 1, { bias, variant: 'vec' });
      expect(alone).toEqual(big.slice(t * N, (t + 1) * N));
      const blockedAlone = await runMatmul(ctx, weight, x.slice(t * K, (t + 1) * K), 1, { bias, variant: 'blocked' });
      expect(blockedAlone).toEqual(blockedBig.slice(t * N, (t + 1) * N));
    }
    weight.destroy();
  });

  // Split-K runs aligned groups of the same 32-partial tree on 2, 4 or 8 workgroups and folds
  // their sums with the tree's top levels, so its bits are the unsplit kernel's (and vec's).
  // K here has 3 or 24 units: with S = 8, groups past the units add exact zeros.
  it('split-K S=2, 4, 8 (with bias) equals the unsplit tiled kernel and the vec kernel bit for bit', async () => {
    const ctx = await testContext();
    const T = 37;
    const weight = await uploadWeightBytes(ctx, 'w-splitk', type, [K, N], bytes);
    const x = randomActivations(T * K, 41);
    const bias = randomActivations(N, 42);
    const unsplit = await runMatmul(ctx, weight, x, T, { bias, variant: 'tiled' });
    expectClose(unsplit, matmulRef(x, w64, T, N, K, bias));
    expect(await runMatmul(ctx, weight, x, T, { bias, variant: 'vec' })).toEqual(unsplit);
    for (const splitK of [2, 4, 8] as const) {
      expect(await runMatmul(ctx, weight, x, T, { bias, variant: 'tiled', splitK })).toEqual(unsplit);
    }
    weight.destroy();
  });

  // The 8×4 register tile (128-token tiles, half a unit of x per step) sums the same tree, so
  // its bits are the 4×4 tile's and vec's: T = 37 (part of one tile), 130 (a tile and 2
  // tokens), 200; split-K with it (S = 2) too.
  it('8×4 register tile (T=37, 130, 200, with bias; split S=2) equals the 4×4 tile and vec bit for bit, and float64', async () => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w-t8', type, [K, N], bytes);
    const bias = randomActivations(N, 52);
    for (const T of [37, 130, 200]) {
      const x = randomActivations(T * K, 51 + T);
      const wide = await runMatmul(ctx, weight, x, T, { bias, variant: 'tiled', tokensPerThread: 8 });
      if (T === 130) {
        expectClose(wide, matmulRef(x, w64, T, N, K, bias));
        expect(await runMatmul(ctx, weight, x, T, { bias, variant: 'tiled', tokensPerThread: 8, splitK: 2 }), 'split 2').toEqual(wide);
      }
      expect(await runMatmul(ctx, weight, x, T, { bias, variant: 'tiled', tokensPerThread: 4 }), `4×4 T=${T}`).toEqual(wide);
      expect(await runMatmul(ctx, weight, x, T, { bias, variant: 'vec' }), `vec T=${T}`).toEqual(wide);
    }
    weight.destroy();
  });

  it('with bias, and split into row parts: the same values bit for bit', async () => {
    const ctx = await testContext();
    const T = 5;
    const x = randomActivations(T * K, 3);
    const bias = randomActivations(N, 4, 10);
    const whole = await uploadWeightBytes(ctx, 'w', type, [K, N], bytes);
    const rowBytes = bytes.length / N;
    const split = await uploadWeightBytes(ctx, 'w-split', type, [K, N], bytes, { maxPartBytes: rowBytes * Math.min(20, Math.floor(N / 5)) + 8 });
    expect(split.parts.length).toBeGreaterThan(3);
    for (const [variant, tokensPerThread] of [['vec'], ['tiled', 4], ['tiled', 8], ['blocked']] as const) {
      const a = await runMatmul(ctx, whole, x, T, { bias, variant, tokensPerThread });
      const b = await runMatmul(ctx, split, x, T, { bias, variant, tokensPerThread });
      expectClose(a, matmulRef(x, w64, T, N, K, bias));
      expect(b, `${variant} ${tokensPerThread ?? ''}`).toEqual(a);
    }
    whole.destroy();
    split.destroy();
  });

  it('weights from the shared quantizer (gaussian-like values), T=1 and T=37', async () => {
    const ctx = await testContext();
    const values = Float32Array.from(randomActivations(N * K, 77), (v, i) => v * Math.cos(i) * 0.1);
    const q = quantize(type, values);
    const weight = await uploadWeightBytes(ctx, 'w-q', type, [K, N], q);
    const wq = dequantRef(type, q, N, K);
    for (const T of [1, 37]) {
      const x = randomActivations(T * K, 13 + T);
      expectClose(await runMatmul(ctx, weight, x, T), matmulRef(x, wq, T, N, K));
    }
    weight.destroy();
  });

  it('extreme magnitudes (|x| up to 1e4, scales up to 2^11) stay within tolerance', async () => {
    const ctx = await testContext();
    const big = randomTensorBytes(type, N, K, 9, { scaleExp: [7, 11] });
    const weight = await uploadWeightBytes(ctx, 'w-big', type, [K, N], big);
    const wBig = dequantRef(type, big, N, K);
    for (const T of [1, 37]) {
      const x = randomActivations(T * K, 11, 1e4);
      const got = await runMatmul(ctx, weight, x, T);
      expect(got.every((v) => Number.isFinite(v))).toBe(true);
      expectClose(got, matmulRef(x, wBig, T, N, K));
    }
    weight.destroy();
  });
});

describe('matmul dispatch and guards', () => {
  it('splits workgroups over x/y under 65535 per dimension', () => {
    expect(splitWorkgroups(77)).toEqual([77, 1]);
    expect(splitWorkgroups(65535)).toEqual([65535, 1]);
    expect(splitWorkgroups(70000)).toEqual([65535, 2]);
    expect(splitWorkgroups(151936 / 32)).toEqual([4748, 1]);
    expect(chooseMatmulVariant(1)).toBe('vec');
    expect(chooseMatmulVariant(64)).toBe('tiled');
    expect(chooseMatmulVariant(1, true)).toBe('blocked');
    expect(chooseMatmulVariant(300, true)).toBe('blocked');
  });

  it('row groups split over x and y (limit lowered to 3 per dimension) still cover every row', async () => {
    const ctx = await testContext();
    const [N, K] = [131, 64];
    const bytes = randomTensorBytes(GGMLType.Q8_0, N, K, 21);
    const weight = await uploadWeightBytes(ctx, 'w-tall', GGMLType.Q8_0, [K, N], bytes);
    const wRef = dequantRef(GGMLType.Q8_0, bytes, N, K);
    for (const [T, variant] of [[2, 'vec'], [33, 'tiled']] as const) {
      const x = randomActivations(T * K, 5);
      const got = await runMatmul(ctx, weight, x, T, { variant, maxWorkgroupsPerDim: 3 });
      expectClose(got, matmulRef(x, wRef, T, N, K));
    }
    weight.destroy();
    // blocked: 256 rows per workgroup, so 700 rows make 3 groups, split 2 × 2 under a limit of 2
    const tallBytes = randomTensorBytes(GGMLType.Q8_0, 700, K, 22);
    const tall = await uploadWeightBytes(ctx, 'w-taller', GGMLType.Q8_0, [K, 700], tallBytes);
    const x = randomActivations(19 * K, 8);
    expectClose(await runMatmul(ctx, tall, x, 19, { variant: 'blocked', maxWorkgroupsPerDim: 2 }), matmulRef(x, dequantRef(GGMLType.Q8_0, tallBytes, 700, K), 19, 700, K));
    tall.destroy();
  });

  // vec reads units with 16-byte loads (loadUnit through the vec4 view `w4`): F16/F32/BF16 rows
  // whose every unit is 16-byte aligned take that path for every unit (the ragged shapes
  // above mix it with the loadW8 fallback), and a weight of fewer than 16 bytes still binds
  // as vec4 (its part buffer is padded to 16 B).
  it('16-byte unit loads: aligned F16/F32/BF16 rows and a weight smaller than one vec4, vs float64 and bit-equal to tiled', async () => {
    const ctx = await testContext();
    for (const [type, K, N] of [[GGMLType.F16, 96, 9], [GGMLType.F32, 64, 5], [GGMLType.BF16, 64, 7], [GGMLType.F32, 3, 1], [GGMLType.F16, 5, 1], [GGMLType.BF16, 5, 1]] as const) {
      const bytes = randomTensorBytes(type, N, K, 40 + K);
      const weight = await uploadWeightBytes(ctx, 'w-aligned', type, [K, N], bytes);
      for (const p of weight.parts) expect(p.buffer.size % 16).toBe(0);
      const x = randomActivations(3 * K, 41);
      const vec = await runMatmul(ctx, weight, x, 3, { variant: 'vec' });
      expectClose(vec, matmulRef(x, dequantRef(type, bytes, N, K), 3, N, K));
      expect(await runMatmul(ctx, weight, x, 3, { variant: 'tiled' })).toEqual(vec);
      weight.destroy();
    }
  });

  it('chooseSplitK: splits few tiles over a long K, never on software adapters; its scratch fits SPLITK_SCRATCH_BYTES', () => {
    // Qwen2.5-0.5B k/v (N = 128, K = 896: 28 units) on a 64-token prompt: 2 tiles; 8 would
    // leave groups of partials past the 28 units, so 4
    expect(chooseSplitK(128, 896, 64)).toBe(4);
    expect(chooseSplitK(128, 4096, 64)).toBe(8);
    expect(chooseSplitK(128, 4096, 64, true)).toBe(1);
    // units 16: the second half of the partials is empty — no split
    expect(chooseSplitK(128, 512, 64)).toBe(1);
    expect(chooseSplitK(128, 544, 64)).toBe(2);
    // enough workgroups already: no split
    expect(chooseSplitK(4864, 896, 512)).toBe(1);
    expect(chooseSplitK(128, 4096, 64 * SPLITK_TARGET_WORKGROUPS)).toBe(1);
    let worst = 0;
    for (const N of [1, 63, 64, 65, 128, 200, 896, 1152, 4095]) {
      for (let T = 1; T <= 64 * SPLITK_TARGET_WORKGROUPS; T += 37) worst = Math.max(worst, splitKScratchBytes(chooseSplitK(N, 4096, T), T, N));
    }
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(SPLITK_SCRATCH_BYTES);
    // The load's dry runs (step-plan.ts plannedTokenCounts) reach every S a tiled step (T > 8) can pick,
    // so no split pipeline is compiled after load.
    const planned = plannedTokenCounts().filter((T) => T > 8);
    for (const N of [64, 128, 192, 256, 1152, 1536, 2048]) {
      for (const K of [544, 896, 1024, 4864]) {
        const all = new Set<number>();
        for (let T = 9; T <= 1 << 16; T++) all.add(chooseSplitK(N, K, T));
        expect(new Set(planned.map((T) => chooseSplitK(N, K, T))), `N=${N} K=${K}`).toEqual(all);
      }
    }
  });

  it('chooseTiledTokens: the 8×4 tile from 128 tokens while 128-token tiles still make SPLITK_TARGET_WORKGROUPS workgroups; then never split; reached by the dry runs', () => {
    // Qwen2.5-0.5B gate|up (N = 9728: 152 row tiles) at T = 512; its k/v
    expect(chooseTiledTokens(9728, 512)).toBe(8);
    expect(chooseTiledTokens(9728, WIDE_TILE_TOKENS - 1)).toBe(4);
    // (N = 128: 2 row tiles) unless a step brings 64 token tiles of 128
    expect(chooseTiledTokens(128, 63 * 128)).toBe(4);
    expect(chooseTiledTokens(128, 63 * 128 + 1)).toBe(8);
    // its q projection (N = 896: 14 row tiles) from 10 token tiles of 128
    expect(chooseTiledTokens(896, 9 * 128)).toBe(4);
    expect(chooseTiledTokens(896, 9 * 128 + 1)).toBe(8);
    const planned = plannedTokenCounts().filter((T) => T > 8);
    for (const N of [64, 128, 896, 1152, 4864, 9728]) {
      const all = new Set<number>();
      for (let T = 9; T <= 1 << 16; T++) {
        const tokens = chooseTiledTokens(N, T);
        all.add(tokens);
        if (tokens === 8) expect(chooseSplitK(N, 4864, T)).toBe(1); // the longest K splits first
      }
      expect(new Set(planned.map((T) => chooseTiledTokens(N, T))), `N=${N}`).toEqual(all);
    }
  });

  it('the automatic split (a scratch given) and split-K on weights in row parts and x/y-split row groups keep the bits', async () => {
    const ctx = await testContext();
    const [N, K, T] = [131, 1120, 45]; // 35 units, 3 row tiles
    const type = GGMLType.Q8_0;
    const bytes = randomTensorBytes(type, N, K, 23);
    const whole = await uploadWeightBytes(ctx, 'w', type, [K, N], bytes);
    const parts = await uploadWeightBytes(ctx, 'w-parts', type, [K, N], bytes, { maxPartBytes: (bytes.length / N) * 40 + 8 });
    expect(parts.parts.length).toBeGreaterThan(2);
    expect(chooseSplitK(N, K, T)).toBe(8);
    const x = randomActivations(T * K, 24);
    const bias = randomActivations(N, 25);
    const unsplit = await runMatmul(ctx, whole, x, T, { bias, variant: 'tiled' });
    expectClose(unsplit, matmulRef(x, dequantRef(type, bytes, N, K), T, N, K, bias));
    // automatic: the kernel picks S = 8 from the shape when given a scratch
    const xBuf = ctx.upload('x', x);
    const biasBuf = ctx.upload('bias', bias);
    const yBuf = ctx.storage('y', T * N * 4);
    const scratch = ctx.storage('scratch', SPLITK_SCRATCH_BYTES);
    const { record } = await import('./matmul-run');
    const { matmul } = await import('../../src/kernels/matmul');
    const { readBuffer } = await import('../helpers/gpu');
    const dispatches = await record(ctx, (enc) => matmul(enc, { weight: whole, x: xBuf, y: yBuf, bias: biasBuf, numTokens: T, splitScratch: scratch }));
    expect(dispatches).toBe(2); // the split tiled kernel and the combine
    expect(new Float32Array(await readBuffer(ctx.device, yBuf, T * N * 4))).toEqual(unsplit);
    for (const b of [xBuf, biasBuf, yBuf, scratch]) b.destroy();
    for (const splitK of [2, 8] as const) {
      expect(await runMatmul(ctx, parts, x, T, { bias, variant: 'tiled', splitK })).toEqual(unsplit);
      expect(await runMatmul(ctx, whole, x, T, { bias, variant: 'tiled', splitK, maxWorkgroupsPerDim: 1 })).toEqual(unsplit); // 3 row tiles → 1 × 3
    }
    whole.destroy();
    parts.destroy();
  });

  it('rejects split-K without (or with too small, or aliased) scratch, split-K or a register tile off the tiled variant', async () => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w', GGMLType.F32, [64, 8], randomTensorBytes(GGMLType.F32, 8, 64, 1));
    const x = ctx.storage('x', 20 * 64 * 4);
    const y = ctx.storage('y', 20 * 8 * 4);
    const small = ctx.storage('small', 2 * 20 * 8 * 4 - 4);
    const { record } = await import('./matmul-run');
    const { matmul } = await import('../../src/kernels/matmul');
    for (const args of [
      { splitK: 2 as const },
      { splitK: 2 as const, splitScratch: small },
      { splitK: 4 as const, splitScratch: x },
      { splitK: 2 as const, splitScratch: ctx.storage('big', 1 << 16), variant: 'vec' as const },
      { splitK: 3 as unknown as 2, splitScratch: ctx.storage('big2', 1 << 16) },
      { tokensPerThread: 8 as const, variant: 'vec' as const },
      { tokensPerThread: 6 as unknown as 8 },
    ]) {
      const err = await record(ctx, (enc) => matmul(enc, { weight, x, y, numTokens: 20, variant: 'tiled', ...args })).catch((e) => e);
      expect(err).toBeInstanceOf(KernelArgError);
      expect((err as KernelArgError).code).toBe('kernel_bad_args');
    }
    weight.destroy();
  });

  it('rejects undersized or aliased buffers with kernel_bad_args', async () => {
    const ctx = await testContext();
    const weight = await uploadWeightBytes(ctx, 'w', GGMLType.F32, [8, 4], randomTensorBytes(GGMLType.F32, 4, 8, 1));
    const x = ctx.storage('x', 2 * 8 * 4);
    const y = ctx.storage('y', 2 * 4 * 4);
    const small = ctx.storage('small', 4);
    const { record } = await import('./matmul-run');
    const { matmul } = await import('../../src/kernels/matmul');
    for (const args of [
      { x, y: small, numTokens: 2 },
      { x: small, y, numTokens: 2 },
      { x, y: x, numTokens: 2 },
      { x, y, bias: small, numTokens: 2 },
      { x, y, numTokens: 1.5 },
    ]) {
      const err = await record(ctx, (enc) => matmul(enc, { weight, ...args })).catch((e) => e);
      expect(err).toBeInstanceOf(KernelArgError);
      expect((err as KernelArgError).code).toBe('kernel_bad_args');
    }
    weight.destroy();
  });
});
