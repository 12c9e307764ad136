// The grammar layer's errors. The engine maps them to its own codes in one place
// (src/engine/errors.ts `fromGrammarError`): a grammar the request sent that cannot be
// compiled is the request's fault (400); an engine that cannot load XGrammar is not.
export type GrammarErrorCode =
  /** The constraint cannot be compiled: a bad schema, regex or EBNF, or a construct XGrammar does not support. */
  | 'invalid_grammar'
  /** XGrammar could not be loaded or started here (e.g. a CSP without 'unsafe-eval'). */
  | 'grammar_unavailable'
  /** MAX_PENDING_COMPILES compiles are queued already (backend.ts): try again later. */
  | 'grammar_queue_full'
  /** The grammar worker ended (crashed, ran out of memory, did not load): its requests fail, the next compile starts a fresh one. */
  | 'grammar_worker_failed';

export class GrammarError extends Error {
  override readonly name = 'GrammarError';
  constructor(
    readonly code: GrammarErrorCode,
    message: string,
    /** The request parameter the constraint came from, when known. */
    readonly param?: string,
  ) {
    super(message);
  }
}
