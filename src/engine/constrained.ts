// Constrained decoding's part of the engine core (#16), kept out of core.ts's step loop:
//
//   addRequest ─► compile(constraint)  (bounds checked now; XGrammar's verdict later, off the loop)
//              ─► admitWhenCompiled    (choice 0 from the grammar, the others forked from it; the
//                                       request joins the scheduler once its first mask is ready)
//   each step  ─► failedGrammarRequests (a grammar worker that died fails only its requests)
//              ─► schedule             (a row whose next mask is still in the grammar worker sits
//                                       the step out: Scheduler, `maskReady`)
//              ─► fillTokenMasks       (every constrained sampled row, before the step is submitted)
//   after it   ─► Scheduler.applyOutput accepts the sampled token into the matcher
//   the end    ─► disposeMatchers      (the matchers' wasm memory)
//
// With the in-thread GrammarService a mask is computed when asked; with the grammar worker
// (src/grammar/remote.ts) it is asked for as soon as the last token is accepted.
import type { CompiledConstraint, GrammarService, TokenMatcher } from '../grammar/backend';
import type { OutputConstraint } from '../grammar/constraint';
import { EngineError, fromGrammarError } from './errors';
import type { Sequence } from './request';
import type { SequenceInput } from './types';

/**
 * The compiled constraint (cached per model). Throws now (`invalid_request` for text that
 * breaks the bounds or is not JSON, `queue_full` for a full compile queue, `unsupported`
 * without a grammar service); the promise rejects with `invalid_request` naming what XGrammar
 * refused, or `worker_failed`.
 */
export function compileConstraint(grammar: GrammarService | undefined, constraint: OutputConstraint): Promise<CompiledConstraint> {
  if (grammar === undefined) {
    throw new EngineError('unsupported', "constrained decoding needs the model's vocabulary (EngineCoreInit.grammar)", 'response_format');
  }
  let compiling: Promise<CompiledConstraint>;
  try {
    compiling = grammar.compile(constraint);
  } catch (err) {
    throw fromGrammarError(err) ?? err;
  }
  return compiling.catch((err: unknown) => {
    throw fromGrammarError(err) ?? err;
  });
}

/** Gives each choice its matcher: n > 1 children start from the same (forked) state and follow their own outputs. */
export async function attachMatchers(choices: readonly Sequence[], compiled: CompiledConstraint, stopTokenIds: readonly number[]): Promise<void> {
  const first = await compiled.createMatcher(stopTokenIds);
  choices[0].matcher = first;
  for (const seq of choices.slice(1)) seq.matcher = await first.fork();
}

export interface Admission {
  /** The request is still in flight (not aborted or failed meanwhile). */
  isLive(): boolean;
  /** Queue its sequences. */
  admit(): void;
  fail(err: unknown): void;
}

/**
 * Waits for the grammar, attaches the matchers and the first mask, then admits the request
 * (or fails it). Waiting for the first mask here keeps a fresh constrained request from
 * holding the head of the scheduler's queue while the grammar worker is busy.
 */
export async function admitWhenCompiled(
  choices: readonly Sequence[], compiling: Promise<CompiledConstraint>, stopTokenIds: readonly number[], a: Admission,
): Promise<void> {
  try {
    const compiled = await compiling;
    if (!a.isLive()) return;
    await attachMatchers(choices, compiled, stopTokenIds);
    await Promise.all(choices.map((seq) => seq.matcher?.whenMaskReady?.()));
    const failure = choices.find((seq) => seq.matcher?.failure !== undefined)?.matcher?.failure;
    if (failure !== undefined) throw failure;
    if (!a.isLive()) {
      disposeMatchers(choices);
      return;
    }
    a.admit();
  } catch (err) {
    disposeMatchers(choices);
    if (a.isLive()) a.fail(fromGrammarError(err) ?? err);
  }
}

/** Frees the wasm state of a request's matchers (once it can sample no more). */
export function disposeMatchers(choices: readonly Sequence[]): void {
  for (const seq of choices) {
    seq.matcher?.dispose();
    seq.matcher = null;
  }
}

/** Request ids (with the error) whose grammar worker failed them; those requests fail, the batch goes on. */
export function failedGrammarRequests(seqs: Iterable<Sequence>): Map<string, EngineError> {
  const failed = new Map<string, EngineError>();
  for (const seq of seqs) {
    const failure = seq.matcher?.failure;
    if (failure === undefined || failed.has(seq.requestId)) continue;
    const err = fromGrammarError(failure);
    failed.set(seq.requestId, err ?? new EngineError('internal_error', failure.message));
  }
  return failed;
}

/**
 * Resolves when some sequence's pending mask arrives; null when none is pending (then an
 * empty step is a scheduler bug, not a wait).
 */
export function whenAnyMaskReady(seqs: Iterable<Sequence>): Promise<void> | null {
  const waits: Promise<void>[] = [];
  for (const seq of seqs) {
    const m = seq.matcher;
    if (m?.maskReady === false && m.whenMaskReady) waits.push(m.whenMaskReady());
  }
  return waits.length === 0 ? null : Promise.race(waits);
}

interface ScheduledRow {
  seq: Sequence;
  sample: boolean;
}

/** Some row of the step samples under a grammar (unconstrained steps skip the mask pass entirely). */
export function anyConstrained(scheduled: readonly ScheduledRow[]): boolean {
  return scheduled.some((s) => s.sample && s.seq.matcher !== null);
}

/**
 * One mask buffer per matcher, refilled each step (a mask is read until the step's sampled
 * tokens are back, before its matcher's next mask): no 16 KB allocation per row per step.
 */
const maskBuffers = new WeakMap<TokenMatcher, Uint32Array>();

/**
 * Each constrained row that samples this step gets its grammar's mask of allowed next tokens.
 * Call failedGrammarRequests after it: a row whose worker died got none.
 */
export async function fillTokenMasks(scheduled: readonly ScheduledRow[], inputs: SequenceInput[]): Promise<void> {
  for (let i = 0; i < scheduled.length; i++) {
    const { seq, sample } = scheduled[i];
    if (!sample || seq.matcher === null || seq.status !== 'running') continue;
    let mask: Uint32Array;
    try {
      mask = await seq.matcher.nextMask(maskBuffers.get(seq.matcher));
    } catch (err) {
      // Its grammar worker died: the row samples unmasked, and the core fails its request
      // before the output is applied (failedGrammarRequests), so nothing it samples is kept.
      if (seq.matcher.failure !== undefined) continue;
      throw err;
    }
    maskBuffers.set(seq.matcher, mask);
    // There is always a stop token where the grammar may end: an empty mask is a grammar bug.
    if (!anyBitSet(mask)) throw new EngineError('internal_error', `the grammar of ${seq.requestId} allows no next token`);
    inputs[i].tokenMask = mask;
  }
}

/** Some token is allowed (a plain loop: after a UTF-8 lead byte nearly every word is zero). */
function anyBitSet(mask: Uint32Array): boolean {
  for (let w = 0; w < mask.length; w++) if (mask[w] !== 0) return true;
  return false;
}
