// GPU sampling (src/kernels/sample.ts) against the float64 oracle in sample-oracle.ts.
// Tolerances: greedy ids and top-logprob ids exact; logprobs 1e-4 absolute (f32
// log-softmax over up to 152k logits); seeded draws exact except where the oracle's u
// falls within 1e-4 of a bucket edge (f32 vs f64 cumulative sums), counted and bounded.
import { describe, expect, it } from 'vitest';
import type { PenaltyTokens, SamplingParams } from '../../src/engine/types';
import { KernelArgError, type KernelEncoder } from '../../src/kernels/encoder';
import { OUT_WORDS, packSampleRows, readSampled, requestsFromSequences, sample, sampledBytes, Sampler, sampleUniform, type SampleRequest } from '../../src/kernels/sample';
import { GpuContext } from '../../src/gpu/context';
import { readBuffer } from '../helpers/gpu';
import { getTestContext, rng, runPass } from './kernels/harness';
import { argmaxLowest, drawById, filteredProbs, logSoftmax, params, processRow, randomLogits, rankDesc } from './sample-oracle';

/** Samples `rows` ([n, vocab] f32 logits) in one pass; returns decoded tokens and the raw logits buffer. */
async function runSampler(rows: Float32Array<ArrayBuffer>, vocabSize: number, requests: SampleRequest[], preserveLogits = false, software = false) {
  const base = await getTestContext();
  // software: the context a software adapter gets (all-greedy steps take sample-greedy.wgsl)
  const ctx = software ? new GpuContext(base.device, base.features, true) : base;
  const logits = ctx.upload('test-logits', rows);
  const sampler = new Sampler(ctx, { maxRows: requests.length, vocabSize });
  let uploaded = -1;
  await runPass(ctx, (enc) => {
    uploaded = sampler.record(enc, logits, requests, { preserveLogits });
  });
  const packed = packSampleRows(requests, vocabSize);
  expect(uploaded).toBe(requests.length * 64 + packed.numEntries * 16);
  const bytes = await readBuffer(ctx.device, sampler.out, Math.max(4, sampler.outBytes(requests)));
  const after = new Float32Array(await readBuffer(ctx.device, logits, rows.byteLength));
  sampler.destroy();
  logits.destroy();
  return { tokens: sampler.read(bytes, requests), logitsAfter: after };
}

function rowOf(all: Float32Array, r: number, vocab: number): Float32Array {
  return all.subarray(r * vocab, (r + 1) * vocab);
}

describe('greedy', () => {
  it.each([false, true])('equals the CPU argmax (lowest id on ties) on random, tied and extreme rows (software adapter: %s)', async (software) => {
    const rand = rng(7);
    for (const vocab of [5, 1000, 4093, 32000, 151936]) {
      const numRows = vocab > 100000 ? 3 : 6;
      const all = new Float32Array(numRows * vocab);
      let tiedLow = -1;
      for (let r = 0; r < numRows; r++) {
        const row = rowOf(all, r, vocab);
        row.set(randomLogits(rand, vocab, r === 1 ? 1e4 : 5));
        if (r === 2) {
          // planted tie well above everything else: the lower id must win
          const a = 1 + Math.floor(rand() * (vocab - 2));
          const b = a + 1 + Math.floor(rand() * (vocab - a - 1));
          row[b] = 1e4;
          row[a] = 1e4;
          tiedLow = a;
        }
        if (r === 3) row.fill(-1e4); // all equal: id 0
        if (r === 4) {
          row.fill(-1e4);
          row[vocab - 1] = 1e4; // last id, extremes
        }
      }
      const requests = Array.from({ length: numRows }, (_, r) => ({ params: params({}), sampleIndex: r }));
      expect(sampledBytes(requests)).toBe(numRows * 4); // a greedy step reads back only the ids
      const { tokens } = await runSampler(all, vocab, requests, false, software);
      const want = Array.from({ length: numRows }, (_, r) => argmaxLowest(rowOf(all, r, vocab)));
      expect(tokens.map((t) => t.tokenId)).toEqual(want);
      expect(want[2]).toBe(tiedLow);
      if (numRows > 3) expect(want[3]).toBe(0);
    }
  });
});

describe('bias and penalties', () => {
  it('move the argmax exactly as the oracle predicts, and write the processed logits', async () => {
    const rand = rng(11);
    const vocab = 997;
    const numRows = 24;
    const all = new Float32Array(numRows * vocab);
    const requests: SampleRequest[] = [];
    for (let r = 0; r < numRows; r++) {
      const row = rowOf(all, r, vocab);
      row.set(randomLogits(rand, vocab, 3));
      const top = rankDesc(row).slice(0, 12); // penalise the leaders so the argmax moves
      const ids = new Set<number>(top.filter(() => rand() < 0.7));
      while (ids.size < 40) ids.add(Math.floor(rand() * vocab));
      const tokenIds = Int32Array.from(ids);
      const outputCounts = Int32Array.from(tokenIds, () => (rand() < 0.5 ? 0 : 1 + Math.floor(rand() * 4)));
      const bias = new Map<number, number>();
      for (let j = 0; j < 5; j++) bias.set(Math.floor(rand() * vocab), (rand() * 2 - 1) * 6);
      if (r % 4 === 0) bias.set(tokenIds[0], 2.5); // bias and penalty on the same token
      const p = params({
        repetitionPenalty: r % 3 === 0 ? 1 : 1 + rand(),
        presencePenalty: r % 3 === 1 ? 0 : rand() * 2 - 0.5,
        frequencyPenalty: r % 3 === 2 ? 0 : rand() * 1.5,
        logitBias: bias,
      });
      requests.push({ params: p, sampleIndex: 0, penalties: { tokenIds, outputCounts } });
    }
    const { tokens, logitsAfter } = await runSampler(all, vocab, requests);
    let moved = 0;
    for (let r = 0; r < numRows; r++) {
      const processed = processRow(rowOf(all, r, vocab), requests[r].params, requests[r].penalties);
      const want = argmaxLowest(processed);
      expect(tokens[r].tokenId, `row ${r}`).toBe(want);
      if (want !== argmaxLowest(rowOf(all, r, vocab))) moved++;
      const got = rowOf(logitsAfter, r, vocab);
      for (let i = 0; i < vocab; i++) expect(Math.abs(got[i] - processed[i])).toBeLessThan(1e-5 * (1 + Math.abs(processed[i])));
    }
    expect(moved).toBeGreaterThan(numRows / 2);
  });

  it('preserveLogits leaves the raw logits untouched and samples the same ids', async () => {
    const rand = rng(12);
    const vocab = 300;
    const all = randomLogits(rand, 2 * vocab, 2);
    const leader = argmaxLowest(rowOf(all, 0, vocab));
    const pen: PenaltyTokens = { tokenIds: Int32Array.of(leader, 5), outputCounts: Int32Array.of(3, 0) };
    const requests: SampleRequest[] = [
      { params: params({ frequencyPenalty: 2, logitBias: new Map([[7, 50]]) }), sampleIndex: 0, penalties: pen },
      { params: params({ logitBias: new Map([[299, 100]]) }), sampleIndex: 0 },
    ];
    const inPlace = await runSampler(all, vocab, requests, false);
    const kept = await runSampler(all, vocab, requests, true);
    expect(inPlace.tokens.map((t) => t.tokenId)).toEqual([7, 299]);
    expect(kept.tokens.map((t) => t.tokenId)).toEqual([7, 299]);
    expect(Array.from(kept.logitsAfter)).toEqual(Array.from(all));
    expect(inPlace.logitsAfter[7]).toBeCloseTo(all[7] + 50, 4);
  });
});

describe('logprobs', () => {
  it('match the CPU log-softmax within 1e-4; top ids identical, highest first', async () => {
    const rand = rng(21);
    for (const vocab of [1000, 32000, 151936]) {
      const numRows = 4;
      const all = new Float32Array(numRows * vocab);
      for (let r = 0; r < numRows; r++) rowOf(all, r, vocab).set(randomLogits(rand, vocab, [1, 1e4, 30, 1e3][r]));
      const requests: SampleRequest[] = [
        { params: params({ logprobs: true, topLogprobs: 20 }), sampleIndex: 0 },
        { params: params({ logprobs: true, topLogprobs: 5, temperature: 0.7, seed: 3 }), sampleIndex: 9 },
        { params: params({ logprobs: true, topLogprobs: 0, logitBias: new Map([[3, 4]]) }), sampleIndex: 0 },
        { params: params({ logprobs: false, topLogprobs: 7 }), sampleIndex: 0 }, // no logprobs asked: none returned
      ];
      const { tokens } = await runSampler(all, vocab, requests);
      for (let r = 0; r < 3; r++) {
        const ls = logSoftmax(processRow(rowOf(all, r, vocab), requests[r].params));
        const t = tokens[r];
        expect(Math.abs(t.logprob! - ls[t.tokenId])).toBeLessThan(1e-4);
        const n = requests[r].params.topLogprobs;
        if (n === 0) {
          expect(t.topLogprobs).toBeUndefined();
          continue;
        }
        const wantIds = rankDesc(ls).slice(0, n);
        expect(t.topLogprobs!.map((x) => x.tokenId)).toEqual(wantIds);
        t.topLogprobs!.forEach((x, j) => expect(Math.abs(x.logprob - ls[wantIds[j]])).toBeLessThan(1e-4));
      }
      expect(tokens[3]).toEqual({ tokenId: argmaxLowest(rowOf(all, 3, vocab)) });
    }
  });

  it('orders tied logits by id and never repeats a token', async () => {
    const vocab = 50;
    const row = new Float32Array(vocab).fill(-2);
    for (const id of [40, 3, 17]) row[id] = 1.5;
    row[9] = 0.25;
    const { tokens } = await runSampler(row, vocab, [{ params: params({ logprobs: true, topLogprobs: 6 }), sampleIndex: 0 }]);
    const ls = logSoftmax(row);
    expect(tokens[0].tokenId).toBe(3);
    expect(tokens[0].topLogprobs!.map((x) => x.tokenId)).toEqual([3, 17, 40, 9, 0, 1]);
    expect(tokens[0].logprob).toBeCloseTo(ls[3], 5);
  });
});

function seededParams(rand: () => number, r: number): SamplingParams {
  return params({
    temperature: [0.3, 0.8, 1, 1.6][r % 4],
    topK: [0, 40, 5, 0, 200][r % 5],
    topP: [1, 0.9, 0.5, 0.97][r % 4 === 0 ? 1 : r % 4],
    minP: [0, 0.05, 0, 0.2][(r >> 1) % 4],
    seed: Math.floor(rand() * 2 ** 40),
  });
}

describe('seeded sampling', () => {
  it('draws the oracle token for the same uniform, reproducibly and independently of the batch', async () => {
    const rand = rng(31);
    const vocab = 1000;
    const numRows = 24;
    const all = new Float32Array(numRows * vocab);
    const requests: SampleRequest[] = [];
    for (let r = 0; r < numRows; r++) {
      rowOf(all, r, vocab).set(randomLogits(rand, vocab, 4));
      requests.push({ params: seededParams(rand, r), sampleIndex: Math.floor(rand() * 5000) });
    }
    const first = await runSampler(all, vocab, requests);
    const again = await runSampler(all, vocab, requests);
    expect(again.tokens).toEqual(first.tokens);

    let nearEdge = 0;
    for (let r = 0; r < numRows; r++) {
      const p = requests[r].params;
      const probs = filteredProbs(processRow(rowOf(all, r, vocab), p), p);
      const { id, edgeDistance } = drawById(probs, sampleUniform(p.seed, requests[r].sampleIndex));
      if (edgeDistance < 1e-4) nearEdge++;
      else expect(first.tokens[r].tokenId, `row ${r}`).toBe(id);
      expect(probs[first.tokens[r].tokenId]).toBeGreaterThan(0);
    }
    expect(nearEdge).toBeLessThanOrEqual(1);

    // Row 5 alone, and rows 5 and 17 swapped into a batch with different neighbours.
    const alone = await runSampler(rowOf(all, 5, vocab).slice(), vocab, [requests[5]]);
    expect(alone.tokens[0]).toEqual(first.tokens[5]);
    const mixed = new Float32Array(3 * vocab);
    mixed.set(rowOf(all, 17, vocab), 0);
    mixed.set(randomLogits(rand, vocab, 9), vocab);
    mixed.set(rowOf(all, 5, vocab), 2 * vocab);
    const other: SampleRequest = { params: seededParams(rand, 3), sampleIndex: 1 };
    const batch = await runSampler(mixed, vocab, [requests[17], other, requests[5]]);
    expect(batch.tokens[0]).toEqual(first.tokens[17]);
    expect(batch.tokens[2]).toEqual(first.tokens[5]);
  });

  it.each([32000, 151936])('top-k keeps every token tied with the k-th logit; top-p/min-p cuts match the oracle at vocab %i', async (vocab) => {
    const rand = rng(41 + vocab);
    const numRows = 6;
    const all = new Float32Array(numRows * vocab);
    const requests: SampleRequest[] = [];
    for (let r = 0; r < numRows; r++) {
      const row = rowOf(all, r, vocab);
      row.set(randomLogits(rand, vocab, 6));
      // Plant a tie group straddling rank k = 3 (ranks 2..5 all equal), far above the rest.
      const tieIds = [31999, 17, 20000, 5];
      row[123] = 40;
      row[7000] = 39;
      for (const id of tieIds) row[id] = 38;
      const p = [
        params({ temperature: 1, topK: 3, seed: 1000 + r }),
        params({ temperature: 1, topK: 3, seed: 1000 + r }),
        params({ temperature: 2, topP: 0.5, seed: 1000 + r }),
        params({ temperature: 0.6, topK: 1000, topP: 0.95, seed: 1000 + r }),
        params({ temperature: 1, minP: 0.3, seed: 1000 + r }),
        params({ temperature: 5, topK: 20, topP: 0.999, minP: 0.001, seed: 1000 + r }),
      ][r];
      requests.push({ params: p, sampleIndex: 77 + r });
    }
    const { tokens } = await runSampler(all, vocab, requests);
    for (let r = 0; r < numRows; r++) {
      const p = requests[r].params;
      const probs = filteredProbs(rowOf(all, r, vocab), p);
      if (p.topK === 3) expect([123, 7000, 31999, 17, 20000, 5].every((id) => probs[id] > 0)).toBe(true);
      const { id, edgeDistance } = drawById(probs, sampleUniform(p.seed, requests[r].sampleIndex));
      expect(probs[tokens[r].tokenId], `row ${r} drew a filtered token`).toBeGreaterThan(0);
      if (edgeDistance >= 1e-4) expect(tokens[r].tokenId, `row ${r}`).toBe(id);
    }
  });

  it('mirrors the kernel RNG: uniform, seed-sensitive, in [0, 1)', () => {
    const us = Array.from({ length: 20000 }, (_, i) => sampleUniform(42, i));
    expect(Math.min(...us)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...us)).toBeLessThan(1);
    const mean = us.reduce((a, b) => a + b, 0) / us.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    const buckets = new Array<number>(10).fill(0);
    for (const u of us) buckets[Math.floor(u * 10)]++;
    for (const b of buckets) expect(Math.abs(b - 2000)).toBeLessThan(200);
    expect(sampleUniform(43, 0)).not.toBe(sampleUniform(42, 0));
    expect(sampleUniform(42 + 2 ** 32, 0)).not.toBe(sampleUniform(42, 0));
  });
});

describe('distribution', () => {
  it('4000 draws over 10 tokens follow the filtered distribution; filtered tokens never drawn', async () => {
    const vocab = 10;
    const base = Float32Array.of(2.0, 1.2, -0.5, 1.9, 0.3, -3, 1.2, 0.8, -1.0, 2.6);
    // [params, draws]: the combined filter case gets the full 4000 draws; single-filter
    // cases 1000 each (SwiftShader pays ~1 ms per filtered row).
    const cases: [SamplingParams, number][] = [
      [params({ temperature: 1, seed: 5 }), 1000],
      [params({ temperature: 0.7, topK: 4, seed: 6 }), 1000], // ids 1 and 6 tie at the 4th logit: both kept
      [params({ temperature: 1.5, topK: 3, seed: 11 }), 1000], // exactly 3 kept: 9, 0, 3
      [params({ temperature: 1.3, topP: 0.8, seed: 7 }), 1000],
      [params({ temperature: 1, topP: 0.75, seed: 10 }), 1000], // mass crosses 0.75 inside the 1.2 tie: both kept
      [params({ temperature: 1, minP: 0.2, seed: 8 }), 1000],
      [params({ temperature: 0.9, topK: 8, topP: 0.9, minP: 0.1, seed: 9 }), 4000],
    ];
    for (const [p, draws] of cases) {
      const all = new Float32Array(draws * vocab);
      for (let r = 0; r < draws; r++) all.set(base, r * vocab);
      const requests = Array.from({ length: draws }, (_, r) => ({ params: p, sampleIndex: r }));
      const { tokens } = await runSampler(all, vocab, requests);
      const probs = filteredProbs(processRow(base, p), p);
      const counts = new Array<number>(vocab).fill(0);
      for (const t of tokens) counts[t.tokenId]++;
      // Per draw too: the oracle's inverse CDF at the kernel's uniform gives the same id.
      const offByEdge = tokens.filter((t, r) => {
        const d = drawById(probs, sampleUniform(p.seed, r));
        return d.edgeDistance >= 1e-5 && d.id !== t.tokenId;
      });
      expect(offByEdge).toEqual([]);
      for (let i = 0; i < vocab; i++) {
        if (probs[i] === 0) {
          expect(counts[i], `token ${i} is filtered`).toBe(0);
          continue;
        }
        const sigma = Math.sqrt((probs[i] * (1 - probs[i])) / draws);
        expect(Math.abs(counts[i] / draws - probs[i]), `token ${i} p=${probs[i]}`).toBeLessThan(4.5 * sigma + 1e-3);
      }
      if (p !== cases[0][0]) expect(probs.filter((x) => x === 0).length).toBeGreaterThan(0);
      if (p === cases[2][0]) expect(Array.from(probs, (x, i) => (x > 0 ? i : -1)).filter((i) => i >= 0)).toEqual([0, 3, 9]);
      if (p === cases[1][0] || p === cases[4][0]) expect(probs[1] > 0 && probs[6] > 0 && probs[7] === 0).toBe(true);
    }
  });
});

describe('bad arguments', () => {
  const ok: SampleRequest = { params: params({}), sampleIndex: 0 };
  const bad: [string, SampleRequest][] = [
    ['temperature', { params: params({ temperature: -1 }), sampleIndex: 0 }],
    ['topP', { params: params({ temperature: 1, topP: 0 }), sampleIndex: 0 }],
    ['minP', { params: params({ minP: 1.5 }), sampleIndex: 0 }],
    ['topK', { params: params({ topK: 2.5 }), sampleIndex: 0 }],
    ['topLogprobs', { params: params({ logprobs: true, topLogprobs: 21 }), sampleIndex: 0 }],
    ['seed', { params: params({ seed: 2 ** 60 }), sampleIndex: 0 }],
    ['sampleIndex', { params: params({}), sampleIndex: -1 }],
    ['repetitionPenalty', { params: params({ repetitionPenalty: 0 }), sampleIndex: 0 }],
    ['penalty token stats', { params: params({ presencePenalty: 1 }), sampleIndex: 0 }],
    ['outside the vocabulary', { params: params({ logitBias: new Map([[10, 1]]) }), sampleIndex: 0 }],
    ['outside the vocabulary', { params: params({ frequencyPenalty: 1 }), sampleIndex: 0, penalties: { tokenIds: Int32Array.of(-1), outputCounts: Int32Array.of(1) } }],
    ['finite', { params: params({ logitBias: new Map([[1, NaN]]) }), sampleIndex: 0 }],
    ['differ in length', { params: params({ frequencyPenalty: 1 }), sampleIndex: 0, penalties: { tokenIds: Int32Array.of(1, 2), outputCounts: Int32Array.of(1) } }],
    ['listed twice', { params: params({ frequencyPenalty: 1 }), sampleIndex: 0, penalties: { tokenIds: Int32Array.of(1, 1), outputCounts: Int32Array.of(1, 1) } }],
  ];
  for (const [what, req] of bad) {
    it(`rejects bad ${what} with kernel_bad_args`, () => {
      let err: unknown;
      try {
        packSampleRows([ok, req], 10);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(KernelArgError);
      expect((err as KernelArgError).code).toBe('kernel_bad_args');
      expect((err as Error).message).toContain('row 1');
      expect((err as Error).message).toContain(what);
    });
  }

  it('requestsFromSequences keeps the sampling sequences in order and rejects one without params', () => {
    const seq = { queryStart: 0, queryLength: 1, contextLength: 1, blockTable: Int32Array.of(0) };
    const pen: PenaltyTokens = { tokenIds: Int32Array.of(4), outputCounts: Int32Array.of(1) };
    const hot = params({ temperature: 1 });
    const got = requestsFromSequences([
      { ...seq, sample: false },
      { ...seq, sample: true, sampling: hot, sampleIndex: 5, penalties: pen },
      { ...seq, sample: true, sampling: params({}) },
    ]);
    expect(got).toEqual([
      { params: hot, sampleIndex: 5, penalties: pen },
      { params: params({}), sampleIndex: 0, penalties: undefined },
    ]);
    expect(() => requestsFromSequences([{ ...seq, sample: true }])).toThrow(/sequence 0: sample without sampling params/);
  });

  it('rejects undersized or aliased buffers and too many rows', async () => {
    const ctx = await getTestContext();
    // The checks run before anything is recorded, so an encoder without a pass will do.
    const enc = { ctx, dispatches: 0 } as unknown as KernelEncoder;
    const small = ctx.storage('small', 16);
    const big = ctx.storage('big', 4096);
    const out = ctx.storage('out', 4 * OUT_WORDS * 4);
    const args = { logits: small, rowParams: big, entries: ctx.storage('entries', 16), numEntries: 0, numRows: 2, vocabSize: 100, withLogprobs: false, out };
    const codeOf = (f: () => void): string | undefined => {
      try {
        f();
      } catch (e) {
        return e instanceof KernelArgError ? `${e.code}: ${e.message}` : String(e);
      }
      return undefined;
    };
    expect(codeOf(() => sample(enc, args))).toMatch(/^kernel_bad_args: sample: logits hold 16 B/);
    expect(codeOf(() => sample(enc, { ...args, logits: big }))).toMatch(/^kernel_bad_args: .*alias/);
    expect(codeOf(() => sample(enc, { ...args, logits: ctx.storage('l', 800), out: small }))).toMatch(/^kernel_bad_args: .*out holds 16 B/);
    const sampler = new Sampler(ctx, { maxRows: 1, vocabSize: 10 });
    expect(codeOf(() => sampler.record(enc, big, [ok, ok]))).toMatch(/^kernel_bad_args: .*exceed maxRows/);
    expect(codeOf(() => readSampled(new ArrayBuffer(8), [ok, ok, ok]))).toMatch(/^kernel_bad_args: .*3 rows need 12/);
    const withLogprobs: SampleRequest = { params: params({ logprobs: true }), sampleIndex: 0 };
    expect(codeOf(() => readSampled(new ArrayBuffer(8), [ok, withLogprobs]))).toMatch(/^kernel_bad_args: .*2 rows need 336/);
    sampler.destroy();
  });
});
