// Constrained decoding's part of the engine core (#16), kept out of core.ts's step loop:
//
//   addRequest ─► compile(constraint)  (bounds checked now; XGrammar's verdict later, off the loop)
//              ─► attachMatchers       (choice 0 from the grammar, the others forked from it)
//   each step  ─► fillTokenMasks       (every constrained sampled row, before the step is submitted)
//   after it   ─► Scheduler.applyOutput accepts the sampled token (sched/scheduler.ts)
//   the end    ─► disposeMatchers      (the matchers' wasm memory)
import type { CompiledConstraint, GrammarCompilerService } from '../grammar/compiler';
import type { OutputConstraint } from '../grammar/constraint';
import type { SequenceMatcher } from '../grammar/matcher';
import { EngineError, fromGrammarError } from './errors';
import type { Sequence } from './request';
import type { SequenceInput } from './types';

/**
 * The compiled constraint (cached per model). Throws now (`invalid_request` for text that
 * breaks the bounds or is not JSON, `unsupported` without a grammar compiler); the promise
 * rejects with `invalid_request` naming what XGrammar refused.
 */
export function compileConstraint(grammar: GrammarCompilerService | undefined, constraint: OutputConstraint): Promise<CompiledConstraint> {
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

/** Frees the wasm state of a request's matchers (once it can sample no more). */
export function disposeMatchers(choices: readonly Sequence[]): void {
  for (const seq of choices) {
    seq.matcher?.dispose();
    seq.matcher = null;
  }
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
const maskBuffers = new WeakMap<SequenceMatcher, Uint32Array>();

/** Each constrained row that samples this step gets its grammar's mask of allowed next tokens. */
export async function fillTokenMasks(scheduled: readonly ScheduledRow[], inputs: SequenceInput[]): Promise<void> {
  for (let i = 0; i < scheduled.length; i++) {
    const { seq, sample } = scheduled[i];
    if (!sample || seq.matcher === null || seq.status !== 'running') continue;
    const mask = await seq.matcher.nextMask(maskBuffers.get(seq.matcher));
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
