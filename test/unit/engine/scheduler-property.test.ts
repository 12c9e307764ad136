// Property test of the scheduler + KV cache manager over the fake runner: random sequences
// of add / step / abort / finish. After every step each block is free or referenced exactly
// as many times as block tables name it; after draining, the pool is full again; and every
// choice that was not aborted produced what the fake model produces for it alone.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KvCacheManager } from '../../../src/engine/kv/kv-cache-manager';
import { createSequences, type Sequence } from '../../../src/engine/request';
import { Scheduler } from '../../../src/engine/sched/scheduler';
import { GREEDY, type SamplingParams } from '../../../src/engine/types';
import { createFakeDetokenizer, FakeRunner } from '../../../src/testing/fake-runner';
import { makePrompt, referenceOutput, VOCAB } from './helpers';

const CONTEXT = 256;
const SHARED_PREFIX = makePrompt(48, 99);

type Command =
  | { kind: 'add'; promptLength: number; maxTokens: number; n: number; seeded: boolean; sharePrefix: boolean; seed: number }
  | { kind: 'step'; count: number }
  | { kind: 'abort'; pick: number }
  | { kind: 'finish'; pick: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('add' as const),
    promptLength: fc.integer({ min: 1, max: 70 }),
    maxTokens: fc.integer({ min: 1, max: 40 }),
    n: fc.integer({ min: 1, max: 3 }),
    seeded: fc.boolean(),
    sharePrefix: fc.boolean(),
    seed: fc.integer({ min: 0, max: 1000 }),
  }),
  fc.record({ kind: fc.constant('step' as const), count: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }),
);

interface Live {
  prompt: number[];
  sampling: SamplingParams;
  maxTokens: number;
  choices: Sequence[];
  parent: Sequence | null;
  aborted: boolean;
}

async function runScenario(commands: Command[], numKvBlocks: number, maxBatchTokens: number, maxRunningSequences: number, caching: boolean) {
  const runner = new FakeRunner({ vocabSize: VOCAB, numKvBlocks, contextLength: CONTEXT, yieldEachStep: false });
  const kv = new KvCacheManager(numKvBlocks, caching);
  const scheduler = new Scheduler(kv, { maxBatchTokens, maxRunningSequences, maxQueue: 1000 });
  const requests: Live[] = [];
  const check = () => expect(kv.checkInvariants()).toEqual([]);
  const unfinished = (r: Live) => !r.aborted && r.choices.some((s) => s.status !== 'finished');

  const step = async () => {
    const s = scheduler.schedule();
    check();
    if (s.scheduled.length > 0) scheduler.applyOutput(s, await runner.step(s.input));
    check();
  };

  for (const cmd of commands) {
    if (cmd.kind === 'add') {
      const own = makePrompt(cmd.promptLength, cmd.seed);
      const prompt = cmd.sharePrefix ? [...SHARED_PREFIX, ...own].slice(0, Math.max(cmd.promptLength, 49)) : own;
      const sampling = cmd.seeded ? { ...GREEDY, temperature: 1, seed: cmd.seed } : GREEDY;
      const criteria = { maxTokens: cmd.maxTokens, eogIds: new Set<number>(), ignoreEos: false, stopTokenIds: new Set<number>(), stopStrings: [], contextLength: CONTEXT };
      const { choices, parent } = createSequences(`r${requests.length}`, prompt, cmd.n, sampling, criteria, createFakeDetokenizer());
      for (const seq of parent !== null ? [parent] : choices) scheduler.add(seq);
      requests.push({ prompt, sampling, maxTokens: cmd.maxTokens, choices, parent, aborted: false });
    } else if (cmd.kind === 'step') {
      for (let i = 0; i < cmd.count; i++) await step();
    } else {
      const live = requests.filter(unfinished);
      if (live.length === 0) continue;
      const r = live[cmd.pick % live.length];
      if (cmd.kind === 'abort') {
        r.aborted = true;
        if (r.parent) scheduler.abort(r.parent);
        r.choices.forEach((s) => scheduler.abort(s));
      } else {
        for (let guard = 0; unfinished(r) && guard < 2000; guard++) await step();
        expect(unfinished(r)).toBe(false);
      }
    }
  }
  for (let guard = 0; scheduler.hasWork(); guard++) {
    expect(guard).toBeLessThan(5000);
    await step();
  }
  expect(kv.numFreeBlocks).toBe(kv.numUsableBlocks);
  expect(kv.numSequences).toBe(0);
  for (const r of requests) {
    if (r.aborted) continue;
    r.choices.forEach((seq, i) => {
      const out = seq.outputIds;
      // 7 usable blocks hold any 70 + 40 token sequence; smaller pools may end one early ('length').
      if (numKvBlocks >= 8) expect(out.length).toBeGreaterThan(0);
      expect(out.length).toBeLessThanOrEqual(r.maxTokens);
      expect(out).toEqual(referenceOutput(r.prompt, out.length, { ...r.sampling, seed: r.sampling.seed + i }));
    });
  }
}

describe('scheduler property', () => {
  it('keeps ref counts exact, drains to a full pool and never changes outputs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(commandArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 3, max: 40 }), // KV blocks, from too small for one sequence to roomy
        fc.integer({ min: 1, max: 96 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        (commands, numKvBlocks, maxBatchTokens, maxRunning, caching) => runScenario(commands, numKvBlocks, maxBatchTokens, maxRunning, caching),
      ),
      { numRuns: Number(process.env.PROP_RUNS ?? 150) },
    );
  });
});
