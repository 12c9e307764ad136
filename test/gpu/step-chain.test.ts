// The sampled token written on the GPU (src/gpu/step-chain.ts): a decode step submitted
// before the previous step's ids came back, taking them from the sampler's output with
// StepInput.fromPreviousStep, gives the ids and logits (bit for bit) of the same steps run
// one after the other with the ids from the host; and the runner's refusals.
import { afterAll, describe, expect, it } from 'vitest';
import type { StepInput, StepOutput } from '../../src/engine/types';
import type { GpuModelRunner } from '../../src/gpu/runner';
import { makeTestModel } from '../helpers/test-model';
import { buildStep, loadRunner, scatteredBlocks, type SeqChunk } from './runner-harness';

const VOCAB = 96;
const PROMPTS = [[5, 17, 33], [9], [40, 2, 71, 8, 13]];
const DECODE_STEPS = 4;

let runner: GpuModelRunner;
afterAll(() => runner?.destroy());

async function load(): Promise<GpuModelRunner> {
  runner ??= await loadRunner(makeTestModel({ arch: 'llama', vocab: VOCAB, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, quant: 'Q8_0', seed: 11 }), 1 << 20);
  return runner;
}

/** Block tables of the three sequences: one block each, distinct, per run (`run` 0 or 1). */
function tables(r: GpuModelRunner, run: number): Int32Array[] {
  const blocks = scatteredBlocks(r.numKvBlocks, 6, 3);
  return PROMPTS.map((_, s) => blocks.subarray(3 * run + s, 3 * run + s + 1));
}

/** Decode step `k` (0-based) of the three sequences, in `order`, with `ids[s]` as sequence s's token. */
function decode(blockTables: Int32Array[], k: number, ids: number[], order: number[]): StepInput {
  const chunks: SeqChunk[] = order.map((s) => ({ tokens: [ids[s]], startPos: PROMPTS[s].length + k, blockTable: blockTables[s], sample: true }));
  return buildStep(chunks, { returnLogits: true });
}

/** Sequence order of decode step k: reversed on odd steps, so rows and tokens do not line up one to one. */
const orderOf = (k: number) => (k % 2 === 0 ? [0, 1, 2] : [2, 1, 0]);

/** out.sampled / logits rows back in sequence order. */
function bySequence(out: StepOutput, order: number[]): { ids: number[]; logits: Uint32Array[] } {
  const ids: number[] = [], logits: Uint32Array[] = [];
  order.forEach((s, row) => {
    ids[s] = out.sampled[row].tokenId;
    logits[s] = new Uint32Array(out.logits!.buffer, row * VOCAB * 4, VOCAB);
  });
  return { ids, logits };
}

describe('the sampled token written on the GPU', () => {
  it('a chained decode, submitted before the previous ids are read, gives the bits of steps fed from the host', async () => {
    const r = await load();
    const prefill = (t: Int32Array[]) => buildStep(PROMPTS.map((p, s) => ({ tokens: p, startPos: 0, blockTable: t[s], sample: true })));

    // From the host: each step waits for the ids before the next is recorded.
    const host = tables(r, 0);
    let out = await r.step(prefill(host));
    let ids = out.sampled.map((t) => t.tokenId);
    const want: Array<{ ids: number[]; logits: Uint32Array[] }> = [];
    for (let k = 0; k < DECODE_STEPS; k++) {
      out = await r.step(decode(host, k, ids, orderOf(k)));
      want.push(bySequence(out, orderOf(k)));
      ids = want[k].ids;
    }

    // Chained: every decode step is submitted while the step before it is in flight (then
    // the older one is awaited), with placeholder ids (0) and the previous step's sampler
    // rows named per token.
    const chained = tables(r, 1);
    let previous = r.step(prefill(chained));
    let previousOrder = [0, 1, 2];
    const pending: Array<Promise<StepOutput>> = [];
    for (let k = 0; k < DECODE_STEPS; k++) {
      const order = orderOf(k);
      const input = decode(chained, k, [0, 0, 0], order);
      input.fromPreviousStep = order.map((s, token) => [token, previousOrder.indexOf(s)] as const);
      const next = r.step(input); // submitted before the previous step's ids are back
      await previous;
      pending.push(next);
      previous = next;
      previousOrder = order;
    }
    const got = (await Promise.all(pending)).map((o, k) => bySequence(o, orderOf(k)));
    expect(got.map((g) => g.ids)).toEqual(want.map((w) => w.ids));
    for (let k = 0; k < DECODE_STEPS; k++) for (let s = 0; s < PROMPTS.length; s++) expect(got[k].logits[s]).toEqual(want[k].logits[s]);
    // The placeholders were really replaced: some fed id is not 0.
    expect(want.flatMap((w) => w.ids).some((id) => id !== 0)).toBe(true);
  }, 300_000);

  it('refuses a third step in flight, and a chain with no previous rows to take (coded errors)', async () => {
    const r = await load();
    const t = tables(r, 0);
    const one = () => buildStep([{ tokens: [3], startPos: 0, blockTable: t[0], sample: true }]);
    const a = r.step(one());
    const b = r.step(buildStep([{ tokens: [4], startPos: 0, blockTable: t[1], sample: true }]));
    await expect(r.step(buildStep([{ tokens: [5], startPos: 0, blockTable: t[2], sample: true }]))).rejects.toMatchObject({ code: 'runner_unavailable' });
    await Promise.all([a, b]);
    // A step that samples nothing leaves no rows to take.
    await r.step(buildStep([{ tokens: [3], startPos: 0, blockTable: t[0], sample: false }]));
    const chained = one();
    chained.fromPreviousStep = [[0, 0]];
    await expect(r.step(chained)).rejects.toMatchObject({ code: 'bad_step_input' });
    await r.step(one());
    chained.fromPreviousStep = [[0, 1]];
    await expect(r.step(chained)).rejects.toMatchObject({ code: 'bad_step_input' });
  }, 300_000);
});
