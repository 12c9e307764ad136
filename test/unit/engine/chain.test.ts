// Chained decode steps (src/engine/sched/chain.ts): the engine submits the next decode step
// before the current one's ids are back, and the runner feeds them on its side
// (fromPreviousStep). Outputs must equal the engine's one-step-at-a-time outputs bit for bit
// under every mix (EOS, stop strings, max_tokens, n > 1, seeded sampling, logprobs,
// penalties, arrivals, preemption, prefix hits, sliding windows); a row whose sequence ends
// wastes one chained row and nothing else; aborts and runner failures leave the KV pool whole.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EngineCore } from '../../../src/engine/core';
import { KvCacheManager } from '../../../src/engine/kv/kv-cache-manager';
import { createSequences, type Sequence } from '../../../src/engine/request';
import { canChain, scheduleChained } from '../../../src/engine/sched/chain';
import { Scheduler } from '../../../src/engine/sched/scheduler';
import { GREEDY, type SamplingParams, type StepInput } from '../../../src/engine/types';
import type { TokenMatcher } from '../../../src/grammar/backend';
import { createFakeDetokenizer, FakeRunner, type FakeRunnerOptions } from '../../../src/testing/fake-runner';
import { collect, idle, makeEngine, makePrompt, referenceOutput, VOCAB, type Collected } from './helpers';

const SEEDED: SamplingParams = { ...GREEDY, temperature: 0.8, seed: 11 };
/** Choice k's logprobs in order (events of several choices interleave by timing). */
const logprobsOf = (out: Collected, k: number) => out.events.filter((e) => e.index === k).flatMap((e) => e.logprobs ?? []);
const chainedSteps = (inputs: StepInput[]) => inputs.filter((i) => (i.fromPreviousStep?.length ?? 0) > 0).length;

function expectPoolWhole(core: EngineCore): void {
  expect(core.kv.checkInvariants()).toEqual([]);
  expect(core.kv.numUsedBlocks).toBe(0);
}

describe('chained decode steps through EngineCore', () => {
  it('a lone decode run submits every step after the first behind the one in flight, with the same ids', async () => {
    const prompt = makePrompt(9, 1);
    const { core, runner } = makeEngine();
    const out = await collect(core.addRequest({ promptIds: prompt, maxTokens: 20 }));
    expect(out.ids[0]).toEqual(referenceOutput(prompt, 20));
    // The prefill samples token 1; steps 2..20 each feed the token before them from the GPU side.
    expect(runner.numSteps).toBe(20);
    expect(chainedSteps(runner.inputs)).toBe(19);
    expect(runner.maxStepsInFlight).toBe(2);
    // The host sends placeholders for fed tokens.
    for (const input of runner.inputs.slice(1)) expect(Array.from(input.tokenIds)).toEqual([0]);
    expectPoolWhole(core);
  });

  it('chainSteps: false, or a runner that does not chain, runs one step at a time', async () => {
    const prompt = makePrompt(9, 1);
    for (const [runnerOptions, options] of [[{}, { chainSteps: false }], [{ chainsSteps: false }, {}]] as const) {
      const { core, runner } = makeEngine(runnerOptions, options);
      const out = await collect(core.addRequest({ promptIds: prompt, maxTokens: 12 }));
      expect(out.ids[0]).toEqual(referenceOutput(prompt, 12));
      expect(chainedSteps(runner.inputs)).toBe(0);
      expect(runner.maxStepsInFlight).toBe(1);
    }
  });

  it('a sequence that ends at EOS or a stop string mid-chain wastes one row; its output equals the unchained one', async () => {
    const prompt = makePrompt(7, 3);
    const ref = referenceOutput(prompt, 30);
    const eos = ref[6];
    const letters = createFakeDetokenizer();
    const stop = letters().push(ref[9]); // the fake detokenizer's piece of the 10th token
    for (const req of [{ eogIds: [eos] }, { stop: [stop] }]) {
      const outs: Collected[] = [];
      const steps: number[] = [];
      for (const chainSteps of [false, true]) {
        const { core, runner } = makeEngine({}, { chainSteps }, req.eogIds ?? []);
        outs.push(await collect(core.addRequest({ promptIds: prompt, maxTokens: 30, stop: req.stop })));
        steps.push(runner.numSteps);
        await idle(core);
        expectPoolWhole(core);
      }
      expect(outs[1].ids).toEqual(outs[0].ids);
      expect(outs[1].text).toEqual(outs[0].text);
      expect(outs[1].finish).toEqual(['stop']);
      expect(steps[1]).toBe(steps[0] + 1); // the row chained behind the last token
    }
  });

  it('max_tokens and the context end are known ahead: no row is chained past them', async () => {
    const prompt = makePrompt(5, 4);
    const { core, runner } = makeEngine({ contextLength: 64 });
    const [a, b] = await Promise.all([
      collect(core.addRequest({ promptIds: prompt, maxTokens: 6 })),
      collect(core.addRequest({ promptIds: makePrompt(50, 5) })), // until the context (64) is full
    ]);
    expect(a.ids[0]).toEqual(referenceOutput(prompt, 6));
    expect(a.finish).toEqual(['length']);
    expect(b.ids[0]).toHaveLength(14);
    expect(b.finish).toEqual(['length']);
    // 14 steps for the longer one; no step after its last token.
    expect(runner.numSteps).toBe(14);
    expectPoolWhole(core);
  });

  it('rows with penalties or a grammar mask are not chained (they need the last token on the host)', async () => {
    const prompt = makePrompt(8, 6);
    const { core, runner } = makeEngine();
    const withPenalty = await collect(core.addRequest({ promptIds: prompt, maxTokens: 8, sampling: { presencePenalty: 0.5 } }));
    expect(withPenalty.ids[0]).toHaveLength(8);
    expect(chainedSteps(runner.inputs)).toBe(0);
    // A penalty row in the batch keeps the others unchained too; once it ends they chain again.
    const [plain, pen] = await Promise.all([
      collect(core.addRequest({ promptIds: makePrompt(8, 7), maxTokens: 12 })),
      collect(core.addRequest({ promptIds: makePrompt(8, 8), maxTokens: 4, sampling: { frequencyPenalty: 0.3 } })),
    ]);
    expect(plain.ids[0]).toEqual(referenceOutput(makePrompt(8, 7), 12));
    expect(pen.ids[0]).toHaveLength(4);
    const later = runner.inputs.slice(1);
    expect(later.filter((i) => i.sequences.length === 2 && i.fromPreviousStep !== undefined)).toEqual([]);
    expect(chainedSteps(later)).toBeGreaterThan(0);
  });

  it('logprobs rows chain, and their logprobs come back with the chained step', async () => {
    const prompt = makePrompt(8, 9);
    const sampling = { ...SEEDED, logprobs: true, topLogprobs: 2 };
    const outs: Collected[] = [];
    for (const chainSteps of [false, true]) {
      const { core } = makeEngine({}, { chainSteps });
      outs.push(await collect(core.addRequest({ promptIds: prompt, maxTokens: 10, sampling })));
    }
    expect(logprobsOf(outs[1], 0)).toEqual(logprobsOf(outs[0], 0));
    expect(logprobsOf(outs[1], 0)).toHaveLength(10);
    expect(outs[1].ids[0]).toEqual(referenceOutput(prompt, 10, { ...GREEDY, ...sampling }));
  });

  it('a request arriving mid-chain is admitted at the next step (the chain stops for it, then resumes)', async () => {
    const a = makePrompt(6, 10);
    const b = makePrompt(21, 11);
    const { core, runner } = makeEngine();
    const sa = collect(core.addRequest({ promptIds: a, maxTokens: 25 }));
    for (let i = 0; i < 6; i++) await new Promise<void>((r) => setImmediate(r));
    const sb = collect(core.addRequest({ promptIds: b, maxTokens: 10 }));
    const [oa, ob] = await Promise.all([sa, sb]);
    expect(oa.ids[0]).toEqual(referenceOutput(a, 25));
    expect(ob.ids[0]).toEqual(referenceOutput(b, 10));
    // The step that admits b carries its prefill and is scheduled on the host (not chained).
    const admitting = runner.inputs.findIndex((i) => i.sequences.some((q) => q.queryLength === b.length));
    expect(admitting).toBeGreaterThan(1);
    expect(runner.inputs[admitting].fromPreviousStep).toBeUndefined();
    // After it both rows decode chained.
    expect(runner.inputs.slice(admitting + 1).some((i) => i.fromPreviousStep?.length === 2)).toBe(true);
    expectPoolWhole(core);
  });

  it('an abort mid-chain ends the request with abort; the pool comes back whole and the engine goes on', async () => {
    const { core, runner } = makeEngine();
    const prompt = makePrompt(10, 12);
    const ctrl = new AbortController();
    const s = core.addRequest({ promptIds: prompt, maxTokens: 200, signal: ctrl.signal });
    const other = collect(core.addRequest({ promptIds: makePrompt(10, 13), maxTokens: 40 }));
    for (let i = 0; i < 8; i++) await new Promise<void>((r) => setImmediate(r));
    expect(chainedSteps(runner.inputs)).toBeGreaterThan(0);
    ctrl.abort();
    const out = await collect(s);
    expect(out.finish).toEqual(['abort']);
    expect(out.ids[0]).toEqual(referenceOutput(prompt, out.ids[0].length));
    expect((await other).ids[0]).toEqual(referenceOutput(makePrompt(10, 13), 40));
    await idle(core);
    expectPoolWhole(core);
  });

  it('a runner failure on a chained step, or on the step before one, fails the requests in flight; the next request runs', async () => {
    for (const step of [2, 3, 4]) {
      const { core } = makeEngine({ failOnStep: { step, error: new Error('boom') } });
      const streams = [0, 1].map((i) => core.addRequest({ promptIds: makePrompt(10, 20 + i), maxTokens: 20 }));
      for (const s of streams) await expect(collect(s)).rejects.toMatchObject({ code: 'internal_error', message: /boom/ });
      // A request added while the chained step drains runs once it has.
      const next = await collect(core.addRequest({ promptIds: makePrompt(10, 30), maxTokens: 15 }));
      expect(next.ids[0]).toEqual(referenceOutput(makePrompt(10, 30), 15));
      await idle(core);
      expectPoolWhole(core);
    }
  });

  it('a prefix cached by a chained run is hit later, and serves the same output', async () => {
    const prompt = makePrompt(40, 14);
    const { core } = makeEngine();
    const first = await collect(core.addRequest({ promptIds: prompt, maxTokens: 30 }));
    const again = await collect(core.addRequest({ promptIds: [...prompt, ...first.ids[0]], maxTokens: 10 }));
    expect(again.last.usage!.cachedTokens).toBe(64); // 40 + 30 = 70 tokens: 4 full blocks of prompt and output
    expect(again.ids[0]).toEqual(referenceOutput([...prompt, ...first.ids[0]], 10));
  });
});

describe('chained and one-at-a-time engines give the same outputs (property)', () => {
  interface Req {
    promptLength: number;
    seed: number;
    maxTokens: number;
    n: number;
    mode: 'greedy' | 'seeded' | 'logprobs' | 'penalty';
    stop: boolean;
    sharePrefix: boolean;
    arriveAfter: number;
  }
  const reqArb: fc.Arbitrary<Req> = fc.record({
    promptLength: fc.integer({ min: 1, max: 60 }),
    seed: fc.integer({ min: 0, max: 500 }),
    maxTokens: fc.integer({ min: 1, max: 40 }),
    n: fc.integer({ min: 1, max: 3 }),
    mode: fc.constantFrom('greedy', 'seeded', 'seeded', 'logprobs', 'penalty'),
    stop: fc.boolean(),
    sharePrefix: fc.boolean(),
    arriveAfter: fc.integer({ min: 0, max: 12 }),
  });
  const SHARED = makePrompt(40, 999);
  const samplingOf = (r: Req): Partial<SamplingParams> =>
    r.mode === 'greedy' ? {} : r.mode === 'seeded' ? { temperature: 0.9, seed: r.seed } : r.mode === 'logprobs' ? { temperature: 0.7, seed: r.seed, logprobs: true, topLogprobs: 1 } : { presencePenalty: 0.4 };

  async function runAll(reqs: Req[], runnerOptions: FakeRunnerOptions, chainSteps: boolean, maxBatchTokens: number) {
    // EOS: ids below 12 end a sequence (about 1 in 80 tokens).
    const eog = Array.from({ length: 12 }, (_, i) => i);
    const { core, runner } = makeEngine({ ...runnerOptions, contextLength: 160 }, { chainSteps, maxBatchTokens, maxRunningSequences: 6 }, eog);
    const order = reqs.map((r, i) => ({ r, i })).sort((x, y) => x.r.arriveAfter - y.r.arriveAfter);
    const results: Promise<Collected>[] = [];
    let tick = 0;
    for (const { r, i } of order) {
      while (tick < r.arriveAfter) {
        await new Promise<void>((res) => setImmediate(res));
        tick++;
      }
      const prompt = r.sharePrefix ? [...SHARED, ...makePrompt(r.promptLength, r.seed)].slice(0, Math.max(r.promptLength, 1) + 20) : makePrompt(r.promptLength, r.seed);
      results[i] = collect(core.addRequest({ promptIds: prompt, maxTokens: r.maxTokens, n: r.n, sampling: samplingOf(r), stop: r.stop ? ['q'] : undefined }));
    }
    const outs = await Promise.all(results);
    await idle(core);
    expectPoolWhole(core);
    return { outs, runner };
  }

  it('equal ids, text, logprobs and finish reasons; every pool comes back whole', async () => {
    let anyChained = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(reqArb, { minLength: 1, maxLength: 7 }),
        fc.constantFrom<FakeRunnerOptions>({ numKvBlocks: 256 }, { numKvBlocks: 14 }, { numKvBlocks: 40, slidingWindow: 20 }),
        fc.constantFrom(512, 24),
        async (reqs, runnerOptions, maxBatchTokens) => {
          const sync = await runAll(reqs, runnerOptions, false, maxBatchTokens);
          const chained = await runAll(reqs, runnerOptions, true, maxBatchTokens);
          anyChained += chainedSteps(chained.runner.inputs);
          expect(chainedSteps(sync.runner.inputs)).toBe(0);
          for (let i = 0; i < reqs.length; i++) {
            const [s, c] = [sync.outs[i], chained.outs[i]];
            expect(c.ids).toEqual(s.ids);
            expect(c.text).toEqual(s.text);
            expect(c.finish).toEqual(s.finish);
            for (let k = 0; k < reqs[i].n; k++) expect(logprobsOf(c, k)).toEqual(logprobsOf(s, k));
          }
        },
      ),
      { numRuns: 60, seed: 20261204 },
    );
    expect(anyChained).toBeGreaterThan(100);
  });
});

describe('scheduleChained: when the next step cannot be known ahead', () => {
  function setup(numKvBlocks = 64, maxBatchTokens = 64) {
    const kv = new KvCacheManager(numKvBlocks, true);
    const scheduler = new Scheduler(kv, { maxBatchTokens, maxRunningSequences: 8, maxQueue: 100 }, VOCAB);
    const criteria = { maxTokens: 50, eogIds: new Set<number>(), ignoreEos: false, stopTokenIds: new Set<number>(), stopStrings: [], contextLength: 1000 };
    const add = (length: number, seed: number, sampling: SamplingParams = GREEDY): Sequence => {
      const [seq] = createSequences(`r${seed}`, makePrompt(length, seed), 1, sampling, criteria, createFakeDetokenizer()).choices;
      scheduler.add(seq);
      return seq;
    };
    return { kv, scheduler, add };
  }

  it('chains a decode batch: one token per row, fed from the rows it sampled, at the next position', () => {
    const { scheduler, add } = setup();
    const a = add(5, 1);
    const b = add(17, 2);
    const step = scheduler.schedule();
    const next = scheduleChained(scheduler, step)!;
    expect(next).not.toBeNull();
    expect(next.scheduled.map((s) => [s.seq, s.numNewTokens, s.sample])).toEqual([[a, 1, true], [b, 1, true]]);
    expect(Array.from(next.input.positions)).toEqual([5, 17]);
    expect(next.input.fromPreviousStep).toEqual([[0, 0], [1, 1]]);
    expect(next.input.sequences.map((s) => [s.contextLength, s.sampleIndex])).toEqual([[6, 1], [18, 1]]);
    // b's token 17 opens its second block: taken now, before the step that writes it.
    expect(next.input.sequences[1].blockTable.length).toBe(2);
    // Nothing about the sequences changed: their tokens and computed counts wait for the outputs.
    expect([a.tokenIds.length, a.numComputedTokens, b.numComputedTokens]).toEqual([5, 0, 0]);
  });

  it('null while a sequence waits, for a prefill chunk that goes on, and when a running sequence sits the step out', () => {
    const waiting = setup();
    waiting.add(5, 1);
    const s1 = waiting.scheduler.schedule();
    waiting.add(5, 2);
    expect(scheduleChained(waiting.scheduler, s1)).toBeNull();

    const chunk = setup(64, 64);
    chunk.add(100, 3);
    expect(scheduleChained(chunk.scheduler, chunk.scheduler.schedule())).toBeNull(); // 64 of 100 prompt tokens: no sample

    const sitOut = setup();
    const x = sitOut.add(5, 4);
    sitOut.add(5, 5);
    const both = sitOut.scheduler.schedule();
    const onlyX = { ...both, scheduled: both.scheduled.filter((s) => s.seq === x) };
    expect(scheduleChained(sitOut.scheduler, onlyX)).toBeNull();
  });

  it('null for grammar or penalty rows; rows that end by length are left out', () => {
    const g = setup();
    const seq = g.add(5, 1);
    const step = g.scheduler.schedule();
    seq.matcher = {} as TokenMatcher;
    expect(canChain(seq)).toBe(false);
    expect(scheduleChained(g.scheduler, step)).toBeNull();

    const p = setup();
    const pen = p.add(5, 2, { ...GREEDY, repetitionPenalty: 1.2 });
    expect(canChain(pen)).toBe(false);
    expect(scheduleChained(p.scheduler, p.scheduler.schedule())).toBeNull();

    const kv = new KvCacheManager(64, true);
    const scheduler = new Scheduler(kv, { maxBatchTokens: 64, maxRunningSequences: 8, maxQueue: 100 });
    const criteria = (maxTokens: number) => ({ maxTokens, eogIds: new Set<number>(), ignoreEos: false, stopTokenIds: new Set<number>(), stopStrings: [], contextLength: 1000 });
    const [one] = createSequences('one', makePrompt(5, 3), 1, GREEDY, criteria(1), createFakeDetokenizer()).choices;
    const [two] = createSequences('two', makePrompt(5, 4), 1, GREEDY, criteria(2), createFakeDetokenizer()).choices;
    scheduler.add(one);
    scheduler.add(two);
    const next = scheduleChained(scheduler, scheduler.schedule())!;
    expect(next.scheduled.map((s) => s.seq)).toEqual([two]); // `one` ends at its first token
  });

  it('null when the pool has no slot for a row (no one is preempted for a guess)', () => {
    // 2 usable blocks: a 16-token prompt fills one, a second 16-token prompt the other; their next tokens need a third.
    const { scheduler, add, kv } = setup(3);
    add(16, 1);
    add(16, 2);
    const step = scheduler.schedule();
    expect(scheduleChained(scheduler, step)).toBeNull();
    expect(scheduler.numPreemptions).toBe(0);
    expect(kv.checkInvariants()).toEqual([]);
  });

  it('an aborted row is dropped and its blocks freed; the others chain', () => {
    const { scheduler, add, kv } = setup();
    const a = add(5, 1);
    const b = add(5, 2);
    const step = scheduler.schedule();
    scheduler.abort(a);
    const next = scheduleChained(scheduler, step)!;
    expect(next.scheduled.map((s) => s.seq)).toEqual([b]);
    expect(next.input.fromPreviousStep).toEqual([[0, 1]]);
    expect(kv.hasBlocks(a)).toBe(false);
  });
});

describe('FakeRunner chaining', () => {
  it('feeds fromPreviousStep from the step before; refuses it after a failure or on a runner that does not chain', async () => {
    const input = (fed: boolean): StepInput => ({
      tokenIds: Int32Array.from([fed ? 0 : 5]), positions: Int32Array.from([0]),
      sequences: [{ queryStart: 0, queryLength: 1, contextLength: 1, blockTable: Int32Array.from([1]), sample: true, sampling: GREEDY, sampleIndex: 0 }],
      fromPreviousStep: fed ? [[0, 0]] : undefined,
    });
    const plain = new FakeRunner({ vocabSize: VOCAB, chainsSteps: false });
    await expect(plain.step(input(true))).rejects.toThrow(/does not chain/);
    const runner = new FakeRunner({ vocabSize: VOCAB });
    const first = runner.step(input(false));
    const second = runner.step(input(true)); // submitted while the first is in flight
    await expect(runner.step(input(true))).rejects.toThrow(/in flight/);
    const [a, b] = await Promise.all([first, second]);
    expect(runner.slotToken[16]).toBe(a.sampled[0].tokenId); // the second step wrote the first's id
    expect(b.sampled).toHaveLength(1);
    const failing = new FakeRunner({ vocabSize: VOCAB, failOnStep: { step: 1, error: new Error('boom') } });
    const f1 = failing.step(input(false));
    const f2 = failing.step(input(true));
    await expect(f1).rejects.toThrow('boom');
    await expect(f2).rejects.toThrow(/previous step failed/);
  });
});
