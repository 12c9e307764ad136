// Chained decode steps: the next step scheduled while the current one is still on the GPU.
//
// A decode step's successor is known before its ids are: the same sequences, one token each,
// the token each one is sampling now. So the engine schedules step N + 1 right after it
// submits step N, the runner records and submits it at once and takes the ids on the GPU
// (StepInput.fromPreviousStep), and the readback of N overlaps the work of N + 1:
//
//   sync      N: record ▸ GPU ▸ read back ▸ apply │ N+1: record ▸ GPU ▸ read back ▸ apply
//   chained   N: record ▸ GPU ▸ read back ▸ apply
//                N+1:     record ▸ ········ GPU ▸ read back ▸ apply     (N+2 chained here)
//
// Nothing about a sequence changes until its output is applied: `tokenIds` holds known ids
// only and `numComputedTokens` grows at apply, so the prefix cache never hashes a token that
// is not back yet. A chained row is a guess that the sequence goes on; a row whose sequence
// ended at N's output (EOS, a stop string, an abort) is dropped when N + 1's output comes
// (Scheduler.applyOutput skips a sequence that is not running). The K/V it wrote sits past
// every cached block of a sequence whose blocks are free again, and any later owner of that
// block writes it after (queue order), so the guess costs one wasted row.
//
// A step chains only when it is exactly what the sync scheduler would do next, so outputs
// are the same bits either way (the tests run both):
//   - no sequence is waiting (admission, preemption and prefix lookups stay synchronous),
//   - every row of N samples (no prefill chunk goes on, no fork parent), and every running
//     sequence is a row of N (none sits out for a grammar mask),
//   - every row can be fed without its token on the CPU: no grammar mask, no penalties
//     (both are built from the output so far),
//   - rows that end by length at N's token are left out (they end for sure),
//   - the KV pool has the slots without preempting anyone, and the rows fit maxBatchTokens.

import { KV_BLOCK_SIZE, type SequenceInput, type StepInput } from '../types';
import type { KvCacheManager } from '../kv/kv-cache-manager';
import type { Sequence } from '../request';
import type { ScheduledSequence, ScheduledStep, Scheduler } from './scheduler';

/** The sequence's next token can be fed from the GPU: no grammar mask or penalty list needs it first. */
export function canChain(seq: Sequence): boolean {
  return seq.matcher === null && !seq.usesPenalties && !seq.isForkParent;
}

/**
 * Step N + 1 for the step `prev` (N) in flight, or null when it cannot be known before N's
 * output is applied (then the engine waits for N and schedules as usual). Every step before
 * N must have been applied. Takes the KV slots it needs; frees aborted sequences' blocks.
 */
export function scheduleChained(scheduler: Scheduler, prev: ScheduledStep): ScheduledStep | null {
  if (scheduler.waiting.length > 0) return null;
  if (!prev.scheduled.every((s) => s.sample)) return null;
  // Before the seat check: an aborted sequence must not keep the chain from forming.
  scheduler.collectAborted();
  const inPrev = new Set(prev.scheduled.map((s) => s.seq));
  if (!scheduler.running.every((seq) => inPrev.has(seq))) return null;

  const rows: Array<{ entry: ScheduledSequence; row: number }> = [];
  prev.scheduled.forEach((entry, row) => {
    const seq = entry.seq;
    if (seq.status !== 'running') return; // aborted while N was in flight
    // N's token is its numOutputTokens + 1-th; the sequence will hold tokenIds.length + 1.
    if (seq.stop!.endsByLength(seq.numOutputTokens + 1, seq.tokenIds.length + 1)) return;
    rows.push({ entry, row });
  });
  if (rows.length === 0 || rows.length > scheduler.options.maxBatchTokens) return null;
  if (!rows.every(({ entry }) => canChain(entry.seq))) return null;

  const scheduled: ScheduledSequence[] = [];
  const blockCopies: Array<[number, number]> = [];
  for (const { entry } of rows) {
    // Slots for N's tokens and this one, counted from what is computed before N (applied later).
    const alloc = scheduler.kv.allocateSlots(entry.seq, entry.numNewTokens + 1);
    // Slots taken so far stay with their sequences: the next sync step uses them.
    if (alloc === null) return null;
    blockCopies.push(...alloc.blockCopies);
    scheduled.push({ seq: entry.seq, numNewTokens: 1, sample: true });
  }
  return { scheduled, input: chainedInput(scheduler.kv, rows.map((r) => r.row), scheduled, blockCopies), finished: [], numPreempted: 0 };
}

/** One token per row at position tokenIds.length (N's token, not known yet: a placeholder the runner overwrites). */
function chainedInput(kv: KvCacheManager, prevRows: number[], scheduled: ScheduledSequence[], blockCopies: Array<[number, number]>): StepInput {
  const n = scheduled.length;
  const tokenIds = new Int32Array(n); // [n] placeholders (0)
  const positions = new Int32Array(n); // [n]
  const sequences: SequenceInput[] = scheduled.map(({ seq }, t) => {
    const position = seq.tokenIds.length;
    positions[t] = position;
    const blockTable = kv.blockTable(seq);
    if (blockTable.length * KV_BLOCK_SIZE <= position) throw new Error(`chain: sequence ${seq.seqId} has no slot for position ${position}`);
    return {
      queryStart: t,
      queryLength: 1,
      contextLength: position + 1,
      blockTable,
      sample: true,
      sampling: seq.sampling,
      sampleIndex: seq.numOutputTokens + 1,
    };
  });
  const input: StepInput = { tokenIds, positions, sequences, fromPreviousStep: prevRows.map((row, t) => [t, row] as const) };
  if (blockCopies.length > 0) input.blockCopies = blockCopies;
  return input;
}
