// Preemption and recompute, abort in every state, n > 1 forks with copy-on-write, runner
// failures and stats, all over the fake runner.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/engine/errors';
import { GREEDY, type SamplingParams } from '../../../src/engine/types';
import { collect, idle, makeEngine, makePrompt, referenceOutput } from './helpers';

const SEEDED: SamplingParams = { ...GREEDY, temperature: 1, seed: 77 };

function expectPoolFull(core: ReturnType<typeof makeEngine>['core']) {
  expect(core.kv.numFreeBlocks).toBe(core.kv.numUsableBlocks);
  expect(core.kv.checkInvariants()).toEqual([]);
  expect(core.kv.numSequences).toBe(0);
}

describe('preemption', () => {
  it.each([
    ['greedy', GREEDY],
    ['seeded', SEEDED],
  ])('out of blocks preempts the newest request; it resumes with the same %s ids', async (_name, sampling) => {
    // 13 usable blocks; 4 requests growing to 20 + 60 = 80 tokens (5 blocks) each.
    const { core, runner } = makeEngine({ numKvBlocks: 14 });
    const prompts = [0, 1, 2, 3].map((i) => makePrompt(20, i));
    const outs = await Promise.all(prompts.map((p) => collect(core.addRequest({ promptIds: p, maxTokens: 60, sampling }))));
    expect(core.stats().numPreemptions).toBeGreaterThan(0);
    outs.forEach((o, i) => {
      expect(o.ids[0]).toEqual(referenceOutput(prompts[i], 60, sampling));
      expect(o.finish[0]).toBe('length');
    });
    // A recompute step replays prompt + generated tokens at positions from 0 (or the cached prefix).
    const recompute = runner.inputs.find((s) => s.sequences.some((q) => q.queryLength > 20));
    expect(recompute).toBeDefined();
    expectPoolFull(core);
  });

  it('a single request that outgrows the whole pool finishes with length instead of looping', async () => {
    const { core } = makeEngine({ numKvBlocks: 4 }); // 3 usable blocks = 48 tokens
    const prompt = makePrompt(10, 5);
    const out = await collect(core.addRequest({ promptIds: prompt, maxTokens: 100 }));
    expect(out.finish[0]).toBe('length');
    expect(out.ids[0]).toEqual(referenceOutput(prompt, 48 - 10 + 1));
    expectPoolFull(core);
  });
});

describe('abort', () => {
  it('aborts a waiting request: abort event, no tokens, pool full', async () => {
    const { core } = makeEngine({}, { maxRunningSequences: 1 });
    const running = core.addRequest({ promptIds: makePrompt(8, 1), maxTokens: 5 });
    await Promise.resolve();
    const waiting = core.addRequest({ promptIds: makePrompt(8, 2), maxTokens: 5 });
    expect(core.stats().waiting).toBe(1);
    expect(core.abort(waiting.requestId)).toBe(true);
    const w = await collect(waiting);
    expect(w.events).toHaveLength(1);
    expect(w.finish[0]).toBe('abort');
    expect(w.last.usage).toEqual({ promptTokens: 8, completionTokens: 0, cachedTokens: 0 });
    expect((await collect(running)).ids[0]).toEqual(referenceOutput(makePrompt(8, 1), 5));
    await idle(core);
    expect(core.abort(waiting.requestId)).toBe(false);
    expectPoolFull(core);
  });

  it('aborts mid-prefill (chunked) and mid-decode; blocks are freed by the next step', async () => {
    const { core, runner } = makeEngine({}, { maxBatchTokens: 16 });
    const prefilling = core.addRequest({ promptIds: makePrompt(100, 3), maxTokens: 5 });
    await new Promise<void>((r) => setImmediate(r));
    expect(core.kv.numUsedBlocks).toBeGreaterThan(0);
    expect(runner.inputs[0].sequences[0].sample).toBe(false);
    core.abort(prefilling.requestId);
    const p = await collect(prefilling);
    expect(p.finish[0]).toBe('abort');
    await idle(core);
    expectPoolFull(core);

    const controller = new AbortController();
    const decoding = core.addRequest({ promptIds: makePrompt(5, 4), maxTokens: 1000, signal: controller.signal });
    const seen: number[] = [];
    for await (const e of decoding) {
      seen.push(...e.tokenIds);
      if (seen.length === 3) controller.abort();
      if (e.finishReason) expect(e.finishReason).toBe('abort');
    }
    expect(seen.slice(0, 3)).toEqual(referenceOutput(makePrompt(5, 4), 3));
    expect(seen.length).toBeLessThan(10);
    await idle(core);
    expectPoolFull(core);
  });

  it('breaking out of the event loop aborts the request', async () => {
    const { core } = makeEngine();
    const stream = core.addRequest({ promptIds: makePrompt(5, 6), maxTokens: 1000 });
    let n = 0;
    for await (const e of stream) {
      n += e.tokenIds.length;
      if (n === 2) break;
    }
    await idle(core);
    expect(core.stats().running).toBe(0);
    expectPoolFull(core);
  });

  it('aborting an n > 1 request before and after its fork frees everything', async () => {
    const { core } = makeEngine({}, { maxBatchTokens: 8 });
    const early = core.addRequest({ promptIds: makePrompt(40, 1), n: 3, maxTokens: 50 });
    await new Promise<void>((r) => setImmediate(r));
    core.abort(early.requestId);
    const e = await collect(early);
    expect(e.finish).toEqual(['abort', 'abort', 'abort']);
    await idle(core);
    expectPoolFull(core);
    const late = core.addRequest({ promptIds: makePrompt(40, 1), n: 3, maxTokens: 500 });
    let tokens = 0;
    for await (const ev of late) {
      tokens += ev.tokenIds.length;
      if (tokens >= 6) break;
    }
    await idle(core);
    expectPoolFull(core);
  });
});

describe('n > 1 (copy-on-write fork)', () => {
  it('greedy choices all equal the n = 1 output; the prompt is computed once', async () => {
    const { core, runner } = makeEngine();
    const prompt = makePrompt(37, 8); // last block partially filled: children copy it
    const out = await collect(core.addRequest({ promptIds: prompt, n: 4, maxTokens: 10 }));
    const ref = referenceOutput(prompt, 10);
    expect(out.ids).toEqual([ref, ref, ref, ref]);
    expect(out.finish).toEqual(['length', 'length', 'length', 'length']);
    expect(out.last.usage).toEqual({ promptTokens: 37, completionTokens: 40, cachedTokens: 0 });
    const promptTokensComputed = runner.inputs.flatMap((s) => s.sequences).filter((q) => q.contextLength <= 37).reduce((n, q) => n + q.queryLength, 0);
    expect(promptTokensComputed).toBe(36 + 4); // 36 once, then the last prompt token per child
    const copies = runner.inputs.flatMap((s) => s.blockCopies ?? []);
    expect(copies).toHaveLength(3); // the fourth child writes the shared block in place
    expect(new Set(copies.map(([src]) => src)).size).toBe(1);
    expectPoolFull(core);
  });

  it('seeded choices are reproducible and choice i equals n = 1 with seed + i', async () => {
    const prompt = makePrompt(33, 2);
    const run = async () => collect(makeEngine().core.addRequest({ promptIds: prompt, n: 4, maxTokens: 12, sampling: SEEDED }));
    const a = await run();
    const b = await run();
    expect(a.ids).toEqual(b.ids);
    for (let i = 0; i < 4; i++) expect(a.ids[i]).toEqual(referenceOutput(prompt, 12, { ...SEEDED, seed: SEEDED.seed + i }));
    expect(new Set(a.ids.map((x) => x.join())).size).toBe(4);
  });

  it('forks a 1-token prompt and a block-aligned prompt without copies', async () => {
    const { core, runner } = makeEngine();
    const one = await collect(core.addRequest({ promptIds: [42], n: 2, maxTokens: 3, sampling: SEEDED }));
    expect(one.ids[1]).toEqual(referenceOutput([42], 3, { ...SEEDED, seed: SEEDED.seed + 1 }));
    const aligned = makePrompt(33, 3); // first 32 tokens = 2 full blocks shared; token 33 starts a new block
    const out = await collect(core.addRequest({ promptIds: aligned, n: 3, maxTokens: 4 }));
    expect(out.ids[2]).toEqual(referenceOutput(aligned, 4));
    expect(runner.inputs.flatMap((s) => s.blockCopies ?? [])).toHaveLength(0);
    expectPoolFull(core);
  });

  it('children preempted mid-way still match', async () => {
    const { core } = makeEngine({ numKvBlocks: 12 });
    const prompt = makePrompt(25, 4);
    const out = await collect(core.addRequest({ promptIds: prompt, n: 4, maxTokens: 40, sampling: SEEDED }));
    expect(core.stats().numPreemptions).toBeGreaterThan(0);
    for (let i = 0; i < 4; i++) expect(out.ids[i]).toEqual(referenceOutput(prompt, 40, { ...SEEDED, seed: SEEDED.seed + i }));
    expectPoolFull(core);
  });
});

describe('runner failure and stats', () => {
  it('a runner error fails every request in flight with a coded error; device_lost fails later ones too', async () => {
    const lost = Object.assign(new Error('GPU device was lost'), { code: 'device_lost' });
    const { core } = makeEngine({ failOnStep: { step: 3, error: lost } });
    const streams = [0, 1, 2].map((i) => core.addRequest({ promptIds: makePrompt(10, i), maxTokens: 50 }));
    for (const s of streams) await expect(collect(s)).rejects.toMatchObject({ code: 'device_lost', message: 'GPU device was lost' });
    expect(() => core.addRequest({ promptIds: [1] })).toThrow(expect.objectContaining({ code: 'device_lost' }));
    expectPoolFull(core);

    const { core: core2 } = makeEngine({ failOnStep: { step: 1, error: new Error('boom') } });
    const s = core2.addRequest({ promptIds: makePrompt(10, 1), maxTokens: 5 });
    const err = await collect(s).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('internal_error');
    // Not fatal: the next request runs.
    expect((await collect(core2.addRequest({ promptIds: makePrompt(10, 1), maxTokens: 5 }))).ids[0]).toEqual(referenceOutput(makePrompt(10, 1), 5));
  });

  it('a runner that returns a bad sample count or an out-of-vocabulary id fails the requests with internal_error', async () => {
    const { core: a } = makeEngine({ nextToken: () => 5000 });
    await expect(collect(a.addRequest({ promptIds: [1, 2], maxTokens: 3 }))).rejects.toMatchObject({ code: 'internal_error', message: /outside the vocabulary/ });
    const { core: b, runner } = makeEngine();
    runner.step = async () => ({ sampled: [] });
    await expect(collect(b.addRequest({ promptIds: [1, 2], maxTokens: 3 }))).rejects.toMatchObject({ code: 'internal_error', message: /0 samples for 1/ });
    expectPoolFull(b);
  });

  it('stats report running/waiting, KV blocks, the last step and tokens/s', async () => {
    const { core } = makeEngine({ numKvBlocks: 100 }, { maxRunningSequences: 2 });
    const streams = [0, 1, 2].map((i) => core.addRequest({ promptIds: makePrompt(20, i), maxTokens: 30 }));
    expect(core.stats()).toMatchObject({ running: 0, waiting: 3, kvBlocksUsed: 0 });
    await Promise.resolve(); // the loop starts and the first step is in flight
    const s0 = core.stats();
    expect(s0).toMatchObject({ running: 2, runningSequences: 2, waiting: 1, kvBlocksTotal: 99, kvBlocksUsed: 4 });
    await new Promise<void>((r) => setImmediate(r));
    await new Promise<void>((r) => setImmediate(r));
    const s1 = core.stats();
    expect(s1.lastStepBatchSize).toBe(2);
    expect(s1.lastStepSequences).toBe(2);
    expect(s1.peakStepBatchSize).toBeGreaterThan(2); // the prompts' prefill, a step before
    expect(s1.numSteps).toBeGreaterThanOrEqual(2);
    await Promise.all(streams.map(collect));
    const s2 = core.stats();
    expect(s2.tokensPerSecond).toBeGreaterThan(0);
    expect(s2.running + s2.waiting + s2.kvBlocksUsed).toBe(0);
  });
});

describe('KV waste and close', () => {
  it('32 running sequences waste at most the tail of each one\'s last block', async () => {
    const { core, runner } = makeEngine({ numKvBlocks: 400 }, { maxBatchTokens: 2048 });
    const streams = Array.from({ length: 32 }, (_, i) => core.addRequest({ promptIds: makePrompt(5 + i * 3, i), maxTokens: 40 }));
    let checked = 0;
    while (runner.numSteps < 20) {
      await new Promise<void>((r) => setImmediate(r));
      const s = core.stats();
      if (s.runningSequences === 32 && !core.scheduler.running.some((q) => q.numComputedTokens === 0)) {
        expect(s.kvSlotsAllocated - s.kvSlotsFilled).toBeLessThanOrEqual(15 * 32);
        expect(s.kvSlotsAllocated).toBe(s.kvBlocksUsed * 16);
        expect(s.kvSlotsFilled).toBe(core.scheduler.running.reduce((n, q) => n + q.numComputedTokens, 0));
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);
    await Promise.all(streams.map(collect));
    expectPoolFull(core);
  });

  it('close() aborts everything in flight and refuses new requests', async () => {
    const { core } = makeEngine();
    const a = core.addRequest({ promptIds: makePrompt(10, 1), maxTokens: 1000 });
    const b = core.addRequest({ promptIds: makePrompt(10, 2), maxTokens: 1000, n: 2 });
    await new Promise<void>((r) => setImmediate(r));
    core.close();
    expect((await collect(a)).finish).toEqual(['abort']);
    expect((await collect(b)).finish).toEqual(['abort', 'abort']);
    expect(() => core.addRequest({ promptIds: [1] })).toThrow(expect.objectContaining({ code: 'engine_not_loaded' }));
    await idle(core);
    expectPoolFull(core);
  });
});
