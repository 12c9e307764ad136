// Grammar masks in GPU sampling (src/kernels/sample-mask.wgsl through Sampler): against the
// float64 oracle with masked-out logits at -inf. Tolerances as in sample.test.ts: ids exact
// (seeded draws except within 1e-4 of a bucket edge), logprobs 1e-4 absolute. Rows without a
// mask must come out bit-identical to a step with no mask at all, and such a step records no
// extra dispatch.
import { describe, expect, it } from 'vitest';
import type { SamplingParams } from '../../src/engine/types';
import { Sampler, type SampleRequest } from '../../src/kernels/sample';
import { readBuffer } from '../helpers/gpu';
import { getTestContext, rng, runPass } from './kernels/harness';
import { argmaxLowest, drawById, filteredProbs, logSoftmax, params, rankDesc, randomLogits } from './sample-oracle';
import { sampleUniform } from '../../src/kernels/sample';

const allowed = (mask: Uint32Array, t: number) => ((mask[t >>> 5] >>> (t & 31)) & 1) === 1;

/** A random mask allowing about `density` of the vocabulary (at least one token). */
function randomMask(rand: () => number, vocab: number, density: number): Uint32Array {
  const mask = new Uint32Array(Math.ceil(vocab / 32));
  for (let t = 0; t < vocab; t++) if (rand() < density) mask[t >>> 5] |= 1 << (t & 31);
  const one = Math.floor(rand() * vocab);
  mask[one >>> 5] |= 1 << (one & 31);
  return mask;
}

function masked(row: ArrayLike<number>, mask: Uint32Array): Float64Array {
  return Float64Array.from(row as ArrayLike<number>, (x, t) => (allowed(mask, t) ? Math.fround(x) : -Infinity));
}

async function runSampler(rows: Float32Array<ArrayBuffer>, vocabSize: number, requests: SampleRequest[]) {
  const ctx = await getTestContext();
  const logits = ctx.upload('test-logits', rows);
  const sampler = new Sampler(ctx, { maxRows: requests.length, vocabSize });
  const enc = await runPass(ctx, (e) => void sampler.record(e, logits, requests));
  const bytes = await readBuffer(ctx.device, sampler.out, Math.max(4, sampler.outBytes(requests)));
  const raw = new Uint32Array(bytes.slice(0));
  sampler.destroy();
  logits.destroy();
  return { tokens: sampler.read(bytes, requests), raw, dispatches: enc.dispatches };
}

describe('masked sampling on the GPU', () => {
  it('greedy and seeded rows pick only allowed tokens; ids and logprobs match the oracle', async () => {
    const rand = rng(11);
    let edgeCases = 0;
    let draws = 0;
    for (const vocab of [37, 1000, 4093, 32003]) {
      const kinds: Partial<SamplingParams>[] = [
        {},
        { temperature: 0.8, seed: 3 },
        { temperature: 1.3, topK: 5, seed: 4 },
        { temperature: 0.7, topP: 0.8, seed: 5 },
        { temperature: 1, minP: 0.05, seed: 6, logprobs: true, topLogprobs: 20 },
        { logprobs: true, topLogprobs: 5 },
      ];
      const numRows = kinds.length;
      const all = new Float32Array(numRows * vocab);
      const requests: SampleRequest[] = kinds.map((k, r) => {
        all.set(randomLogits(rand, vocab, r === 0 ? 1e4 : 4), r * vocab);
        // density: dense, sparse, a single token
        const density = [0.5, 0.02, 0][r % 3];
        return { params: params(k), sampleIndex: r + 1, tokenMask: randomMask(rand, vocab, density) };
      });
      const { tokens } = await runSampler(all, vocab, requests);
      requests.forEach((req, r) => {
        const row = masked(all.subarray(r * vocab, (r + 1) * vocab), req.tokenMask!);
        const got = tokens[r];
        expect(allowed(req.tokenMask!, got.tokenId), `vocab ${vocab} row ${r}`).toBe(true);
        if (req.params.temperature === 0) expect(got.tokenId).toBe(argmaxLowest(row));
        else {
          const want = drawById(filteredProbs(row, req.params), sampleUniform(req.params.seed, req.sampleIndex));
          draws++;
          if (want.edgeDistance < 1e-4) edgeCases++;
          else expect(got.tokenId, `vocab ${vocab} row ${r}`).toBe(want.id);
        }
        if (req.params.logprobs) {
          const lp = logSoftmax(row);
          expect(Math.abs(got.logprob! - lp[got.tokenId])).toBeLessThan(1e-4);
          const numAllowed = row.filter((x) => x > -Infinity).length;
          const wantTop = rankDesc(row).slice(0, Math.min(req.params.topLogprobs, numAllowed));
          expect(got.topLogprobs!.map((t) => t.tokenId)).toEqual(wantTop);
          got.topLogprobs!.forEach((t) => expect(Math.abs(t.logprob - lp[t.tokenId])).toBeLessThan(1e-4));
        }
      });
    }
    expect(edgeCases).toBeLessThanOrEqual(Math.ceil(draws / 10));
  });

  it('rows without a mask are bit-identical to a step without masks, which records no mask dispatch', async () => {
    const rand = rng(5);
    const vocab = 3001;
    const kinds: Partial<SamplingParams>[] = [{ logprobs: true, topLogprobs: 3 }, { temperature: 0.9, seed: 1, logprobs: true }, {}, { temperature: 1.1, topP: 0.9, seed: 2 }];
    const all = new Float32Array(kinds.length * vocab);
    kinds.forEach((_, r) => all.set(randomLogits(rand, vocab, 3), r * vocab));
    const plain: SampleRequest[] = kinds.map((k, r) => ({ params: params(k), sampleIndex: r }));
    const mixed: SampleRequest[] = plain.map((req, r) => (r % 2 === 1 ? { ...req, tokenMask: randomMask(rand, vocab, 0.1) } : req));
    const a = await runSampler(all, vocab, plain);
    const b = await runSampler(all, vocab, mixed);
    expect(b.dispatches).toBe(a.dispatches + 1);
    for (const r of [0, 2]) {
      expect(b.tokens[r]).toEqual(a.tokens[r]);
      // raw words: ids, and the logprob bits of row r
      expect(b.raw[r]).toBe(a.raw[r]);
      expect(b.raw[kinds.length + r]).toBe(a.raw[kinds.length + r]);
    }
    for (const r of [1, 3]) expect(allowed(mixed[r].tokenMask!, b.tokens[r].tokenId)).toBe(true);
  });

  it('a mask of the wrong length is refused before anything is recorded', async () => {
    const ctx = await getTestContext();
    const sampler = new Sampler(ctx, { maxRows: 1, vocabSize: 100 });
    const logits = ctx.upload('test-logits', new Float32Array(100));
    await expect(runPass(ctx, (e) => void sampler.record(e, logits, [{ params: params({}), sampleIndex: 0, tokenMask: new Uint32Array(3) }]))).rejects.toThrow(/tokenMask must be a Uint32Array of ceil\(vocabSize \/ 32\) = 4 words/);
    sampler.destroy();
    logits.destroy();
  });
});
