// KV write + paged attention against a float64 oracle that reads K/V by position
// (not through the pool), so block-table mapping errors show up as wrong values.
// Tolerance (f32 path): 2e-5 absolute on unit-scale values (outputs are convex
// combinations of V rows); 1e-4 with scores of magnitude ~1e4 (extreme-values case).
// f16 KV pool (only where the adapter has shader-f16; skipped, visibly, elsewhere): the
// oracle reads K/V rounded to f16, so the same 2e-5 applies.
import { describe, expect, it } from 'vitest';
import { kvWrite } from '../../../src/kernels/kv-write';
import { attentionGroup, attentionScratchBytes, chooseAttentionSplit, defaultAttentionVariant, pagedAttention, splitPlan, type AttentionVariant } from '../../../src/kernels/attention';
import { KernelArgError } from '../../../src/kernels/encoder';
import type { KvType } from '../../../src/kernels/kv-type';
import { f16ToF32, f32ToF16 } from '../../../src/model/gguf';
import { getTestDevice } from '../../helpers/gpu';
import { attentionRef, type AttentionFeatures, type Seq } from './attention-oracle';
import { getTestContext, maxAbsDiff, randomF32, readF32, rng, runPass, shuffled } from './harness';


async function runCase(seed: number, numHeads: number, numKvHeads: number, headDim: number, lens: [number, number][], qScale = 1, kvType: KvType = 'f32', splitParts = 0, variant: AttentionVariant = 'workgroup', features: AttentionFeatures = {}): Promise<number> {
  const ctx = await getTestContext();
  const rand = rng(seed);
  const kvDim = numKvHeads * headDim;
  const totalBlocks = lens.reduce((a, [c]) => a + Math.ceil(c / 16), 0) + 3;
  const blockIds = shuffled(rand, totalBlocks); // scattered, never in order
  let nextBlock = 0;
  const seqs: Seq[] = lens.map(([contextLength, queryLength]) => {
    const nb = Math.ceil(contextLength / 16);
    const blockTable = blockIds.slice(nextBlock, nextBlock + nb);
    nextBlock += nb;
    return { contextLength, queryLength, k: randomF32(rand, contextLength * kvDim), v: randomF32(rand, contextLength * kvDim), blockTable };
  });
  // KV write: every context position of every sequence (one call).
  const slots: number[] = [], kAll: number[] = [], vAll: number[] = [];
  for (const s of seqs) {
    for (let p = 0; p < s.contextLength; p++) {
      slots.push(s.blockTable[p >> 4] * 16 + (p & 15));
      kAll.push(...s.k.subarray(p * kvDim, (p + 1) * kvDim));
      vAll.push(...s.v.subarray(p * kvDim, (p + 1) * kvDim));
    }
  }
  // Queries: the last queryLength positions of each sequence, flattened.
  const qs = seqs.map((s) => randomF32(rand, s.queryLength * numHeads * headDim, qScale));
  const meta: number[] = [], tables: number[] = [];
  seqs.forEach((s, si) => {
    const start = tables.length;
    tables.push(...s.blockTable);
    for (let qi = 0; qi < s.queryLength; qi++) meta.push(s.contextLength - s.queryLength + qi, start);
    void si;
  });
  const numQ = meta.length / 2;
  const poolBytes = totalBlocks * 16 * kvDim * (kvType === 'f16' ? 2 : 4);
  if (kvType === 'f16') {
    for (const s of seqs) for (const a of [s.k, s.v]) for (let i = 0; i < a.length; i++) a[i] = f16ToF32(f32ToF16(a[i]));
  }
  const kPool = ctx.storage('kpool', poolBytes), vPool = ctx.storage('vpool', poolBytes);
  const qFlat = new Float32Array(qs.reduce((a, q) => a + q.length, 0));
  let off = 0;
  for (const q of qs) { qFlat.set(q, off); off += q.length; }
  const qBuf = ctx.upload('q', qFlat), out = ctx.storage('out', numQ * numHeads * headDim * 4);
  const kBuf = ctx.upload('k', Float32Array.from(kAll)), vBuf = ctx.upload('v', Float32Array.from(vAll));
  const slotBuf = ctx.upload('slots', Int32Array.from(slots)), metaBuf = ctx.upload('meta', Int32Array.from(meta)), tblBuf = ctx.upload('tables', Int32Array.from(tables));
  const maxCtx = Math.max(...lens.map(([c]) => c));
  const plan = splitParts > 0 ? splitPlan(maxCtx, splitParts) : undefined;
  const scratch = plan && ctx.storage('scratch', attentionScratchBytes(numQ, numHeads, headDim, plan));
  await runPass(ctx, (enc) => {
    kvWrite(enc, { k: kBuf, v: vBuf, slotMapping: slotBuf, kPool, vPool, kvType, numTokens: slots.length, kvDim });
    pagedAttention(enc, { q: qBuf, kPool, vPool, kvType, tokenMeta: metaBuf, blockTables: tblBuf, out, numTokens: numQ, numHeads, numKvHeads, headDim, split: plan && scratch && { plan, scratch }, variant, ...features });
  });
  const got = await readF32(ctx, out, numQ * numHeads * headDim);
  for (const b of [kPool, vPool, qBuf, out, kBuf, vBuf, slotBuf, metaBuf, tblBuf]) b.destroy();
  return maxAbsDiff(got, attentionRef(seqs, qs, numHeads, numKvHeads, headDim, features));
}

describe('kv write + paged attention', async () => {
  const shapes: [number, number, number][] = [[8, 4, 8], [4, 4, 64], [8, 2, 80], [8, 1, 128], [16, 2, 8], [4, 2, 256], [32, 2, 8]]; // GQA 2, 1, 4, 8, 8, 2, 16 (two workgroups per kv head)
  for (const [nh, nkv, hd] of shapes) {
    it(`heads ${nh}/${nkv} (GQA ${nh / nkv}) headDim ${hd}: mixed prefill chunks and decodes`, async () => {
      // [contextLength, queryLength]: a prefill from 0, a mid-sequence chunk, decodes
      const err = await runCase(hd * 31 + nh, nh, nkv, hd, [[37, 37], [5, 1], [70, 13], [17, 1], [1, 1]]);
      expect(err).toBeLessThan(2e-5);
    });
  }
  describe("'thread' variant (one invocation per token and head; software adapters)", () => {
    for (const [nh, nkv, hd] of [...shapes, [4, 2, 6], [8, 8, 2]] as [number, number, number][]) {
      it(`heads ${nh}/${nkv} headDim ${hd}: mixed prefill chunks and decodes`, async () => {
        const err = await runCase(hd * 31 + nh, nh, nkv, hd, [[37, 37], [5, 1], [70, 13], [17, 1], [1, 1]], 1, 'f32', 0, 'thread');
        expect(err).toBeLessThan(2e-5);
      });
    }
    it('long context over shuffled blocks, and extreme scores', async () => {
      expect(await runCase(7, 4, 2, 64, [[1000, 2], [333, 1]], 1, 'f32', 0, 'thread')).toBeLessThan(2e-5);
      expect(await runCase(9, 4, 4, 64, [[200, 3], [45, 2]], 2000, 'f32', 0, 'thread')).toBeLessThan(1e-4);
    });
    it('is the default on software adapters only', () => {
      expect(defaultAttentionVariant({ software: true })).toBe('thread');
      expect(defaultAttentionVariant({ software: false })).toBe('workgroup');
    });
  });
  it('long context crossing many shuffled blocks (1000 positions, 63 blocks)', async () => {
    const err = await runCase(7, 4, 2, 64, [[1000, 2], [333, 1]]);
    expect(err).toBeLessThan(2e-5);
  });
  it('stays finite and exact with extreme scores (|score| ~ 1e4)', async () => {
    const err = await runCase(9, 4, 4, 64, [[200, 3], [45, 2]], 2000);
    expect(err).toBeLessThan(1e-4);
  });
  describe('soft-cap and sliding window (gemma2/3), every variant', () => {
    // Windows shorter than, equal to and longer than a 64-position tile, and one past every context.
    const lens: [number, number][] = [[37, 37], [5, 1], [150, 13], [17, 1], [1, 1]];
    const variants: [AttentionVariant, number][] = [['workgroup', 0], ['thread', 0], ['workgroup', 4]];
    for (const [variant, parts] of variants) {
      const name = parts ? 'split' : variant;
      for (const window of [8, 64, 100]) {
        it(`${name}: window ${window} equals the float64 oracle`, async () => {
          expect(await runCase(20 + window, 8, 2, 24, lens, 1, 'f32', parts, variant, { window })).toBeLessThan(2e-5);
        });
      }
      it(`${name}: soft-cap 3 on large scores (and with window 8) equals the float64 oracle`, async () => {
        expect(await runCase(31, 4, 2, 16, lens, 8, 'f32', parts, variant, { softcap: 3 })).toBeLessThan(2e-5);
        expect(await runCase(32, 4, 2, 16, lens, 8, 'f32', parts, variant, { softcap: 3, window: 8 })).toBeLessThan(2e-5);
      });
    }
    it('rejects a zero or fractional window and a non-positive soft-cap with a coded error', async () => {
      const ctx = await getTestContext();
      const b = ctx.storage('b', 4096);
      await runPass(ctx, (enc) => {
        const base = { q: b, kPool: b, vPool: b, tokenMeta: b, blockTables: b, out: ctx.storage('o', 4096), numTokens: 1, numHeads: 1, numKvHeads: 1, headDim: 4 };
        for (const bad of [{ window: 0 }, { window: 2.5 }, { softcap: 0 }, { softcap: -1 }, { softcap: Infinity }]) {
          expect(() => pagedAttention(enc, { ...base, ...bad })).toThrow(KernelArgError);
        }
      });
    });
  });
  it('split-context variant (partials + combine) equals the oracle, with empty partitions', async () => {
    // partLen 64 over 1000 positions: 16 partitions; the 45-token sequence leaves most empty
    expect(await runCase(13, 8, 2, 64, [[1000, 1], [45, 2], [130, 1]], 1, 'f32', 16)).toBeLessThan(2e-5);
    expect(await runCase(14, 8, 2, 64, [[600, 1]], 2000, 'f32', 3)).toBeLessThan(1e-4); // extreme scores (same pipelines)
  });
  it('serves as many heads per workgroup as the GQA ratio and the arrays allow', () => {
    expect(attentionGroup(1, 64)).toBe(1);
    expect(attentionGroup(7, 64)).toBe(7); // qwen2.5-0.5b: 14 / 2
    expect(attentionGroup(16, 64)).toBe(8);
    expect(attentionGroup(8, 256)).toBe(8);
    expect(attentionGroup(6, 256)).toBe(6);
    expect(attentionGroup(5, 512)).toBe(1);
  });
  it('chooses the split variant only for few workgroups over long contexts', () => {
    expect(chooseAttentionSplit(1, 32, 4096)).toEqual({ numParts: 16, partLen: 256 });
    expect(chooseAttentionSplit(1, 32, 300)).toBeUndefined();
    expect(chooseAttentionSplit(64, 32, 4096)).toBeUndefined();
    const p = chooseAttentionSplit(2, 8, 100000)!;
    expect(p.numParts * p.partLen).toBeGreaterThanOrEqual(100000);
    expect(p.numParts).toBeLessThanOrEqual(64);
  });
  const hasF16 = (await getTestDevice()).device.features.has('shader-f16');
  it.skipIf(!hasF16)('f16 KV pool (needs shader-f16): GQA 4, headDim 80, long context', async () => {
    const err = await runCase(11, 8, 2, 80, [[300, 5], [17, 1]], 1, 'f16');
    expect(err).toBeLessThan(2e-5);
  });
  it.skipIf(hasF16)('f16 KV pool is refused with a coded error where the adapter lacks shader-f16', async () => {
    const ctx = await getTestContext();
    const b = ctx.storage('b', 4096);
    await runPass(ctx, (enc) => {
      expect(() => kvWrite(enc, { k: b, v: b, slotMapping: b, kPool: ctx.storage('kp', 4096), vPool: ctx.storage('vp', 4096), kvType: 'f16', numTokens: 1, kvDim: 8 })).toThrow(/shader-f16/);
    });
  });
  it('rejects bad GQA ratios and head dims with a coded error', async () => {
    const ctx = await getTestContext();
    const b = ctx.storage('b', 4096);
    await runPass(ctx, (enc) => {
      const base = { q: b, kPool: b, vPool: b, tokenMeta: b, blockTables: b, out: ctx.storage('o', 4096), numTokens: 1, headDim: 8 };
      expect(() => pagedAttention(enc, { ...base, numHeads: 6, numKvHeads: 4 })).toThrow(/not a multiple/);
      expect(() => pagedAttention(enc, { ...base, numHeads: 4, numKvHeads: 4, headDim: 264 })).toThrow(KernelArgError);
    });
  });
});
