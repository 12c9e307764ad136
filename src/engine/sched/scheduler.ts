// The continuous-batching scheduler (vLLM v1 style): one decision per step, a number of
// new tokens per sequence under a token budget.
//
//   1. running sequences, in the order they started: each gets its next chunk (1 token
//      when decoding). Out of KV blocks → preempt the most recently started running
//      sequence (free its blocks, put it at the front of `waiting`; it recomputes
//      prompt + output later) and retry.
//   2. if nobody was preempted: waiting sequences in arrival order get (chunked) prefill,
//      after a prefix-cache lookup, while budget, seats and blocks last.
//
// The scheduler owns the queues and the KV cache manager; it never touches the GPU. The
// runner's output comes back through `applyOutput`, which appends sampled tokens, applies
// stop criteria, forks `n > 1` parents and frees what finished. While a decode step is in
// flight, chain.ts may schedule the one after it (its tokens are the ones being sampled);
// `schedule` itself only runs once every step handed out has been applied.

import { checkEngineCoreOptions } from '../core-options';
import { EngineError } from '../errors';
import type { KvCacheManager } from '../kv/kv-cache-manager';
import type { Sequence } from '../request';
import type { FinishReason } from '../stop';
import type { SampledToken, SequenceInput, StepInput, StepOutput } from '../types';

export interface SchedulerOptions {
  /** Tokens per step (decode tokens + prefill chunks). */
  maxBatchTokens: number;
  /** Sequences running at once. */
  maxRunningSequences: number;
  /** Waiting sequences; beyond it `add` throws `queue_full`. */
  maxQueue: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = { maxBatchTokens: 512, maxRunningSequences: 64, maxQueue: 1024 };

export interface ScheduledSequence {
  seq: Sequence;
  numNewTokens: number;
  sample: boolean;
}

export interface ScheduledStep {
  /** In `input.sequences` order. */
  scheduled: ScheduledSequence[];
  input: StepInput;
  /** Sequences finished while scheduling (one that cannot fit even in an empty pool). */
  finished: SequenceUpdate[];
  numPreempted: number;
}

export interface SequenceUpdate {
  seq: Sequence;
  /** The token sampled for this sequence this step. */
  sampled?: SampledToken;
  text: string;
  finishReason: FinishReason | null;
  /** A fork parent that just handed over to its children. */
  forked?: Sequence[];
}

export class Scheduler {
  readonly waiting: Sequence[] = [];
  running: Sequence[] = [];
  private readonly aborted = new Set<Sequence>();
  /** Prompt tokens looked up in / served from the prefix cache (first admissions only). */
  prefixQueriedTokens = 0;
  prefixHitTokens = 0;
  numPreemptions = 0;

  constructor(
    readonly kv: KvCacheManager,
    readonly options: SchedulerOptions = DEFAULT_SCHEDULER_OPTIONS,
    /** Sampled ids are checked against it: a runner bug must not reach the detokenizer. */
    readonly vocabSize = Number.MAX_SAFE_INTEGER,
  ) {
    checkEngineCoreOptions(options); // the engine options' one check (limits as the engine takes them)
  }

  /** Queues a new sequence; throws `queue_full` when `maxQueue` sequences are waiting. */
  add(seq: Sequence): void {
    if (this.waiting.length >= this.options.maxQueue) {
      throw new EngineError('queue_full', `the request queue is full (${this.options.maxQueue} waiting)`);
    }
    seq.status = 'waiting';
    this.waiting.push(seq);
  }

  /** Marks a sequence finished; its blocks are freed at the start of the next `schedule`. */
  abort(seq: Sequence): void {
    if (seq.status === 'finished') return;
    seq.status = 'finished';
    seq.stop?.abort();
    this.aborted.add(seq);
  }

  hasWork(): boolean {
    return this.running.length > 0 || this.waiting.length > 0 || this.aborted.size > 0;
  }

  /** Frees aborted sequences' blocks and drops them from the queues. */
  collectAborted(): void {
    if (this.aborted.size === 0) return;
    for (const seq of this.aborted) this.kv.free(seq);
    this.running = this.running.filter((s) => !this.aborted.has(s));
    const keep = this.waiting.filter((s) => !this.aborted.has(s));
    this.waiting.splice(0, this.waiting.length, ...keep);
    this.aborted.clear();
  }

  schedule(): ScheduledStep {
    this.collectAborted();
    let budget = this.options.maxBatchTokens;
    const scheduled: ScheduledSequence[] = [];
    const blockCopies: Array<[number, number]> = [];
    const finished: SequenceUpdate[] = [];
    let numPreempted = 0;

    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const seq = this.running[i];
      // Its grammar mask is still being computed elsewhere (a grammar worker): it sits this
      // step out, keeping its blocks; outputs are batch-invariant, so only timing changes.
      if (seq.matcher?.maskReady === false) continue;
      const numNewTokens = Math.min(seq.tokenIds.length - seq.numComputedTokens, budget);
      if (numNewTokens <= 0) throw new Error(`scheduler: running sequence ${seq.seqId} has nothing to compute`);
      let alloc = this.kv.allocateSlots(seq, numNewTokens);
      while (alloc === null) {
        const victim = this.running.pop()!;
        this.preempt(victim);
        numPreempted++;
        if (victim === seq) break;
        alloc = this.kv.allocateSlots(seq, numNewTokens);
      }
      if (alloc === null) {
        // `seq` preempted itself. Alone with an empty pool it can never fit: finish it.
        if (this.running.length === 0 && scheduled.length === 0 && this.kv.numUsedBlocks === 0) {
          this.waiting.shift();
          finished.push(...this.forceFinish(seq));
        }
        break;
      }
      blockCopies.push(...alloc.blockCopies);
      scheduled.push(this.entry(seq, numNewTokens));
      budget -= numNewTokens;
    }

    if (numPreempted === 0) {
      while (this.waiting.length > 0 && budget > 0) {
        const seq = this.waiting[0];
        // Only a preempted constrained sequence can wait for its mask here (a new one is queued
        // once its first mask is ready): admission resumes when it arrives.
        if (seq.matcher?.maskReady === false) break;
        if (this.running.length > 0 && this.running.length + seq.seats > this.options.maxRunningSequences) break;
        const hit = this.kv.getComputedBlocks(seq);
        const numNewTokens = Math.min(seq.tokenIds.length - hit.numComputedTokens, budget);
        const alloc = this.kv.allocateSlots(seq, numNewTokens, hit.blocks);
        if (alloc === null) {
          // Nothing else holds blocks, so waiting cannot help: the sequence outgrew the pool.
          if (this.running.length === 0 && this.kv.numUsedBlocks === 0) {
            this.waiting.shift();
            finished.push(...this.forceFinish(seq));
            continue;
          }
          break;
        }
        this.waiting.shift();
        seq.numComputedTokens = hit.numComputedTokens;
        if (!seq.scheduledOnce) {
          seq.scheduledOnce = true;
          seq.numCachedTokens = hit.numComputedTokens;
          this.prefixQueriedTokens += seq.tokenIds.length;
          this.prefixHitTokens += hit.numComputedTokens;
        }
        seq.status = 'running';
        this.running.push(seq);
        blockCopies.push(...alloc.blockCopies);
        scheduled.push(this.entry(seq, numNewTokens));
        budget -= numNewTokens;
      }
    }

    this.numPreemptions += numPreempted;
    return { scheduled, input: this.buildInput(scheduled, blockCopies), finished, numPreempted };
  }

  /** Applies the runner's output for `step`; returns what happened to each sequence. */
  applyOutput(step: ScheduledStep, output: StepOutput): SequenceUpdate[] {
    const numSampled = step.scheduled.filter((s) => s.sample).length;
    if (output.sampled.length !== numSampled) {
      throw new EngineError('internal_error', `runner returned ${output.sampled.length} samples for ${numSampled} sequences`);
    }
    const updates: SequenceUpdate[] = [];
    let k = 0;
    for (const { seq, numNewTokens, sample } of step.scheduled) {
      const sampled = sample ? output.sampled[k++] : undefined;
      if (seq.status !== 'running') continue; // aborted while the step was in flight
      seq.numComputedTokens += numNewTokens;
      this.kv.cacheComputedBlocks(seq);
      if (seq.isForkParent && seq.numComputedTokens === seq.tokenIds.length) {
        updates.push({ seq, text: '', finishReason: null, forked: this.fork(seq) });
        continue;
      }
      if (sampled === undefined) continue;
      if (!Number.isInteger(sampled.tokenId) || sampled.tokenId < 0 || sampled.tokenId >= this.vocabSize) {
        throw new EngineError('internal_error', `runner sampled token ${sampled.tokenId}, outside the vocabulary [0, ${this.vocabSize})`);
      }
      // The runner sampled under this row's mask: a token the grammar refuses is a runner bug.
      if (seq.matcher !== null && !seq.matcher.accept(sampled.tokenId)) {
        throw new EngineError('internal_error', `runner sampled token ${sampled.tokenId}, which the request's grammar does not allow here`);
      }
      seq.appendToken(sampled.tokenId);
      const grammarEnded = seq.matcher?.isTerminated ?? false;
      const outcome = seq.stop!.onToken(sampled.tokenId, seq.numOutputTokens, seq.tokenIds.length, grammarEnded);
      if (outcome.finishReason !== null) this.finish(seq);
      updates.push({ seq, sampled, text: outcome.text, finishReason: outcome.finishReason });
    }
    this.running = this.running.filter((s) => s.status === 'running');
    return updates;
  }

  /** Drops every sequence (after a runner failure); returns them. */
  clear(): Sequence[] {
    const all = [...this.running, ...this.waiting, ...this.aborted];
    for (const seq of all) {
      this.kv.free(seq);
      seq.status = 'finished';
    }
    this.running = [];
    this.waiting.length = 0;
    this.aborted.clear();
    return all;
  }

  /** Ends a sequence (a fork parent: its children) with 'length', releasing held-back text. */
  private forceFinish(seq: Sequence): SequenceUpdate[] {
    seq.status = 'finished';
    this.kv.free(seq);
    const ended = seq.isForkParent ? seq.children.filter((c) => c.status !== 'finished') : [seq];
    return ended.map((s) => {
      s.status = 'finished';
      return { seq: s, text: s.stop?.forceFinish() ?? '', finishReason: 'length' as const };
    });
  }

  private finish(seq: Sequence): void {
    seq.status = 'finished';
    this.kv.free(seq);
  }

  private preempt(seq: Sequence): void {
    this.kv.free(seq);
    seq.numComputedTokens = 0;
    seq.numPreemptions++;
    seq.status = 'waiting';
    this.waiting.unshift(seq);
  }

  /** The parent's blocks pass to its children (copy-on-write); it takes their place in `running`. */
  private fork(parent: Sequence): Sequence[] {
    const children = parent.children;
    for (const child of children) {
      if (child.status === 'finished') continue;
      child.numComputedTokens = parent.numComputedTokens;
      child.blockHashes.push(...parent.blockHashes);
      child.numCachedTokens = parent.numCachedTokens;
      child.scheduledOnce = true;
      this.kv.fork(parent, child);
      child.status = 'running';
    }
    this.kv.free(parent);
    parent.status = 'finished';
    const at = this.running.indexOf(parent);
    this.running.splice(at, 1, ...children.filter((c) => c.status === 'running'));
    return children;
  }

  private entry(seq: Sequence, numNewTokens: number): ScheduledSequence {
    const sample = !seq.isForkParent && seq.numComputedTokens + numNewTokens === seq.tokenIds.length;
    return { seq, numNewTokens, sample };
  }

  private buildInput(scheduled: ScheduledSequence[], blockCopies: Array<[number, number]>): StepInput {
    const numTokens = scheduled.reduce((n, s) => n + s.numNewTokens, 0);
    const tokenIds = new Int32Array(numTokens); // [numTokens]
    const positions = new Int32Array(numTokens); // [numTokens]
    const sequences: SequenceInput[] = [];
    let queryStart = 0;
    for (const { seq, numNewTokens, sample } of scheduled) {
      const start = seq.numComputedTokens;
      for (let j = 0; j < numNewTokens; j++) {
        tokenIds[queryStart + j] = seq.tokenIds[start + j];
        positions[queryStart + j] = start + j;
      }
      const input: SequenceInput = {
        queryStart,
        queryLength: numNewTokens,
        contextLength: start + numNewTokens,
        blockTable: this.kv.blockTable(seq),
        sample,
      };
      if (sample) {
        input.sampling = seq.sampling;
        input.sampleIndex = seq.numOutputTokens;
        if (seq.usesPenalties) input.penalties = seq.penaltyTokens();
      }
      sequences.push(input);
      queryStart += numNewTokens;
    }
    const input: StepInput = { tokenIds, positions, sequences };
    if (blockCopies.length > 0) input.blockCopies = blockCopies;
    return input;
  }
}
