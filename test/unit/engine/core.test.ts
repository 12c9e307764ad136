// EngineCore over the fake runner: outputs, batching, chunked prefill, prefix caching,
// preemption, forks, limits and failures. Every test checks the pool is full afterwards.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/engine/errors';
import { GREEDY, type SamplingParams } from '../../../src/engine/types';
import { collect, makeEngine, makePrompt, referenceOutput } from './helpers';

const SEEDED: SamplingParams = { ...GREEDY, temperature: 0.8, seed: 1234 };

function expectPoolFull(core: ReturnType<typeof makeEngine>['core']) {
  expect(core.kv.numFreeBlocks).toBe(core.kv.numUsableBlocks);
  expect(core.kv.checkInvariants()).toEqual([]);
  expect(core.kv.numSequences).toBe(0);
}

describe('EngineCore: one request', () => {
  it('generates the fake model greedy ids, finishes with length and reports usage', async () => {
    const { core } = makeEngine();
    const prompt = makePrompt(37, 1);
    const out = await collect(core.addRequest({ promptIds: prompt, maxTokens: 12 }));
    expect(out.ids[0]).toEqual(referenceOutput(prompt, 12));
    expect(out.finish).toEqual(['length']);
    expect(out.last.usage).toEqual({ promptTokens: 37, completionTokens: 12, cachedTokens: 0 });
    expect(out.last.timings!.ttftMs).toBeGreaterThanOrEqual(0);
    expect(out.last.timings!.queueMs).toBeGreaterThanOrEqual(0);
    expect(out.text[0]).toBe(out.ids[0].map((id) => String.fromCharCode(97 + (id % 26))).join(''));
    expect(out.events.filter((e) => e.usage !== undefined)).toHaveLength(1);
    expectPoolFull(core);
  });

  it('passes logprobs and penalty statistics through', async () => {
    const { core, runner } = makeEngine();
    const prompt = [5, 6, 5, 7];
    const out = await collect(
      core.addRequest({ promptIds: prompt, maxTokens: 3, sampling: { logprobs: true, topLogprobs: 2, presencePenalty: 0.5 } }),
    );
    const lp = out.events.flatMap((e) => e.logprobs ?? []);
    expect(lp.map((l) => l.tokenId)).toEqual(out.ids[0]);
    expect(lp[0].topLogprobs).toHaveLength(2);
    const last = runner.inputs[runner.inputs.length - 1].sequences[0];
    const counts = new Map(Array.from(last.penalties!.tokenIds, (id, i) => [id, last.penalties!.outputCounts[i]]));
    // After two outputs: prompt ids count 0 in the output unless generated.
    for (const id of [5, 6, 7]) expect(counts.has(id)).toBe(true);
    const expected = new Map<number, number>();
    for (const id of out.ids[0].slice(0, 2)) expected.set(id, (expected.get(id) ?? 0) + 1);
    for (const [id, n] of expected) expect(counts.get(id)).toBe(n);
    expect(last.sampleIndex).toBe(2);
  });

  it('stops on an end-of-generation id unless ignore_eos', async () => {
    const script = [3, 4, 9, 5, 6];
    const nextToken = (context: number[]) => script[context.length - 2] ?? 1;
    let { core } = makeEngine({ nextToken }, {}, [9]);
    let out = await collect(core.addRequest({ promptIds: [1, 2], maxTokens: 10 }));
    expect(out.ids[0]).toEqual([3, 4, 9]);
    expect(out.text[0]).toBe('de');
    expect(out.finish[0]).toBe('stop');
    ({ core } = makeEngine({ nextToken }, {}, [9]));
    out = await collect(core.addRequest({ promptIds: [1, 2], maxTokens: 5, ignoreEos: true }));
    expect(out.ids[0]).toEqual(script);
    expect(out.finish[0]).toBe('length');
    ({ core } = makeEngine({ nextToken }, {}, [9]));
    out = await collect(core.addRequest({ promptIds: [1, 2], maxTokens: 5, ignoreEos: true, stopTokenIds: [5] }));
    expect(out.ids[0]).toEqual([3, 4, 9, 5]);
    expect(out.finish[0]).toBe('stop');
  });

  it('cuts stop strings that span tokens and never streams the cut text', async () => {
    // Tokens spell "xyENxENDzz": "EN" is held back, released at "x", then "END" stops.
    const letters = 'xyENxENDzz';
    const piece = (id: number) => (id >= 100 ? letters[id - 100] : '?');
    const { EngineCore } = await import('../../../src/engine/core');
    const { FakeRunner } = await import('../../../src/testing/fake-runner');
    const runner = new FakeRunner({ vocabSize: 200, nextToken: (ctx) => 100 + ctx.length - 1 });
    const core = new EngineCore({ runner, createDetokenizer: () => ({ push: piece, flush: () => '' }), eogIds: [] });
    const out = await collect(core.addRequest({ promptIds: [0], maxTokens: 10, stop: ['END', 'nope'] }));
    expect(out.text[0]).toBe('xyENx');
    expect(out.finish[0]).toBe('stop');
    expect(out.events.map((e) => e.text)).toEqual(['x', 'y', '', '', 'ENx', '', '', '']);
    expect(out.ids[0]).toHaveLength(8);
  });
});

describe('EngineCore: limits and validation', () => {
  it('rejects a prompt that leaves no room in the context with context_length_exceeded', () => {
    const { core } = makeEngine({ contextLength: 64 });
    const err = (() => {
      try {
        core.addRequest({ promptIds: makePrompt(64, 1) });
      } catch (e) {
        return e;
      }
    })() as EngineError;
    expect(err).toBeInstanceOf(EngineError);
    expect(err.code).toBe('context_length_exceeded');
    expect(err.message).toMatch(/64 tokens/);
  });

  it('rejects a prompt larger than the whole KV pool with context_length_exceeded', () => {
    const { core } = makeEngine({ numKvBlocks: 4 }); // 3 usable blocks = 48 tokens
    expect(() => core.addRequest({ promptIds: makePrompt(48, 1) })).toThrow(expect.objectContaining({ code: 'context_length_exceeded' }));
  });

  it('finishes with length when decoding reaches the context', async () => {
    const { core } = makeEngine({ contextLength: 40 });
    const out = await collect(core.addRequest({ promptIds: makePrompt(30, 2), maxTokens: 100 }));
    expect(out.ids[0]).toEqual(referenceOutput(makePrompt(30, 2), 10));
    expect(out.finish[0]).toBe('length');
    expectPoolFull(core);
  });

  it('throws queue_full when maxQueue requests wait', async () => {
    const { core } = makeEngine({}, { maxRunningSequences: 1, maxQueue: 2 });
    const streams = [0, 1].map((i) => core.addRequest({ promptIds: makePrompt(5, i), maxTokens: 3 }));
    await Promise.resolve(); // request 0 starts running
    streams.push(core.addRequest({ promptIds: makePrompt(5, 2), maxTokens: 3 }));
    expect(core.stats().waiting).toBe(2);
    expect(() => core.addRequest({ promptIds: [1], maxTokens: 1 })).toThrow(expect.objectContaining({ code: 'queue_full' }));
    const outs = await Promise.all(streams.map(collect));
    outs.forEach((o, i) => expect(o.ids[0]).toEqual(referenceOutput(makePrompt(5, i), 3)));
    expectPoolFull(core);
  });

  it('rejects bad input with invalid_request naming the parameter', () => {
    const { core } = makeEngine();
    const cases: Array<[Parameters<typeof core.addRequest>[0], string]> = [
      [{ promptIds: [] }, 'prompt'],
      [{ promptIds: [1, 1000] }, 'prompt'],
      [{ promptIds: [1, -1] }, 'prompt'],
      [{ promptIds: [1], n: 0 }, 'n'],
      [{ promptIds: [1], maxTokens: 0 }, 'max_tokens'],
      [{ promptIds: [1], sampling: { temperature: -1 } }, 'temperature'],
      [{ promptIds: [1], sampling: { topP: 0 } }, 'top_p'],
      [{ promptIds: [1], sampling: { topLogprobs: 21 } }, 'top_logprobs'],
      [{ promptIds: [1], stop: [''] }, 'stop'],
    ];
    for (const [req, param] of cases) {
      expect(() => core.addRequest(req)).toThrow(expect.objectContaining({ code: 'invalid_request', param }));
    }
    const controller = new AbortController();
    controller.abort();
    expect(() => core.addRequest({ promptIds: [1], signal: controller.signal })).toThrow(expect.objectContaining({ code: 'aborted' }));
    expect(core.stats().waiting).toBe(0);
  });
});

describe('EngineCore: batching', () => {
  it('16 concurrent requests each produce what they produce alone (greedy and seeded)', async () => {
    const { core, runner } = makeEngine({}, { maxBatchTokens: 64 });
    const reqs = Array.from({ length: 16 }, (_, i) => ({
      prompt: makePrompt(1 + ((i * 23) % 90), i),
      maxTokens: 3 + ((i * 7) % 20),
      sampling: i % 2 === 0 ? GREEDY : { ...SEEDED, seed: i },
    }));
    const outs = await Promise.all(reqs.map((r) => collect(core.addRequest({ promptIds: r.prompt, maxTokens: r.maxTokens, sampling: r.sampling }))));
    outs.forEach((o, i) => expect(o.ids[0]).toEqual(referenceOutput(reqs[i].prompt, reqs[i].maxTokens, reqs[i].sampling)));
    // They really were batched: some step ran many sequences at once.
    expect(Math.max(...runner.inputs.map((s) => s.sequences.length))).toBeGreaterThanOrEqual(12);
    expect(Math.max(...runner.inputs.map((s) => s.tokenIds.length))).toBeLessThanOrEqual(64);
    expectPoolFull(core);
  });

  it('chunks a long prefill across steps under the token budget', async () => {
    const { core, runner } = makeEngine({}, { maxBatchTokens: 32 });
    const prompt = makePrompt(100, 3);
    const out = await collect(core.addRequest({ promptIds: prompt, maxTokens: 4 }));
    expect(out.ids[0]).toEqual(referenceOutput(prompt, 4));
    const shapes = runner.inputs.map((s) => [s.sequences[0].queryLength, s.sequences[0].contextLength, s.sequences[0].sample]);
    expect(shapes).toEqual([
      [32, 32, false],
      [32, 64, false],
      [32, 96, false],
      [4, 100, true],
      [1, 101, true],
      [1, 102, true],
      [1, 103, true],
    ]);
    expectPoolFull(core);
  });

  it('gives running decodes their token before waiting prefill', async () => {
    const { core, runner } = makeEngine({}, { maxBatchTokens: 16 });
    const a = core.addRequest({ promptIds: makePrompt(4, 1), maxTokens: 6 });
    await new Promise<void>((r) => setImmediate(r));
    const b = core.addRequest({ promptIds: makePrompt(40, 2), maxTokens: 2 });
    const [oa, ob] = await Promise.all([collect(a), collect(b)]);
    expect(oa.ids[0]).toEqual(referenceOutput(makePrompt(4, 1), 6));
    expect(ob.ids[0]).toEqual(referenceOutput(makePrompt(40, 2), 2));
    const mixed = runner.inputs.find((s) => s.sequences.length === 2)!;
    expect(mixed.sequences[0].queryLength).toBe(1); // a's decode first
    expect(mixed.sequences[1].queryLength).toBe(15); // b's chunk fills the rest
  });
});

describe('EngineCore: prefix cache', () => {
  it('a second request sharing a 200-token prefix reports 192 cached tokens and the same output', async () => {
    const prefix = makePrompt(200, 9);
    const p1 = [...prefix, 1, 2, 3];
    const p2 = [...prefix, 7, 8, 9, 10, 11];
    const { core, runner } = makeEngine();
    const o1 = await collect(core.addRequest({ promptIds: p1, maxTokens: 5 }));
    expect(o1.last.usage!.cachedTokens).toBe(0);
    const stepsBefore = runner.inputs.length;
    const o2 = await collect(core.addRequest({ promptIds: p2, maxTokens: 5 }));
    expect(o2.last.usage).toEqual({ promptTokens: 205, completionTokens: 5, cachedTokens: 192 });
    expect(runner.inputs[stepsBefore].sequences[0].queryLength).toBe(205 - 192);
    const { core: noCache } = makeEngine({}, { enablePrefixCaching: false });
    const ref = await collect(noCache.addRequest({ promptIds: p2, maxTokens: 5 }));
    expect(ref.last.usage!.cachedTokens).toBe(0);
    expect(o2.ids[0]).toEqual(ref.ids[0]);
    expect(o2.ids[0]).toEqual(referenceOutput(p2, 5));
    expect(core.stats().prefixCacheHitRate).toBeCloseTo(192 / (203 + 205), 6);
    expectPoolFull(core);
  });

  it('does not share prefixes across cache salts', async () => {
    const prompt = makePrompt(64, 4);
    const { core } = makeEngine();
    await collect(core.addRequest({ promptIds: prompt, maxTokens: 2, cacheSalt: 'alice' }));
    const bob = await collect(core.addRequest({ promptIds: prompt, maxTokens: 2, cacheSalt: 'bob' }));
    const alice = await collect(core.addRequest({ promptIds: prompt, maxTokens: 2, cacheSalt: 'alice' }));
    expect(bob.last.usage!.cachedTokens).toBe(0);
    expect(alice.last.usage!.cachedTokens).toBe(48);
    expect(alice.ids[0]).toEqual(bob.ids[0]);
  });

  it('a cached prefix survives until its blocks are evicted from the LRU end', async () => {
    const { core } = makeEngine({ numKvBlocks: 12 }); // 11 usable
    const a = makePrompt(64, 1);
    await collect(core.addRequest({ promptIds: a, maxTokens: 1 })); // 5 blocks, cached 4 full
    await collect(core.addRequest({ promptIds: makePrompt(90, 2), maxTokens: 1 })); // 6 blocks: fits without evicting a
    expect((await collect(core.addRequest({ promptIds: a, maxTokens: 1 }))).last.usage!.cachedTokens).toBe(48);
    await collect(core.addRequest({ promptIds: makePrompt(170, 3), maxTokens: 1 })); // 11 blocks: evicts everything
    expect((await collect(core.addRequest({ promptIds: a, maxTokens: 1 }))).last.usage!.cachedTokens).toBe(0);
    expectPoolFull(core);
  });
});

describe('EngineCore: timings', () => {
  it('reports queue time, time to first token and decode tokens/s from the injected clock', async () => {
    let clock = 1000;
    const { FakeRunner, createFakeDetokenizer } = await import('../../../src/testing/fake-runner');
    const { EngineCore } = await import('../../../src/engine/core');
    // One step at a time (a chained step would start its 10 ms before the previous one is applied).
    const runner = new FakeRunner({ vocabSize: 1000, chainsSteps: false });
    const step = runner.step.bind(runner);
    runner.step = async (input) => {
      clock += 10; // every step takes 10 ms
      return step(input);
    };
    const core = new EngineCore({ runner, createDetokenizer: createFakeDetokenizer(), eogIds: [], options: { now: () => clock, maxRunningSequences: 1 } });
    const a = core.addRequest({ promptIds: makePrompt(8, 1), maxTokens: 5 });
    const b = core.addRequest({ promptIds: makePrompt(8, 2), maxTokens: 2 });
    const [oa, ob] = await Promise.all([collect(a), collect(b)]);
    // a: scheduled at 1000, tokens at 1010 … 1050.
    expect(oa.last.timings).toEqual({ queueMs: 0, ttftMs: 10, decodeTokensPerSecond: 100 });
    // b waits for a's 5 steps, then 2 steps of its own.
    expect(ob.last.timings).toEqual({ queueMs: 50, ttftMs: 60, decodeTokensPerSecond: 100 });
    const s = core.stats();
    expect(s.lastStepMs).toBe(10);
    expect(s.tokensPerSecond).toBe(100);
  });
});
