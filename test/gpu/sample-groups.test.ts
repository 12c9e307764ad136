// The LM head and sampling in groups of G sampled rows (src/gpu/sample-groups.ts, #18; G the
// LM head's token tile: 16 on the software set, 64 on the GPU set): a step that samples
// 2G + 5 sequences (groups of G, G, 5) must give every sequence what it gets sampled alone,
// bit for bit — logits, id, logprob and top logprobs — with every sampling branch in the
// batch (greedy, seeded draws with top-k / top-p, logit bias and penalties, grammar masks,
// logprobs), on both kernel sets; a chained step takes ids across a group boundary; and the
// logits buffer holds one group, not the step's rows.
import { afterAll, describe, expect, it } from 'vitest';
import { GREEDY, type SamplingParams, type SequenceInput, type StepInput } from '../../src/engine/types';
import { GpuContext } from '../../src/gpu/context';
import { createGpuRunner, type GpuModelRunner } from '../../src/gpu/runner';
import { sampleGroupRows, sampleGroups } from '../../src/gpu/sample-groups';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { openSource } from '../../src/model/gguf/source';
import { getTestDevice } from '../helpers/gpu';
import { makeTestModel } from '../helpers/test-model';

const VOCAB = 96;
const runners: GpuModelRunner[] = [];
afterAll(() => runners.forEach((r) => r.destroy()));

async function load(software: boolean): Promise<GpuModelRunner> {
  const { device } = await getTestDevice();
  const bytes = makeTestModel({ arch: 'qwen2', vocab: VOCAB, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, quant: 'Q8_0', seed: 29 });
  const source = await openSource(bytes);
  const gguf = await readGGUF(source);
  const runner = await createGpuRunner({
    ctx: new GpuContext(device, { f16: false, subgroups: false }, software), gguf, source, config: modelConfigFromGGUF(gguf),
    kvCacheBytes: 2 << 20, stepCapacity: { tokens: 64, sampledRows: 64 },
  });
  runners.push(runner);
  return runner;
}

/** Sequence i's sampling: a different branch of the sampler for each i mod 6. */
function samplingOf(i: number): Pick<SequenceInput, 'sampling' | 'penalties' | 'tokenMask'> {
  const base: SamplingParams = { ...GREEDY, seed: 1000 + i };
  switch (i % 6) {
    case 0: return { sampling: base };
    case 1: return { sampling: { ...base, temperature: 0.9, topK: 20 } };
    case 2: return { sampling: { ...base, temperature: 1.3, topP: 0.8, logprobs: true, topLogprobs: 3 } };
    case 3: return { sampling: { ...base, temperature: 0.7, logitBias: new Map([[5, 3], [9, -2]]) } };
    case 4: return {
      sampling: { ...base, temperature: 1, presencePenalty: 0.5, repetitionPenalty: 1.2 },
      penalties: { tokenIds: Int32Array.of(3, 7, 11), outputCounts: Int32Array.of(0, 2, 1) },
    };
    default: {
      const mask = new Uint32Array(Math.ceil(VOCAB / 32));
      for (let t = i % 7; t < VOCAB; t += 3) mask[t >> 5] |= 1 << (t & 31);
      return { sampling: { ...base, temperature: 0.8, logprobs: true, topLogprobs: 2 }, tokenMask: mask };
    }
  }
}

/** A decode of sequence i (one token at position 3 + i % 5, its own KV block). */
function decodeSeq(i: number, queryStart: number): SequenceInput {
  return { queryStart, queryLength: 1, contextLength: 4 + (i % 5), blockTable: Int32Array.of(i), sample: true, sampleIndex: i % 4, ...samplingOf(i) };
}

function stepOf(ids: number[], returnLogits = true): StepInput {
  return {
    tokenIds: Int32Array.from(ids, (i) => 1 + ((i * 13) % (VOCAB - 1))),
    positions: Int32Array.from(ids, (i) => 3 + (i % 5)),
    sequences: ids.map((i, q) => decodeSeq(i, q)),
    returnLogits,
  };
}

describe('LM head and sampling in groups of 16 rows', () => {
  it('splits rows into consecutive groups of the LM head matmul\'s token tile (16 software, 64 GPU)', () => {
    expect(sampleGroupRows(true)).toBe(16);
    expect(sampleGroupRows(false)).toBe(64);
    expect(sampleGroups(0, 16)).toEqual([]);
    expect(sampleGroups(16, 16)).toEqual([{ start: 0, count: 16 }]);
    expect(sampleGroups(37, 16)).toEqual([{ start: 0, count: 16 }, { start: 16, count: 16 }, { start: 32, count: 5 }]);
  });

  for (const software of [true, false]) {
    const G = sampleGroupRows(software);
    const numSeqs = 2 * G + 5; // three groups: G, G, 5
    it(`${software ? 'software' : 'GPU'} kernels: ${numSeqs} sequences in one step get their logits, ids and logprobs alone, bit for bit`, async () => {
      const runner = await load(software);
      // Each sequence's KV (the positions before the decoded one) from one prefill of all of them.
      const prefill: StepInput = { tokenIds: new Int32Array(0), positions: new Int32Array(0), sequences: [] };
      const tokenIds: number[] = [];
      const positions: number[] = [];
      for (let i = 0; i < numSeqs; i++) {
        const n = 3 + (i % 5);
        prefill.sequences.push({ queryStart: tokenIds.length, queryLength: n, contextLength: n, blockTable: Int32Array.of(i), sample: false });
        for (let p = 0; p < n; p++) {
          tokenIds.push(1 + ((i * 7 + p * 5) % (VOCAB - 1)));
          positions.push(p);
        }
      }
      await runner.step({ ...prefill, tokenIds: Int32Array.from(tokenIds), positions: Int32Array.from(positions) });
      const all = Array.from({ length: numSeqs }, (_, i) => i);
      const batch = await runner.step(stepOf(all));
      expect(batch.sampled).toHaveLength(numSeqs);
      expect(batch.logits).toHaveLength(numSeqs * VOCAB);
      for (const i of [0, 5, G - 1, G, G + 1, G + 6, 2 * G - 1, 2 * G, 2 * G + 4]) {
        const alone = await runner.step(stepOf([i]));
        expect(new Uint32Array(batch.logits!.slice(i * VOCAB, (i + 1) * VOCAB).buffer), `logits of ${i}`).toEqual(new Uint32Array(alone.logits!.buffer));
        expect(batch.sampled[i], `sample of ${i}`).toEqual(alone.sampled[0]);
      }
      // Without returned logits (recorded once, then replayed): the same samples.
      const quiet = await runner.step(stepOf(all, false));
      expect(quiet.sampled).toEqual(batch.sampled);
      const replayed = await runner.step(stepOf(all, false));
      expect(runner.lastStepStats!.replayed).toBe(true);
      expect(replayed.sampled).toEqual(batch.sampled);
      expect(runner.lastStepStats!.compilesAfterLoad).toBe(0);
    }, 300_000);
  }

  it('a chained step takes ids from rows on both sides of a group boundary (software set: G = 16)', async () => {
    const runner = await load(true);
    const ids = Array.from({ length: 20 }, (_, i) => i);
    const first = stepOf(ids, false);
    for (const s of first.sequences) s.sampling = { ...GREEDY }; // greedy: the chained ids are the host's
    const host = await runner.step(first);
    // Rows 14..17 of the first step (groups 0 and 1) feed four decodes of the next one.
    const next = (tokenIds: number[]): StepInput => ({
      tokenIds: Int32Array.from(tokenIds), positions: Int32Array.from([14, 15, 16, 17], (i) => 4 + (i % 5)),
      sequences: [14, 15, 16, 17].map((i, q) => ({ queryStart: q, queryLength: 1, contextLength: 5 + (i % 5), blockTable: Int32Array.of(i), sample: true, sampling: GREEDY, sampleIndex: 1 })),
      returnLogits: true,
    });
    const fromHost = await runner.step(next([14, 15, 16, 17].map((r) => host.sampled[r].tokenId)));
    // Again from the same state: the previous step's rows on the GPU.
    await runner.step(first);
    const chained = await runner.step({ ...next([0, 0, 0, 0]), fromPreviousStep: [[0, 14], [1, 15], [2, 16], [3, 17]] });
    expect(new Uint32Array(chained.logits!.buffer)).toEqual(new Uint32Array(fromHost.logits!.buffer));
    expect(chained.sampled).toEqual(fromHost.sampled);
  });

  it('the logits buffer holds one group of rows, whatever the sampled-row capacity (software set)', async () => {
    const runner = await load(true);
    const bufs = (runner as unknown as { bufs: { logits: GPUBuffer; sampleCapacity: number } }).bufs;
    expect(bufs.sampleCapacity).toBe(64);
    expect(bufs.logits.size).toBe(16 * VOCAB * 4);
  });
});
