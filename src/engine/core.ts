// EngineCore: requests (token ids) in, per-request event streams out. It owns the
// scheduler, the KV cache manager and the step loop over a `ModelRunner`:
//
//   addRequest ─► Scheduler.waiting ─► loop: schedule ─► runner.step ─► applyOutput ─► events
//
// The loop runs while there is work and stops otherwise (no polling); one step is in
// flight at a time, or two where the runner chains decode steps (sched/chain.ts: the next
// decode step is submitted before this one's ids are back). A runner failure fails every
// request in flight with a coded EngineError; `device_lost` also fails all later requests.
//
// Constrained requests (#16) wait outside the scheduler until their grammar is compiled (off
// the loop; in a grammar worker where one runs) and their first mask is ready; each choice gets
// a matcher, the loop gives every constrained sampled row its token mask before the step is
// submitted (a row whose mask is not back yet sits the step out), and the scheduler accepts
// the sampled token into the matcher after it. Details: constrained.ts.

import type { GrammarService } from '../grammar/backend';
import type { OutputConstraint } from '../grammar/constraint';
import {
  admitWhenCompiled, anyConstrained, compileConstraint, disposeMatchers, failedGrammarRequests, fillTokenMasks, whenAnyMaskReady,
} from './constrained';
import { checkEngineCoreOptions, type EngineCoreOptions } from './core-options';
import { EngineError, fromRunnerError } from './errors';
import { RequestStream, type EngineCoreStats, type EngineEvent, type RequestTimings, type Usage } from './core-events';
import { KvCacheManager, kvSlidingWindow } from './kv/kv-cache-manager';
import { checkRequestShape, createSequences, normalizePrompt, normalizeSampling, type EngineRequest, type Sequence } from './request';
import { scheduleChained } from './sched/chain';
import { DEFAULT_SCHEDULER_OPTIONS, Scheduler, type ScheduledStep, type SequenceUpdate } from './sched/scheduler';
import { StepMeter } from './step-meter';
import type { DetokenizerFactory, StopCriteria } from './stop';
import { KV_BLOCK_SIZE, type ModelRunner, type StepOutput } from './types';

export { checkEngineCoreOptions, type EngineCoreOptions } from './core-options';
export { RequestStream, type EngineCoreStats, type EngineEvent, type RequestTimings, type Usage } from './core-events';

/** A step handed to the runner, its output not applied yet. */
interface StepInFlight {
  step: ScheduledStep;
  startMs: number;
  output: Promise<StepOutput>;
}

export interface EngineCoreInit {
  runner: ModelRunner;
  createDetokenizer: DetokenizerFactory;
  /** End-of-generation token ids (EOS, EOT). */
  eogIds: Iterable<number>;
  /** Compiles `constraint`s for this model's vocabulary; without it constrained requests are `unsupported`. */
  grammar?: GrammarService;
  options?: EngineCoreOptions;
}

interface RequestState {
  requestId: string;
  stream: RequestStream;
  choices: Sequence[];
  parent: Sequence | null;
  numUnfinished: number;
  promptTokens: number;
  completionTokens: number;
  wantsLogprobs: boolean;
  arrivalMs: number;
  firstScheduledMs: number | null;
  firstTokenMs: number | null;
  lastTokenMs: number | null;
  detachSignal: () => void;
  /** Constrained: its grammar is still compiling (its sequences are not in the scheduler yet). */
  compiling: boolean;
}

export class EngineCore {
  readonly runner: ModelRunner;
  readonly kv: KvCacheManager;
  readonly scheduler: Scheduler;
  readonly contextLength: number;
  private readonly createDetokenizer: DetokenizerFactory;
  private readonly eogIds: ReadonlySet<number>;
  private readonly grammar: GrammarService | undefined;
  /** Sequences of requests whose grammar is compiling (they count against maxQueue). */
  private numCompilingSequences = 0;
  private readonly now: () => number;
  private readonly requests = new Map<string, RequestState>();
  private readonly meter: StepMeter;
  private loopActive = false;
  private readonly chainSteps: boolean;
  /** Wakes a loop that waits for grammar masks when new work arrives (kick). */
  private wake: (() => void) | null = null;
  private fatal: EngineError | null = null;
  private nextRequestNumber = 1;

  constructor(init: EngineCoreInit) {
    const o = init.options ?? {};
    checkEngineCoreOptions(o);
    this.runner = init.runner;
    this.createDetokenizer = init.createDetokenizer;
    this.eogIds = new Set(init.eogIds);
    this.grammar = init.grammar;
    this.now = o.now ?? (() => performance.now());
    this.meter = new StepMeter(this.now);
    this.chainSteps = (o.chainSteps ?? true) && init.runner.chainsSteps === true;
    this.contextLength = Math.min(init.runner.config.contextLength, o.maxModelLength ?? Infinity);
    this.kv = new KvCacheManager(init.runner.numKvBlocks, o.enablePrefixCaching ?? true, kvSlidingWindow(init.runner.config));
    this.scheduler = new Scheduler(this.kv, {
      maxBatchTokens: o.maxBatchTokens ?? DEFAULT_SCHEDULER_OPTIONS.maxBatchTokens,
      maxRunningSequences: o.maxRunningSequences ?? DEFAULT_SCHEDULER_OPTIONS.maxRunningSequences,
      maxQueue: o.maxQueue ?? DEFAULT_SCHEDULER_OPTIONS.maxQueue,
    }, init.runner.config.vocabSize);
  }

  /**
   * Validates and queues a request; returns its event stream. Throws `invalid_request`,
   * `context_length_exceeded`, `queue_full`, `aborted` (signal already aborted), or the
   * error that killed the engine.
   */
  addRequest(req: EngineRequest): RequestStream {
    if (this.fatal !== null) throw this.fatal;
    checkRequestShape(req);
    const sampling = normalizeSampling(req.sampling);
    const prompt = normalizePrompt(req.promptIds, this.runner.config.vocabSize);
    const requestId = req.requestId ?? `req-${this.nextRequestNumber++}`;
    if (this.requests.has(requestId)) throw new EngineError('invalid_request', `request ${requestId} is already in flight`, 'request_id');
    if (prompt.length >= this.contextLength) {
      throw new EngineError(
        'context_length_exceeded',
        `the prompt has ${prompt.length} tokens; the model's context is ${this.contextLength} and at least one must be left to generate`,
        'prompt',
      );
    }
    const blocksNeeded = Math.ceil((prompt.length + 1) / KV_BLOCK_SIZE);
    if (blocksNeeded > this.kv.numUsableBlocks) {
      throw new EngineError(
        'context_length_exceeded',
        `the prompt needs ${blocksNeeded} KV blocks; the KV cache holds ${this.kv.numUsableBlocks} (${this.kv.numUsableBlocks * KV_BLOCK_SIZE} tokens)`,
        'prompt',
      );
    }
    if (req.signal?.aborted) throw new EngineError('aborted', 'the request was aborted before it started');
    // Bounds and JSON syntax are checked now (a 400 before anything streams); XGrammar's verdict comes with the compile.
    const compiling = req.constraint !== undefined ? compileConstraint(this.grammar, req.constraint) : null;

    const criteria: StopCriteria = {
      maxTokens: req.maxTokens ?? Infinity,
      eogIds: this.eogIds,
      ignoreEos: req.ignoreEos ?? false,
      stopTokenIds: new Set(req.stopTokenIds ?? []),
      stopStrings: [...(req.stop ?? [])],
      contextLength: this.contextLength,
    };
    const { choices, parent } = createSequences(requestId, prompt, req.n ?? 1, sampling, criteria, this.createDetokenizer, req.cacheSalt);
    const queued = parent !== null ? [parent] : choices;
    if (this.scheduler.waiting.length + this.numCompilingSequences + queued.length > this.scheduler.options.maxQueue) {
      throw new EngineError('queue_full', `the request queue is full (${this.scheduler.options.maxQueue} waiting)`);
    }

    const stream = new RequestStream(requestId, () => this.abort(requestId));
    const state: RequestState = {
      requestId,
      stream,
      choices,
      parent,
      numUnfinished: choices.length,
      promptTokens: prompt.length,
      completionTokens: 0,
      wantsLogprobs: sampling.logprobs,
      arrivalMs: this.now(),
      firstScheduledMs: null,
      firstTokenMs: null,
      lastTokenMs: null,
      detachSignal: () => {},
      compiling: compiling !== null,
    };
    if (req.signal) {
      const signal = req.signal;
      const onAbort = () => this.abort(requestId);
      signal.addEventListener('abort', onAbort, { once: true });
      state.detachSignal = () => signal.removeEventListener('abort', onAbort);
    }
    this.requests.set(requestId, state);
    if (compiling !== null) {
      this.numCompilingSequences += queued.length;
      const admitted = () => {
        this.numCompilingSequences -= queued.length;
        state.compiling = false;
      };
      void admitWhenCompiled(state.choices, compiling, req.stopTokenIds ?? [], {
        isLive: () => this.requests.get(requestId) === state,
        admit: () => {
          admitted();
          for (const seq of queued) if (seq.status !== 'finished') this.scheduler.add(seq);
          this.kick();
        },
        fail: (err) => {
          admitted();
          this.fail(state, toEngineError(err));
        },
      });
      return stream;
    }
    for (const seq of queued) this.scheduler.add(seq);
    this.kick();
    return stream;
  }

  /**
   * Compiles (or finds in the cache) a constraint; resolves once requests with it can start.
   * Throws EngineError `invalid_request` naming what XGrammar refused, or `unsupported`.
   * The facade may await it before `addRequest` to answer a bad schema before it streams.
   */
  async compileConstraint(constraint: OutputConstraint): Promise<void> {
    await compileConstraint(this.grammar, constraint);
  }

  /**
   * Ends a request in any state: unfinished choices get finishReason 'abort' and the
   * stream closes; its KV blocks are freed at the next step. False when it is not in flight.
   */
  abort(requestId: string): boolean {
    const state = this.requests.get(requestId);
    if (state === undefined) return false;
    if (state.compiling) {
      this.numCompilingSequences -= state.parent !== null ? 1 : state.choices.length;
      state.compiling = false;
    }
    if (state.parent !== null) this.scheduler.abort(state.parent);
    const events: EngineEvent[] = [];
    for (const seq of state.choices) {
      if (seq.status === 'finished') continue;
      this.scheduler.abort(seq);
      events.push({ index: seq.choiceIndex, tokenIds: [], text: '', finishReason: 'abort' });
    }
    for (const event of events) this.emit(state, event);
    this.kick();
    return true;
  }

  stats(): EngineCoreStats {
    const runningRequests = new Set(this.scheduler.running.map((s) => s.requestId));
    const waitingRequests = new Set(this.scheduler.waiting.map((s) => s.requestId).filter((id) => !runningRequests.has(id)));
    const queried = this.scheduler.prefixQueriedTokens;
    const slots = this.kv.slotUsage(this.scheduler.running);
    return {
      running: runningRequests.size,
      runningSequences: this.scheduler.running.length,
      waiting: waitingRequests.size,
      kvBlocksUsed: this.kv.numUsedBlocks,
      kvBlocksTotal: this.kv.numUsableBlocks,
      prefixCacheHitRate: queried === 0 ? 0 : this.scheduler.prefixHitTokens / queried,
      lastStepBatchSize: this.meter.lastBatchSize,
      peakStepBatchSize: this.meter.peakBatchSize(),
      lastStepSequences: this.meter.lastSequences,
      lastStepMs: this.meter.lastMs,
      tokensPerSecond: this.meter.tokensPerSecond(),
      numPreemptions: this.scheduler.numPreemptions,
      numSteps: this.meter.numSteps,
      kvSlotsFilled: slots.filledSlots,
      kvSlotsAllocated: slots.allocatedSlots,
    };
  }

  /**
   * Aborts every request and refuses new ones (`engine_not_loaded`). The runner is not
   * destroyed here: its owner does that once `busy` is false (no step in flight).
   */
  close(): void {
    for (const requestId of [...this.requests.keys()]) this.abort(requestId);
    this.fatal ??= new EngineError('engine_not_loaded', 'the engine was closed');
    this.scheduler.collectAborted();
  }

  /** True while the step loop has work. */
  get busy(): boolean {
    return this.loopActive;
  }

  private kick(): void {
    this.wake?.();
    if (this.loopActive || this.fatal !== null) return;
    this.loopActive = true;
    // Start on a microtask: requests added in the same tick join the first step together.
    queueMicrotask(() => void this.loop());
  }

  private async loop(): Promise<void> {
    // The step whose output is awaited next, and one submitted behind it (chain.ts).
    let current: StepInFlight | null = null;
    let chained: StepInFlight | null = null;
    try {
      while (chained !== null || this.scheduler.hasWork()) {
        if (chained !== null) {
          current = chained;
          chained = null;
        } else {
          this.failBrokenGrammars();
          const startMs = this.now();
          const step = this.scheduler.schedule();
          for (const { seq } of step.scheduled) {
            const state = this.requests.get(seq.requestId);
            if (state !== undefined && state.firstScheduledMs === null) state.firstScheduledMs = startMs;
          }
          this.dispatch(step.finished);
          if (step.scheduled.length === 0) {
            if (step.finished.length === 0 && this.scheduler.hasWork()) await this.waitForMasks();
            continue;
          }
          // Unconstrained steps do not wait a microtask for masks they do not have.
          if (anyConstrained(step.scheduled)) {
            await fillTokenMasks(step.scheduled, step.input.sequences);
            this.failBrokenGrammars();
          }
          current = this.submit(step, startMs);
        }
        // The next decode step goes to the runner before this one's ids are back.
        if (this.chainSteps) {
          const next = scheduleChained(this.scheduler, current.step);
          if (next !== null) chained = this.submit(next, this.now());
        }
        const output = await current.output;
        const updates = this.scheduler.applyOutput(current.step, output);
        this.meter.record(current.startMs, current.step.input.tokenIds.length, current.step.scheduled.length, output.sampled.length);
        this.dispatch(updates);
      }
    } catch (err) {
      this.failAll(err);
      // Steps still on the runner: the next loop starts once they are done (the runner takes no third step).
      await Promise.allSettled([current?.output, chained?.output]);
    } finally {
      this.loopActive = false;
    }
    // Requests that came while the chained step drained.
    if (this.scheduler.hasWork()) this.kick();
  }

  /** Hands a step to the runner; a rejection is handled where the output is awaited (or dropped with the loop). */
  private submit(step: ScheduledStep, startMs: number): StepInFlight {
    const output = this.runner.step(step.input);
    output.catch(() => {}); // a chained step's failure after its predecessor's is not unhandled
    return { step, startMs, output };
  }

  /**
   * Every running row sits out for its grammar mask: wait for one (or for new work: kick).
   * Nothing pending means nothing could be scheduled at all, a scheduler bug.
   */
  private async waitForMasks(): Promise<void> {
    const anyMask = whenAnyMaskReady([...this.scheduler.running, ...this.scheduler.waiting]);
    if (anyMask === null) throw new EngineError('internal_error', 'the scheduler could not schedule any waiting request');
    await Promise.race([anyMask, new Promise<void>((resolve) => (this.wake = resolve))]);
    this.wake = null;
  }

  /** Requests whose grammar worker failed end with its error; the rest of the batch goes on. */
  private failBrokenGrammars(): void {
    for (const [requestId, err] of failedGrammarRequests([...this.scheduler.running, ...this.scheduler.waiting])) {
      const state = this.requests.get(requestId);
      if (state !== undefined) this.fail(state, err);
    }
  }

  /** Ends one request with `err` (its sequences are freed at the next schedule). */
  private fail(state: RequestState, err: EngineError): void {
    if (state.parent !== null) this.scheduler.abort(state.parent);
    for (const seq of state.choices) this.scheduler.abort(seq);
    this.requests.delete(state.requestId);
    disposeMatchers(state.choices);
    state.stream.fail(err);
    state.detachSignal();
  }

  private dispatch(updates: SequenceUpdate[]): void {
    const now = this.now();
    for (const u of updates) {
      if (u.forked !== undefined) continue;
      const state = this.requests.get(u.seq.requestId);
      if (state === undefined) continue;
      const event: EngineEvent = { index: u.seq.choiceIndex, tokenIds: [], text: u.text };
      if (u.sampled !== undefined) {
        event.tokenIds.push(u.sampled.tokenId);
        state.completionTokens++;
        state.firstTokenMs ??= now;
        state.lastTokenMs = now;
        if (state.wantsLogprobs) event.logprobs = [u.sampled];
      }
      if (u.finishReason !== null) event.finishReason = u.finishReason;
      this.emit(state, event);
    }
  }

  /** Pushes an event; a finish counts a choice down, and the last one finalizes the request. */
  private emit(state: RequestState, event: EngineEvent): void {
    if (event.finishReason !== undefined) state.numUnfinished--;
    if (state.numUnfinished === 0) {
      event.usage = this.usage(state);
      event.timings = this.timings(state);
      state.stream.push(event);
      state.stream.close();
      state.detachSignal();
      disposeMatchers(state.choices);
      this.requests.delete(state.requestId);
      return;
    }
    state.stream.push(event);
  }

  private usage(state: RequestState): Usage {
    const cached = Math.max(state.parent?.numCachedTokens ?? 0, ...state.choices.map((s) => s.numCachedTokens));
    return { promptTokens: state.promptTokens, completionTokens: state.completionTokens, cachedTokens: cached };
  }

  private timings(state: RequestState): RequestTimings {
    const end = this.now();
    const firstToken = state.firstTokenMs ?? end;
    const decodeMs = (state.lastTokenMs ?? firstToken) - firstToken;
    const choicesWithTokens = state.choices.filter((s) => s.numOutputTokens > 0).length;
    const decodeTokens = state.completionTokens - choicesWithTokens;
    return {
      queueMs: (state.firstScheduledMs ?? end) - state.arrivalMs,
      ttftMs: firstToken - state.arrivalMs,
      decodeTokensPerSecond: decodeMs > 0 ? (decodeTokens * 1000) / decodeMs : 0,
    };
  }

  private failAll(err: unknown): void {
    const error = toEngineError(err);
    if (error.code === 'device_lost') this.fatal = error;
    this.scheduler.clear();
    // The K/V contents are unknown after a failed step: no block may be reused as a prefix.
    this.kv.pool.resetPrefixCache();
    for (const state of this.requests.values()) {
      state.stream.fail(error);
      state.detachSignal();
      disposeMatchers(state.choices);
    }
    this.numCompilingSequences = 0;
    this.requests.clear();
  }
}

function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  const own = fromRunnerError(err);
  if (own) return own;
  const message = err instanceof Error ? err.message : String(err);
  return new EngineError('internal_error', `model runner failed: ${message}`);
}

