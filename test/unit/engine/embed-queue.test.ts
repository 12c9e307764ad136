// EmbedQueue on the fake runner in embedding mode: inputs of concurrent requests share
// runner calls under the token budget, each request gets its vectors in order, an abort
// drops a request's waiting inputs, and a failed call fails only the requests in it.
import { describe, expect, it } from 'vitest';
import { EmbedQueue } from '../../../src/engine/embed-queue';
import { EngineError } from '../../../src/engine/errors';
import { FakeRunner, fakeEmbedding } from '../../../src/testing/fake-runner';

const DIM = 16;
const ids = (...t: number[]) => Int32Array.from(t);
const text = (i: number) => ids(1, 10 + (i % 50), 20 + (i % 7), 30 + i); // 4 tokens, distinct per i

function setup(opts: { maxBatchTokens?: number; failOnEmbed?: { call: number; error: Error } } = {}) {
  const runner = new FakeRunner({ vocabSize: 1000, contextLength: 64, embeddingDim: DIM, failOnEmbed: opts.failOnEmbed });
  const queue = new EmbedQueue(runner as Required<Pick<FakeRunner, 'embed'>>, 64, { maxBatchTokens: opts.maxBatchTokens });
  return { runner, queue };
}

describe('EmbedQueue', () => {
  it('embeds 256 inputs of one request in a few batches under the token budget, in order', async () => {
    const { runner, queue } = setup({ maxBatchTokens: 256 });
    const inputs = Array.from({ length: 256 }, (_, i) => text(i));
    const vectors = await queue.embed(inputs);
    expect(vectors).toHaveLength(256);
    vectors.forEach((v, i) => expect(Array.from(v)).toEqual(Array.from(fakeEmbedding(inputs[i]!, DIM))));
    // 256 inputs × 4 tokens under 256 tokens per call: 64 inputs per call.
    expect(runner.embedInputs.map((b) => b.sequences.length)).toEqual([64, 64, 64, 64]);
    for (const b of runner.embedInputs) expect(b.sequences.reduce((s, x) => s + x.length, 0)).toBeLessThanOrEqual(256);
  });

  it('gathers 16 concurrent requests into one runner call, each answered with its own vectors', async () => {
    const { runner, queue } = setup();
    const requests = Array.from({ length: 16 }, (_, r) => [text(2 * r), text(2 * r + 1)]);
    const answers = await Promise.all(requests.map((seqs) => queue.embed(seqs)));
    expect(runner.embedInputs).toHaveLength(1);
    expect(runner.embedInputs[0]!.sequences).toHaveLength(32);
    answers.forEach((vs, r) => vs.forEach((v, j) => expect(Array.from(v)).toEqual(Array.from(fakeEmbedding(requests[r]![j]!, DIM)))));
  });

  it('lets requests that arrive while a batch runs wait for the next one', async () => {
    const { runner, queue } = setup();
    const first = queue.embed([text(1)]);
    await new Promise((r) => setTimeout(r, 0)); // the first batch is in flight
    const later = await Promise.all([queue.embed([text(2)]), queue.embed([text(3)])]);
    await first;
    expect(later).toHaveLength(2);
    expect(runner.embedInputs.map((b) => b.sequences.length)).toEqual([1, 2]);
  });

  it('an abort rejects its request with aborted and drops its waiting inputs; the others complete', async () => {
    const { runner, queue } = setup({ maxBatchTokens: 64 });
    const controller = new AbortController();
    const kept = queue.embed(Array.from({ length: 32 }, (_, i) => text(i)));
    const dropped = queue.embed(Array.from({ length: 32 }, (_, i) => text(100 + i)), controller.signal);
    controller.abort();
    await expect(dropped).rejects.toMatchObject({ code: 'aborted' });
    expect(await kept).toHaveLength(32);
    const embedded = runner.embedInputs.reduce((s, b) => s + b.sequences.length, 0);
    expect(embedded).toBe(32);
  });

  it('a signal aborted before the call rejects at once, without a runner call', async () => {
    const { runner, queue } = setup();
    const controller = new AbortController();
    controller.abort();
    await expect(queue.embed([text(1)], controller.signal)).rejects.toMatchObject({ code: 'aborted' });
    expect(runner.embedInputs).toHaveLength(0);
  });

  it('a failed runner call fails only the requests with an input in it', async () => {
    const { queue } = setup({ maxBatchTokens: 64, failOnEmbed: { call: 1, error: new Error('boom') } });
    // 16 inputs × 4 tokens fill the first call exactly; the second request goes in call 2.
    const a = queue.embed(Array.from({ length: 16 }, (_, i) => text(i)));
    const b = queue.embed([text(99)]);
    const err = await a.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'internal_error' });
    expect((err as Error).message).toContain('boom');
    expect(await b).toHaveLength(1);
  });

  it('close() rejects waiting requests with engine_not_loaded and refuses new ones', async () => {
    const { queue } = setup();
    const waiting = queue.embed([text(1)]);
    queue.close();
    await expect(waiting).rejects.toMatchObject({ code: 'engine_not_loaded' });
    await expect(queue.embed([text(2)])).rejects.toMatchObject({ code: 'engine_not_loaded' });
  });
});
