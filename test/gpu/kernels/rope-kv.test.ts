// The fused RoPE + KV write (rope-kv.ts) on a fused qkv row: against the float64 RoPE
// oracle (q and k rotated in place, k and v in their pool slots, v exact), and bit for bit
// against the unfused rope(q) + rope(k) + kvWrite it replaces. Ragged shapes (head dims
// 20 and 6, partial rotation, GQA 3:1), large positions, scattered slots, q/k norm.
// Tolerance (f32): 2e-6 on unit-scale inputs, 2e-5 with the per-head norm (as rope's test).
import { describe, expect, it } from 'vitest';
import { KernelArgError } from '../../../src/kernels/encoder';
import { kvWrite } from '../../../src/kernels/kv-write';
import { createRopeTable, rope } from '../../../src/kernels/rope';
import { ropeKv } from '../../../src/kernels/rope-kv';
import { getTestContext, maxAbsDiff, randomF32, readF32, rng, runPass, shuffled } from './harness';
import { ropeRef } from './norm-rope-oracle';

interface Case { numTokens: number; numHeads: number; numKvHeads: number; headDim: number; ropeDim: number; neox: boolean; norm: boolean }

const CASES: Case[] = [
  { numTokens: 5, numHeads: 3, numKvHeads: 1, headDim: 20, ropeDim: 12, neox: false, norm: false },
  { numTokens: 7, numHeads: 4, numKvHeads: 2, headDim: 64, ropeDim: 64, neox: true, norm: false },
  { numTokens: 3, numHeads: 2, numKvHeads: 2, headDim: 6, ropeDim: 6, neox: false, norm: true },
  { numTokens: 9, numHeads: 6, numKvHeads: 2, headDim: 32, ropeDim: 16, neox: true, norm: true },
];
const THETA = 10000;
const EPS = 1e-6;

describe('rope-kv', () => {
  it.each(CASES)('$numTokens tokens, $numHeads/$numKvHeads heads of $headDim (rope $ropeDim, neox $neox, norm $norm)', async (c) => {
    const ctx = await getTestContext({ f16: false });
    const rand = rng(c.headDim * 31 + c.numTokens);
    const qDim = c.numHeads * c.headDim, kvDim = c.numKvHeads * c.headDim, stride = qDim + 2 * kvDim;
    const numSlots = 4 * c.numTokens + 3;
    const x = randomF32(rand, c.numTokens * stride);
    const pos = Int32Array.from({ length: c.numTokens }, (_, t) => (t * 7919 + 3) % 100_000);
    const slots = shuffled(rand, numSlots).slice(0, c.numTokens);
    const qNorm = randomF32(rand, c.headDim, 2), kNorm = randomF32(rand, c.headDim, 2);

    const qkv = ctx.upload('qkv', x), posB = ctx.upload('pos', pos), slotB = ctx.upload('slots', slots);
    const turns = createRopeTable(ctx, THETA, c.ropeDim);
    const qn = ctx.upload('qn', qNorm), kn = ctx.upload('kn', kNorm);
    const kPool = ctx.storage('kpool', numSlots * kvDim * 4), vPool = ctx.storage('vpool', numSlots * kvDim * 4);
    const common = { positions: posB, turns, numTokens: c.numTokens, headDim: c.headDim, ropeDim: c.ropeDim, style: c.neox ? 'neox' : 'adjacent' } as const;
    await runPass(ctx, (enc) => ropeKv(enc, {
      ...common, qkv, slotMapping: slotB, kPool, vPool, numHeads: c.numHeads, numKvHeads: c.numKvHeads,
      norm: c.norm ? { q: qn, k: kn, eps: EPS } : undefined,
    }));
    const got = await readF32(ctx, qkv, c.numTokens * stride);
    const kGot = await readF32(ctx, kPool, numSlots * kvDim);
    const vGot = await readF32(ctx, vPool, numSlots * kvDim);

    // float64: q heads and k heads rotated in place (each with its own norm), v untouched.
    const base = { numTokens: c.numTokens, headDim: c.headDim, ropeDim: c.ropeDim, neox: c.neox, theta: THETA, rowStride: stride, eps: EPS };
    const qWant = ropeRef(x, pos, { ...base, numHeads: c.numHeads, colOffset: 0, norm: c.norm ? qNorm : undefined });
    const kWant = ropeRef(x, pos, { ...base, numHeads: c.numKvHeads, colOffset: qDim, norm: c.norm ? kNorm : undefined });
    const tol = c.norm ? 2e-5 : 2e-6;
    const cols = (a: ArrayLike<number>, from: number, len: number) => Array.from({ length: c.numTokens * len }, (_, i) => a[Math.floor(i / len) * stride + from + (i % len)]);
    expect(maxAbsDiff(cols(got, 0, qDim), cols(qWant, 0, qDim))).toBeLessThan(tol);
    expect(maxAbsDiff(cols(got, qDim, kvDim), cols(kWant, qDim, kvDim))).toBeLessThan(tol);
    expect(cols(got, qDim + kvDim, kvDim)).toEqual(cols(x, qDim + kvDim, kvDim));
    for (let t = 0; t < c.numTokens; t++) {
      const row = Array.from(kGot.subarray(slots[t] * kvDim, (slots[t] + 1) * kvDim));
      expect(row).toEqual(Array.from(got.subarray(t * stride + qDim, t * stride + qDim + kvDim)));
      expect(Array.from(vGot.subarray(slots[t] * kvDim, (slots[t] + 1) * kvDim))).toEqual(Array.from(x.subarray(t * stride + qDim + kvDim, (t + 1) * stride)));
    }

    // The unfused passes on the same inputs: identical bits everywhere.
    const qkv2 = ctx.upload('qkv2', x);
    const kPool2 = ctx.storage('kpool2', numSlots * kvDim * 4), vPool2 = ctx.storage('vpool2', numSlots * kvDim * 4);
    await runPass(ctx, (enc) => {
      rope(enc, { ...common, x: qkv2, numHeads: c.numHeads, rowStride: stride, colOffset: 0, norm: c.norm ? { weight: qn, eps: EPS } : undefined });
      rope(enc, { ...common, x: qkv2, numHeads: c.numKvHeads, rowStride: stride, colOffset: qDim, norm: c.norm ? { weight: kn, eps: EPS } : undefined });
      kvWrite(enc, {
        k: qkv2, v: qkv2, slotMapping: slotB, kPool: kPool2, vPool: vPool2, numTokens: c.numTokens, kvDim,
        kRowStride: stride, kColOffset: qDim, vRowStride: stride, vColOffset: qDim + kvDim,
      });
    });
    const bits = async (b: GPUBuffer, n: number) => new Uint32Array((await readF32(ctx, b, n)).buffer);
    expect(await bits(qkv2, c.numTokens * stride)).toEqual(new Uint32Array(got.buffer));
    expect(await bits(kPool2, numSlots * kvDim)).toEqual(new Uint32Array(kGot.buffer));
    expect(await bits(vPool2, numSlots * kvDim)).toEqual(new Uint32Array(vGot.buffer));
    for (const b of [qkv, posB, slotB, turns, qn, kn, kPool, vPool, qkv2, kPool2, vPool2]) b.destroy();
  });

  it('refuses a row too short for q, k and v, and one pool for both, with kernel_bad_args', async () => {
    const ctx = await getTestContext({ f16: false });
    const buf = (n: number) => ctx.storage('b', n * 4);
    const turns = createRopeTable(ctx, THETA, 8);
    const pool = buf(1024);
    const args = {
      qkv: buf(4 * 32), positions: buf(4), slotMapping: buf(4), turns, kPool: pool, vPool: buf(1024), numTokens: 4,
      numHeads: 2, numKvHeads: 1, headDim: 8, ropeDim: 8, style: 'adjacent' as const,
    };
    for (const bad of [{ ...args, rowStride: 24 }, { ...args, vPool: pool }]) {
      const err = await runPass(ctx, (enc) => ropeKv(enc, bad)).catch((e) => e);
      expect(err).toBeInstanceOf(KernelArgError);
    }
  });
});
