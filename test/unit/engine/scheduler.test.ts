// Scheduler decisions on hand-built sequences (no engine loop): what runs, in which order,
// and what happens when a sequence no longer fits the pool.
import { describe, expect, it } from 'vitest';
import { KvCacheManager } from '../../../src/engine/kv/kv-cache-manager';
import { createSequences } from '../../../src/engine/request';
import { Scheduler } from '../../../src/engine/sched/scheduler';
import { GREEDY } from '../../../src/engine/types';
import { createFakeDetokenizer, FakeRunner } from '../../../src/testing/fake-runner';
import { makePrompt, referenceOutput } from './helpers';

function criteria(maxTokens = 100) {
  return { maxTokens, eogIds: new Set<number>(), ignoreEos: false, stopTokenIds: new Set<number>(), stopStrings: [], contextLength: 4096 };
}

function seqFor(prompt: number[], n = 1, maxTokens = 100) {
  return createSequences(`r${Math.random()}`, prompt, n, GREEDY, criteria(maxTokens), createFakeDetokenizer());
}

describe('Scheduler', () => {
  it('finishes a waiting sequence that outgrew an otherwise empty pool with length (no deadlock)', () => {
    const kv = new KvCacheManager(4); // 48 tokens
    const scheduler = new Scheduler(kv, { maxBatchTokens: 512, maxRunningSequences: 8, maxQueue: 8 });
    const big = seqFor(makePrompt(60, 1)).choices[0];
    const small = seqFor(makePrompt(5, 2)).choices[0];
    scheduler.add(big);
    scheduler.add(small);
    const step = scheduler.schedule();
    expect(step.finished.map((u) => [u.seq, u.finishReason])).toEqual([[big, 'length']]);
    expect(step.scheduled.map((s) => s.seq)).toEqual([small]);
    expect(kv.checkInvariants()).toEqual([]);
  });

  it('keeps the waiting head queued while running sequences hold the blocks it needs', () => {
    const kv = new KvCacheManager(5); // 4 usable
    const scheduler = new Scheduler(kv, { maxBatchTokens: 512, maxRunningSequences: 8, maxQueue: 8 });
    const a = seqFor(makePrompt(40, 1)).choices[0]; // 3 blocks
    const b = seqFor(makePrompt(30, 2)).choices[0]; // 2 blocks: does not fit yet
    scheduler.add(a);
    scheduler.add(b);
    const step = scheduler.schedule();
    expect(step.scheduled.map((s) => [s.seq, s.numNewTokens, s.sample])).toEqual([[a, 40, true]]);
    expect(step.finished).toEqual([]);
    expect(scheduler.waiting).toEqual([b]);
  });

  it('preempts the most recently started sequence and skips admissions in that step', async () => {
    const kv = new KvCacheManager(5); // 4 usable blocks
    const scheduler = new Scheduler(kv, { maxBatchTokens: 512, maxRunningSequences: 8, maxQueue: 8 });
    const runner = new FakeRunner({ vocabSize: 1000, numKvBlocks: 5, yieldEachStep: false });
    const a = seqFor(makePrompt(32, 1), 1, 3).choices[0];
    const b = seqFor(makePrompt(32, 2), 1, 3).choices[0];
    const c = seqFor(makePrompt(3, 3), 1, 3).choices[0];
    scheduler.add(a);
    scheduler.add(b);
    let step = scheduler.schedule();
    expect(step.scheduled.map((s) => s.seq)).toEqual([a, b]);
    scheduler.applyOutput(step, await runner.step(step.input));
    scheduler.add(c);
    // a needs a 3rd block for position 32: none free → b (newest) is preempted; c is not admitted.
    step = scheduler.schedule();
    expect(step.numPreempted).toBe(1);
    expect(step.scheduled.map((s) => s.seq)).toEqual([a]);
    expect(scheduler.waiting).toEqual([b, c]);
    expect(b.numComputedTokens).toBe(0);
    expect(b.numPreemptions).toBe(1);
    scheduler.applyOutput(step, await runner.step(step.input));
    // b comes back once a finishes, recomputing its prompt and its first output token.
    for (let guard = 0; scheduler.hasWork(); guard++) {
      expect(guard).toBeLessThan(50);
      step = scheduler.schedule();
      scheduler.applyOutput(step, await runner.step(step.input));
    }
    const recompute = runner.inputs.find((input) => input.sequences.some((q) => q.contextLength === 33 && q.queryLength > 1));
    expect(recompute).toBeDefined();
    expect(a.outputIds).toEqual(referenceOutput(makePrompt(32, 1), 3));
    expect(b.outputIds).toEqual(referenceOutput(makePrompt(32, 2), 3));
    expect(c.outputIds).toEqual(referenceOutput(makePrompt(3, 3), 3));
    expect(kv.numFreeBlocks).toBe(kv.numUsableBlocks);
  });

  it('emits block copies for forked children that write a shared partial block', async () => {
    const kv = new KvCacheManager(20);
    const scheduler = new Scheduler(kv, { maxBatchTokens: 512, maxRunningSequences: 8, maxQueue: 8 });
    const runner = new FakeRunner({ vocabSize: 1000, numKvBlocks: 20, yieldEachStep: false });
    const { parent, choices } = seqFor(makePrompt(21, 5), 3);
    scheduler.add(parent!);
    let step = scheduler.schedule();
    expect(step.scheduled.map((s) => [s.numNewTokens, s.sample])).toEqual([[20, false]]);
    const updates = scheduler.applyOutput(step, await runner.step(step.input));
    expect(updates[0].forked).toEqual(choices);
    expect(scheduler.running).toEqual(choices);
    step = scheduler.schedule();
    expect(step.scheduled.map((s) => [s.numNewTokens, s.sample])).toEqual([
      [1, true],
      [1, true],
      [1, true],
    ]);
    expect(step.input.blockCopies).toHaveLength(2);
    expect(step.input.sequences[0].blockTable[0]).toBe(step.input.sequences[2].blockTable[0]);
    scheduler.applyOutput(step, await runner.step(step.input));
    expect(choices.map((c) => c.outputIds)).toEqual([0, 1, 2].map(() => referenceOutput(makePrompt(21, 5), 1)));
    expect(kv.checkInvariants()).toEqual([]);
  });

  it('throws queue_full beyond maxQueue waiting sequences', () => {
    const scheduler = new Scheduler(new KvCacheManager(10), { maxBatchTokens: 8, maxRunningSequences: 1, maxQueue: 1 });
    scheduler.add(seqFor([1, 2]).choices[0]);
    expect(() => scheduler.add(seqFor([1, 2]).choices[0])).toThrow(expect.objectContaining({ code: 'queue_full' }));
  });
});
