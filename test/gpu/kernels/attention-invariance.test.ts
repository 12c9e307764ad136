// Batch invariance of paged attention on the GPU kernel set ('workgroup' variant).
// - Fixed-partition split (fixedSplitPlan, partitions of ATTENTION_PART_LEN positions): a
//   token's output is the same bits alone as inside batches of 3, 16 and 37 tokens whose
//   longest contexts differ (so the number of partitions differs), with the scratch holding
//   only 5 tokens (chunked dispatch); with one partition it equals the one-pass kernel.
// - Query runs (attentionQueryTile consecutive tokens of one sequence per workgroup): a
//   prefill of T = 37, mixed batches of several sequences with ragged lengths, runs across
//   block and partition boundaries, sliding windows and soft-cap give the same bits as one
//   workgroup per token (queryTile 1) and as each token alone, for head dims 64/128/256
//   and GQA 1/2/4 (query tiles 16, 7, 4, 4).
// Tolerance against the float64 oracle: 2e-5, as attention.test.ts.
import { describe, expect, it } from 'vitest';
import { ATTENTION_PART_LEN, attentionGroup, attentionQueryTile, attentionScratchBytes, fixedSplitPlan, pagedAttention } from '../../../src/kernels/attention';
import { KernelArgError } from '../../../src/kernels/encoder';
import { kvWrite } from '../../../src/kernels/kv-write';
import { attentionRef, type AttentionFeatures, type Seq } from './attention-oracle';
import { getTestContext, maxAbsDiff, randomF32, readF32, rng, runPass, shuffled } from './harness';

/** [numHeads, numKvHeads, headDim] */
type Shape = [number, number, number];
const SHAPE: Shape = [8, 2, 64];

// Sequences in the pool: [contextLength]. Sequence 0 holds the target token (its last position).
const CONTEXTS = [600, 1000, 45, 300, 17, 260];

async function setup([NH, NKV, HD]: Shape = SHAPE) {
  const kvDim = NKV * HD;
  const ctx = await getTestContext({ f16: false });
  const rand = rng(5 + HD + NH);
  const totalBlocks = CONTEXTS.reduce((a, c) => a + Math.ceil(c / 16), 0) + 2;
  const ids = shuffled(rand, totalBlocks);
  let next = 0;
  const seqs: Seq[] = CONTEXTS.map((contextLength) => {
    const nb = Math.ceil(contextLength / 16);
    const blockTable = ids.slice(next, next + nb);
    next += nb;
    return { contextLength, queryLength: 1, k: randomF32(rand, contextLength * kvDim), v: randomF32(rand, contextLength * kvDim), blockTable };
  });
  const slots: number[] = [], kAll: number[] = [], vAll: number[] = [];
  for (const s of seqs) {
    for (let p = 0; p < s.contextLength; p++) {
      slots.push(s.blockTable[p >> 4] * 16 + (p & 15));
      kAll.push(...s.k.subarray(p * kvDim, (p + 1) * kvDim));
      vAll.push(...s.v.subarray(p * kvDim, (p + 1) * kvDim));
    }
  }
  const poolBytes = totalBlocks * 16 * kvDim * 4;
  const kPool = ctx.storage('kpool', poolBytes), vPool = ctx.storage('vpool', poolBytes);
  const tables: number[] = [];
  const tableStart = seqs.map((s) => { const at = tables.length; tables.push(...s.blockTable); return at; });
  const tblBuf = ctx.upload('tables', Int32Array.from(tables));
  const kBuf = ctx.upload('k', Float32Array.from(kAll)), vBuf = ctx.upload('v', Float32Array.from(vAll)), slotBuf = ctx.upload('slots', Int32Array.from(slots));
  await runPass(ctx, (enc) => kvWrite(enc, { k: kBuf, v: vBuf, slotMapping: slotBuf, kPool, vPool, numTokens: slots.length, kvDim }));
  for (const b of [kBuf, vBuf, slotBuf]) b.destroy();
  return { ctx, rand, seqs, kPool, vPool, tblBuf, tableStart, shape: [NH, NKV, HD] as Shape, qDim: NH * HD };
}

type Setup = Awaited<ReturnType<typeof setup>>;

interface AttendOpts extends AttentionFeatures {
  mode?: 'split' | 'one-pass';
  scratchTokens?: number;
  queryTile?: number;
}

/** Queries [(seq, position)] with their q rows; returns out [numTokens, qDim]. */
async function attend(s: Setup, queries: [number, number][], q: Float32Array<ArrayBuffer>, o: AttendOpts = {}): Promise<Float32Array> {
  const { ctx } = s;
  const [NH, NKV, HD] = s.shape;
  const meta = Int32Array.from(queries.flatMap(([seq, pos]) => [pos, s.tableStart[seq]]));
  const maxCtx = Math.max(...queries.map(([, pos]) => pos + 1));
  const plan = fixedSplitPlan(maxCtx);
  const qBuf = ctx.upload('q', q), metaBuf = ctx.upload('meta', meta), out = ctx.storage('out', queries.length * s.qDim * 4);
  const scratch = ctx.storage('scratch', attentionScratchBytes(o.scratchTokens ?? 5, NH, HD, plan));
  await runPass(ctx, (enc) => pagedAttention(enc, {
    q: qBuf, kPool: s.kPool, vPool: s.vPool, tokenMeta: metaBuf, blockTables: s.tblBuf, out, numTokens: queries.length,
    numHeads: NH, numKvHeads: NKV, headDim: HD, variant: 'workgroup', split: (o.mode ?? 'split') === 'split' ? { plan, scratch } : undefined,
    queryTile: o.queryTile, window: o.window, softcap: o.softcap,
  }));
  const got = await readF32(ctx, out, queries.length * s.qDim);
  for (const b of [qBuf, metaBuf, out, scratch]) b.destroy();
  return got;
}

/** The float64 oracle for a query list: each query reads its own sequence up to its position. */
function oracle(s: Setup, queries: [number, number][], q: Float32Array, f: AttentionFeatures = {}): Float64Array {
  const [NH, NKV, HD] = s.shape;
  const out = new Float64Array(queries.length * s.qDim);
  queries.forEach(([seq, pos], t) => {
    const view: Seq = { ...s.seqs[seq], contextLength: pos + 1, queryLength: 1 };
    out.set(attentionRef([view], [q.subarray(t * s.qDim, (t + 1) * s.qDim)], NH, NKV, HD, f), t * s.qDim);
  });
  return out;
}

/** Positions from..to (inclusive) of one sequence, in order: a prefill chunk. */
function chunk(seq: number, from: number, to: number): [number, number][] {
  return Array.from({ length: to - from + 1 }, (_, i) => [seq, from + i]);
}

/**
 * Runs `queries` with query runs (the default tile), with one workgroup per token, and a
 * few of them alone; every result must be the same bits, and the oracle within 2e-5.
 */
async function expectTileInvariant(s: Setup, queries: [number, number][], o: AttendOpts, alone: number[]): Promise<void> {
  const q = randomF32(s.rand, queries.length * s.qDim);
  const tiled = await attend(s, queries, q, o);
  expect(maxAbsDiff(tiled, oracle(s, queries, q, o))).toBeLessThan(2e-5);
  expect(tiled).toEqual(await attend(s, queries, q, { ...o, queryTile: 1 }));
  for (const t of alone) {
    const row = q.slice(t * s.qDim, (t + 1) * s.qDim);
    expect(tiled.slice(t * s.qDim, (t + 1) * s.qDim), `token ${t} alone`).toEqual(await attend(s, [queries[t]], row, o));
  }
}

describe('paged attention, fixed-partition split (GPU kernel set)', () => {
  it('a token alone equals itself inside batches of 3, 16 and 37 tokens (bitwise), and the float64 oracle', async () => {
    const s = await setup();
    const target: [number, number] = [0, CONTEXTS[0] - 1];
    const qTarget = randomF32(s.rand, s.qDim);
    const alone = await attend(s, [target], qTarget);
    expect(maxAbsDiff(alone, oracle(s, [target], qTarget))).toBeLessThan(2e-5);
    for (const T of [3, 16, 37]) {
      // Other tokens: positions spread over every sequence (longest context 1000: 4 partitions vs 3 alone).
      const queries: [number, number][] = [];
      for (let i = 0; queries.length < T - 1; i++) {
        const seq = 1 + (i % (CONTEXTS.length - 1));
        queries.push([seq, Math.floor(s.rand() * CONTEXTS[seq])]);
      }
      const at = Math.floor(T / 2);
      queries.splice(at, 0, target);
      const q = randomF32(s.rand, T * s.qDim);
      q.set(qTarget, at * s.qDim);
      const batch = await attend(s, queries, q);
      expect(batch.slice(at * s.qDim, (at + 1) * s.qDim), `T=${T}`).toEqual(alone);
    }
  });

  it(`with one partition (context ≤ ${ATTENTION_PART_LEN}) the split equals the one-pass kernel bit for bit`, async () => {
    const s = await setup();
    const queries: [number, number][] = [[3, 255], [2, 44], [4, 16], [5, 100], ...chunk(0, 200, 230)];
    const q = randomF32(s.rand, queries.length * s.qDim);
    expect(fixedSplitPlan(256).numParts).toBe(1);
    expect(await attend(s, queries, q, { scratchTokens: 2 })).toEqual(await attend(s, queries, q, { mode: 'one-pass' }));
  });
});

describe('paged attention, query runs of one sequence (GPU kernel set)', () => {
  // [numHeads, numKvHeads, headDim] → query tile: GQA 4 → 4; GQA 1 → 16; hd 128 → 7 (16 KiB); hd 256 → 4.
  const shapes: [Shape, number][] = [[[8, 2, 64], 4], [[4, 4, 64], 16], [[4, 2, 128], 7], [[2, 1, 256], 4]];

  it('sizes the query tile by the group, head dim and 16 KiB of workgroup memory', () => {
    for (const [[nh, nkv, hd], qt] of shapes) expect(attentionQueryTile(attentionGroup(nh / nkv, hd), hd), `${nh}/${nkv}/${hd}`).toBe(qt);
    expect(attentionQueryTile(8, 256)).toBe(1);
    expect(attentionQueryTile(7, 64)).toBe(2); // Qwen2.5-0.5B: 14/2 heads
  });

  for (const [shape, qt] of shapes) {
    it(`heads ${shape[0]}/${shape[1]} headDim ${shape[2]} (tile ${qt}): a prefill of T=37 equals one workgroup per token and each token alone, bit for bit`, async () => {
      const s = await setup(shape);
      // Positions 0..36: runs of `qt` aligned at multiples of qt, crossing the block boundaries at 16 and 32.
      await expectTileInvariant(s, chunk(0, 0, 36), { mode: 'one-pass' }, [0, 15, 16, 17, 36]);
    });
  }

  it('mixed batches of several sequences with ragged lengths, one pass and split (runs cut by the 5-token scratch chunks and the 256 partition boundary)', async () => {
    for (const [shape] of [shapes[1], shapes[2]]) {
      const s = await setup(shape);
      const queries: [number, number][] = [
        ...chunk(2, 20, 44), // a mid-sequence prefill chunk across blocks 1-2
        [3, 45], // another sequence at the next position: a new run
        [1, 999], // decodes
        [4, 16],
        ...chunk(5, 250, 259), // across the first partition boundary
        [3, 0],
        ...chunk(0, 3, 5), // a short prefill
        ...chunk(1, 511, 530), // across blocks and the second partition boundary
      ];
      const at = (seq: number, pos: number) => queries.findIndex(([a, b]) => a === seq && b === pos);
      await expectTileInvariant(s, queries, { mode: 'split' }, [at(2, 31), at(5, 256), at(1, 999), at(1, 530)]);
      await expectTileInvariant(s, queries.filter(([, p]) => p < 300), { mode: 'one-pass' }, [at(2, 44)]);
    }
  });

  it('sliding windows and soft-cap: tokens past the window start run alone, with the same bits', async () => {
    const s = await setup([4, 4, 64]);
    const queries = [...chunk(0, 0, 36), ...chunk(3, 270, 290)];
    for (const window of [8, 20, 64]) {
      await expectTileInvariant(s, queries, { mode: 'split', window }, [7, 8, 19, 20, 36]);
    }
    await expectTileInvariant(s, queries, { mode: 'one-pass', window: 20, softcap: 3 }, [5, 30]);
    await expectTileInvariant(s, queries, { mode: 'split', softcap: 3 }, [5, 30]);
  });

  it('rejects a query tile past the shape\'s limit with a coded error', async () => {
    const s = await setup();
    const q = randomF32(s.rand, s.qDim);
    for (const queryTile of [0, 5, 1.5]) {
      await expect(attend(s, [[0, 3]], q, { queryTile })).rejects.toBeInstanceOf(KernelArgError);
    }
  });
});
