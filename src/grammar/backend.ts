// What the engine needs from the grammar layer, whichever thread runs XGrammar:
//
//   GrammarService.compile(c) ─► CompiledConstraint.createMatcher() ─► TokenMatcher per choice
//
// Two implementations: GrammarCompilerService (compiler.ts: XGrammar on the engine's own
// thread, matchers are SequenceMatcher) and RemoteGrammarService (remote.ts: XGrammar in a
// grammar worker, grammar-host.ts; matchers are RemoteMatcher, whose next mask is computed
// ahead, off the step loop, and may not be ready when a step is scheduled).
import type { OutputConstraint } from './constraint';

/** One sequence's grammar state, as the engine core and the scheduler use it. */
export interface TokenMatcher {
  /**
   * The mask for the current state can be had now. False while it is computed elsewhere (a
   * grammar worker busy with a compile): the scheduler lets the sequence sit out the step.
   * Absent (SequenceMatcher, in-thread): always ready, nextMask computes it when asked.
   */
  readonly maskReady?: boolean;
  /** Resolves once maskReady is true (absent: always ready). */
  whenMaskReady?(): Promise<void>;
  /** Set when the grammar worker failed this matcher: its request fails, the others go on. */
  readonly failure?: Error;
  /**
   * [ceil(vocabSize / 32)] u32: bit `t % 32` of word `t >> 5` set = token t may come next.
   * Written into `into` when given (a buffer the caller reuses step after step), else a new array.
   */
  nextMask(into?: Uint32Array): Promise<Uint32Array>;
  /** Advances by one token; false (state unchanged) when the grammar does not allow it. */
  accept(tokenId: number): boolean;
  /** A stop token was accepted: nothing more may follow. */
  readonly isTerminated: boolean;
  /** An independent matcher in the same state (n > 1). */
  fork(): Promise<TokenMatcher>;
  dispose(): void;
}

/** A constraint compiled for this model's vocabulary. */
export interface CompiledConstraint {
  readonly key: string;
  /** Starts a matcher at the grammar's start; extra stop ids join the model's EOG ids. */
  createMatcher(extraStopTokenIds?: readonly number[]): Promise<TokenMatcher>;
}

export interface GrammarService {
  /**
   * The compiled constraint (cached by its key). Throws synchronously (GrammarError) for a
   * constraint that breaks checkConstraint's bounds or a full compile queue; the promise
   * rejects with GrammarError `invalid_grammar` naming what XGrammar refused, or
   * `grammar_unavailable` / `grammar_worker_failed`.
   */
  compile(constraint: OutputConstraint): Promise<CompiledConstraint>;
  /** Frees what the service holds (a grammar worker is ended). */
  close?(): void;
}

/** Compiles queued or running at once before compile() refuses with `grammar_queue_full`. */
export const MAX_PENDING_COMPILES = 64;
