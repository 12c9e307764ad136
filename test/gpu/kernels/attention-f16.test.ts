// The f16 KV pool (kv-write + paged attention with kvType 'f16') against float64 oracles.
// These need an adapter with 'shader-f16'; elsewhere (SwiftShader) they report as skipped.
// (Dawn's null backend only validates them: test/gpu/f16-null-backend.test.ts.)
//
// kv-write: WGSL leaves the f32 → f16 rounding direction to the implementation, so every
// pool element must be one of the two f16 values bracketing its input (exact when the input
// is representable, and f16 subnormals may flush to zero); slots no token maps to stay
// zero (an f32-strided write would hit them).
// attention: K/V are drawn already representable in f16, so the pool holds them exactly and
// the f32 path's tolerances apply: 2e-5 absolute on unit-scale values, 1e-4 with scores of
// magnitude ~1e4.
import { describe, expect, it } from 'vitest';
import { attentionScratchBytes, pagedAttention, splitPlan } from '../../../src/kernels/attention';
import { kvWrite } from '../../../src/kernels/kv-write';
import { f16ToF32, f32ToF16 } from '../../../src/model/gguf';
import { getTestDevice, readBuffer } from '../../helpers/gpu';
import { attentionRef, type Seq } from './attention-oracle';
import { getTestContext, maxAbsDiff, randomF32, readF32, rng, runPass, shuffled } from './harness';

const hasShaderF16 = (await getTestDevice()).device.features.has('shader-f16');

/** The f16 value of `x` rounded to nearest even (x must be within f16 range). */
function toF16(x: number): number {
  return f16ToF32(f32ToF16(x));
}

/** Distance from `x` to the next f16 away from zero: the spacing of f16 values at |x|. */
function f16Spacing(x: number): number {
  const a = Math.abs(x);
  if (a < 2 ** -14) return 2 ** -24; // subnormals
  return 2 ** (Math.floor(Math.log2(a)) - 10);
}


/**
 * Writes every context position of `lens` ([contextLength, queryLength] per sequence) into
 * an f16 pool through shuffled block tables, runs attention for the last queryLength
 * positions of each, and returns max |GPU - oracle|.
 */
async function runF16Case(seed: number, numHeads: number, numKvHeads: number, headDim: number, lens: [number, number][], qScale = 1, splitParts = 0): Promise<number> {
  const ctx = await getTestContext();
  const rand = rng(seed);
  const kvDim = numKvHeads * headDim;
  const f16Values = (n: number) => randomF32(rand, n).map(toF16); // representable: the pool holds them exactly
  const totalBlocks = lens.reduce((a, [c]) => a + Math.ceil(c / 16), 0) + 3;
  const blockIds = shuffled(rand, totalBlocks);
  let nextBlock = 0;
  const seqs: Seq[] = lens.map(([contextLength, queryLength]) => {
    const nb = Math.ceil(contextLength / 16);
    const blockTable = blockIds.slice(nextBlock, nextBlock + nb);
    nextBlock += nb;
    return { contextLength, queryLength, k: f16Values(contextLength * kvDim), v: f16Values(contextLength * kvDim), blockTable };
  });
  const slots: number[] = [], kAll: number[] = [], vAll: number[] = [], meta: number[] = [], tables: number[] = [];
  for (const s of seqs) {
    for (let p = 0; p < s.contextLength; p++) {
      slots.push(s.blockTable[p >> 4] * 16 + (p & 15));
      kAll.push(...s.k.subarray(p * kvDim, (p + 1) * kvDim));
      vAll.push(...s.v.subarray(p * kvDim, (p + 1) * kvDim));
    }
    const start = tables.length;
    tables.push(...s.blockTable);
    for (let qi = 0; qi < s.queryLength; qi++) meta.push(s.contextLength - s.queryLength + qi, start);
  }
  const qs = seqs.map((s) => randomF32(rand, s.queryLength * numHeads * headDim, qScale));
  const qFlat = new Float32Array(qs.reduce((a, q) => a + q.length, 0));
  let off = 0;
  for (const q of qs) {
    qFlat.set(q, off);
    off += q.length;
  }
  const numQ = meta.length / 2;
  const poolBytes = totalBlocks * 16 * kvDim * 2; // [numBlocks, 16, nKvHeads, headDim] f16
  const kPool = ctx.storage('kpool-f16', poolBytes), vPool = ctx.storage('vpool-f16', poolBytes);
  const qBuf = ctx.upload('q', qFlat), out = ctx.storage('out', numQ * numHeads * headDim * 4);
  const kBuf = ctx.upload('k', Float32Array.from(kAll)), vBuf = ctx.upload('v', Float32Array.from(vAll));
  const slotBuf = ctx.upload('slots', Int32Array.from(slots)), metaBuf = ctx.upload('meta', Int32Array.from(meta)), tblBuf = ctx.upload('tables', Int32Array.from(tables));
  const plan = splitParts > 0 ? splitPlan(Math.max(...lens.map(([c]) => c)), splitParts) : undefined;
  const scratch = plan && ctx.storage('scratch', attentionScratchBytes(numQ, numHeads, headDim, plan));
  await runPass(ctx, (enc) => {
    kvWrite(enc, { k: kBuf, v: vBuf, slotMapping: slotBuf, kPool, vPool, kvType: 'f16', numTokens: slots.length, kvDim });
    pagedAttention(enc, {
      q: qBuf, kPool, vPool, kvType: 'f16', tokenMeta: metaBuf, blockTables: tblBuf, out, numTokens: numQ, numHeads, numKvHeads, headDim,
      split: plan && scratch && { plan, scratch },
    });
  });
  const got = await readF32(ctx, out, numQ * numHeads * headDim);
  for (const b of [kPool, vPool, qBuf, out, kBuf, vBuf, slotBuf, metaBuf, tblBuf, scratch]) b?.destroy();
  return maxAbsDiff(got, attentionRef(seqs, qs, numHeads, numKvHeads, headDim));
}

describe.skipIf(!hasShaderF16)('f16 KV pool (needs shader-f16)', () => {
  it('kv-write rounds each f32 to a bracketing f16 at its slot, strided rows and extreme values included (needs shader-f16)', async () => {
    const ctx = await getTestContext();
    const rand = rng(3);
    const numTokens = 37, kvDim = 2 * 80, numBlocks = 5;
    const rowStride = 3 * kvDim + 5, kOffset = kvDim + 2, vOffset = 2 * kvDim + 4; // a fused, ragged qkv row
    const special = [0, -0, 1, -1, 65504, -65504, 6.1e-5, 5.96e-8, 1e-7, 2 ** -25, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1024.5, 2049, 3.14159265];
    const rows = Float32Array.from({ length: numTokens * rowStride }, (_, i) =>
      i % 7 === 0 ? special[(i / 7) % special.length] : (rand() * 2 - 1) * 10 ** Math.floor(rand() * 9 - 4));
    const slots = shuffled(rand, numBlocks * 16).slice(0, numTokens); // scattered slots, some left empty
    const qkv = ctx.upload('qkv', rows), slotBuf = ctx.upload('slots', slots);
    const kPool = ctx.storage('kpool-f16', numBlocks * 16 * kvDim * 2), vPool = ctx.storage('vpool-f16', numBlocks * 16 * kvDim * 2);
    await runPass(ctx, (enc) => {
      kvWrite(enc, { k: qkv, v: qkv, slotMapping: slotBuf, kPool, vPool, kvType: 'f16', numTokens, kvDim, kRowStride: rowStride, kColOffset: kOffset, vRowStride: rowStride, vColOffset: vOffset });
    });
    const pools = [new Uint16Array(await readBuffer(ctx.device, kPool)), new Uint16Array(await readBuffer(ctx.device, vPool))];
    const written = new Set<number>();
    let bad = 0, checked = 0;
    pools.forEach((pool, which) => {
      const offset = which === 0 ? kOffset : vOffset;
      for (let t = 0; t < numTokens; t++) {
        written.add(slots[t]);
        for (let e = 0; e < kvDim; e++) {
          const x = Math.fround(rows[t * rowStride + offset + e]);
          const got = f16ToF32(pool[slots[t] * kvDim + e]);
          const exact = toF16(x) === x;
          // Representable inputs are exact; others land on one of the two neighbours (same sign or zero).
          // f16 subnormals may be flushed to zero.
          const ok = (exact ? got === x : Math.abs(got - x) < f16Spacing(x) && (got === 0 || Math.sign(got) === Math.sign(x)))
            || (got === 0 && Math.abs(x) < 2 ** -14);
          if (!ok) bad++;
          checked++;
        }
      }
      for (let slot = 0; slot < numBlocks * 16; slot++) {
        if (written.has(slot)) continue;
        for (let e = 0; e < kvDim; e++) if (pool[slot * kvDim + e] !== 0) bad++;
      }
    });
    expect(checked).toBe(2 * numTokens * kvDim);
    expect(bad).toBe(0);
    for (const b of [qkv, slotBuf, kPool, vPool]) b.destroy();
  });

  // [numHeads, numKvHeads, headDim]: GQA 2, 1, 4, 8, 8, 2, 16 over head dims 8 … 256.
  const shapes: [number, number, number][] = [[8, 4, 8], [4, 4, 64], [8, 2, 80], [8, 1, 128], [16, 2, 8], [4, 2, 256], [32, 2, 8]];
  for (const [nh, nkv, hd] of shapes) {
    it(`attention over an f16 pool, heads ${nh}/${nkv} (GQA ${nh / nkv}) headDim ${hd}: mixed prefill chunks and decodes (needs shader-f16)`, async () => {
      const err = await runF16Case(hd * 37 + nh, nh, nkv, hd, [[37, 37], [5, 1], [70, 13], [17, 1], [1, 1]]);
      expect(err).toBeLessThan(2e-5);
    });
  }
  it('attention over an f16 pool: long context over shuffled blocks, extreme scores (needs shader-f16)', async () => {
    expect(await runF16Case(17, 4, 2, 64, [[1000, 2], [333, 1]])).toBeLessThan(2e-5);
    expect(await runF16Case(19, 4, 4, 64, [[200, 3], [45, 2]], 2000)).toBeLessThan(1e-4);
  });
  it('attention over an f16 pool: split-context variant (partials + combine) (needs shader-f16)', async () => {
    expect(await runF16Case(23, 8, 2, 64, [[1000, 1], [45, 2], [130, 1]], 1, 16)).toBeLessThan(2e-5);
    expect(await runF16Case(29, 8, 2, 128, [[600, 1]], 2000, 3)).toBeLessThan(1e-4);
  });
});
