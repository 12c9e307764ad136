// Batch invariance of paged attention on the GPU kernel set: with the fixed-partition split
// (fixedSplitPlan, partitions of ATTENTION_PART_LEN positions) a token's output is the same
// bits alone as inside batches of 3, 16 and 37 tokens whose longest contexts differ (so the
// number of partitions differs), with the scratch holding only 5 tokens (chunked dispatch).
// Also: the split equals the float64 oracle (2e-5, as attention.test.ts), and with one
// partition it equals the one-pass kernel bit for bit.
import { describe, expect, it } from 'vitest';
import { ATTENTION_PART_LEN, attentionScratchBytes, fixedSplitPlan, pagedAttention } from '../../../src/kernels/attention';
import { kvWrite } from '../../../src/kernels/kv-write';
import { attentionRef, type Seq } from './attention-oracle';
import { getTestContext, maxAbsDiff, randomF32, readF32, rng, runPass, shuffled } from './harness';

const [NH, NKV, HD] = [8, 2, 64];
const QDIM = NH * HD;
const KVDIM = NKV * HD;

// Sequences in the pool: [contextLength]. Sequence 0 holds the target token (its last position).
const CONTEXTS = [600, 1000, 45, 300, 17, 260];

async function setup() {
  const ctx = await getTestContext({ f16: false });
  const rand = rng(5);
  const totalBlocks = CONTEXTS.reduce((a, c) => a + Math.ceil(c / 16), 0) + 2;
  const ids = shuffled(rand, totalBlocks);
  let next = 0;
  const seqs: Seq[] = CONTEXTS.map((contextLength) => {
    const nb = Math.ceil(contextLength / 16);
    const blockTable = ids.slice(next, next + nb);
    next += nb;
    return { contextLength, queryLength: 1, k: randomF32(rand, contextLength * KVDIM), v: randomF32(rand, contextLength * KVDIM), blockTable };
  });
  const slots: number[] = [], kAll: number[] = [], vAll: number[] = [];
  for (const s of seqs) {
    for (let p = 0; p < s.contextLength; p++) {
      slots.push(s.blockTable[p >> 4] * 16 + (p & 15));
      kAll.push(...s.k.subarray(p * KVDIM, (p + 1) * KVDIM));
      vAll.push(...s.v.subarray(p * KVDIM, (p + 1) * KVDIM));
    }
  }
  const poolBytes = totalBlocks * 16 * KVDIM * 4;
  const kPool = ctx.storage('kpool', poolBytes), vPool = ctx.storage('vpool', poolBytes);
  const tables: number[] = [];
  const tableStart = seqs.map((s) => { const at = tables.length; tables.push(...s.blockTable); return at; });
  const tblBuf = ctx.upload('tables', Int32Array.from(tables));
  const kBuf = ctx.upload('k', Float32Array.from(kAll)), vBuf = ctx.upload('v', Float32Array.from(vAll)), slotBuf = ctx.upload('slots', Int32Array.from(slots));
  await runPass(ctx, (enc) => kvWrite(enc, { k: kBuf, v: vBuf, slotMapping: slotBuf, kPool, vPool, numTokens: slots.length, kvDim: KVDIM }));
  return { ctx, rand, seqs, kPool, vPool, tblBuf, tableStart };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Queries [(seq, position)] with their q rows; returns out [numTokens, QDIM]. */
async function attend(s: Setup, queries: [number, number][], q: Float32Array<ArrayBuffer>, mode: 'split' | 'one-pass', scratchTokens = 5): Promise<Float32Array> {
  const { ctx } = s;
  const meta = Int32Array.from(queries.flatMap(([seq, pos]) => [pos, s.tableStart[seq]]));
  const maxCtx = Math.max(...queries.map(([, pos]) => pos + 1));
  const plan = fixedSplitPlan(maxCtx);
  const qBuf = ctx.upload('q', q), metaBuf = ctx.upload('meta', meta), out = ctx.storage('out', queries.length * QDIM * 4);
  const scratch = ctx.storage('scratch', attentionScratchBytes(scratchTokens, NH, HD, plan));
  await runPass(ctx, (enc) => pagedAttention(enc, {
    q: qBuf, kPool: s.kPool, vPool: s.vPool, tokenMeta: metaBuf, blockTables: s.tblBuf, out, numTokens: queries.length,
    numHeads: NH, numKvHeads: NKV, headDim: HD, variant: 'workgroup', split: mode === 'split' ? { plan, scratch } : undefined,
  }));
  const got = await readF32(ctx, out, queries.length * QDIM);
  for (const b of [qBuf, metaBuf, out, scratch]) b.destroy();
  return got;
}

describe('paged attention, fixed-partition split (GPU kernel set)', () => {
  it('a token alone equals itself inside batches of 3, 16 and 37 tokens (bitwise), and the float64 oracle', async () => {
    const s = await setup();
    const target: [number, number] = [0, CONTEXTS[0] - 1];
    const qTarget = randomF32(s.rand, QDIM);
    const alone = await attend(s, [target], qTarget, 'split');
    // The oracle: sequence 0 with one query at its last position.
    const ref = attentionRef([s.seqs[0]], [qTarget], NH, NKV, HD);
    expect(maxAbsDiff(alone, ref)).toBeLessThan(2e-5);
    for (const T of [3, 16, 37]) {
      // Other tokens: positions spread over every sequence (longest context 1000: 4 partitions vs 3 alone).
      const queries: [number, number][] = [];
      for (let i = 0; queries.length < T - 1; i++) {
        const seq = 1 + (i % (CONTEXTS.length - 1));
        queries.push([seq, Math.floor(s.rand() * CONTEXTS[seq])]);
      }
      const at = Math.floor(T / 2);
      queries.splice(at, 0, target);
      const q = randomF32(s.rand, T * QDIM);
      q.set(qTarget, at * QDIM);
      const batch = await attend(s, queries, q, 'split');
      expect(batch.slice(at * QDIM, (at + 1) * QDIM), `T=${T}`).toEqual(alone);
    }
  });

  it(`with one partition (context ≤ ${ATTENTION_PART_LEN}) the split equals the one-pass kernel bit for bit`, async () => {
    const s = await setup();
    const queries: [number, number][] = [[3, 255], [2, 44], [4, 16], [5, 100]];
    const q = randomF32(s.rand, queries.length * QDIM);
    expect(fixedSplitPlan(256).numParts).toBe(1);
    expect(await attend(s, queries, q, 'split', 2)).toEqual(await attend(s, queries, q, 'one-pass'));
  });
});
