// The grammar worker's protocol: the engine (RemoteGrammarService, remote.ts) ↔ the worker
// (hostGrammar, grammar-host.ts). Every request carries an `id`, answered once by a `reply`
// with that id; `dispose` is not answered. Messages are handled in order; a compile yields a
// macrotask before it runs (compiler.ts), so mask requests sent during a queue of compiles
// are answered between them (a compile itself, once running, holds the worker).
//
//   init    { vocab }                                      → reply {}            (once, first)
//   compile { constraint }                                 → reply { key }
//   create  { matcherId, constraint, extraStopTokenIds }   → reply {}            (compiles if evicted)
//   fork    { matcherId, fromId }                          → reply {}
//   masks   { rows: [{ matcherId, accept }] }              → reply { masks }     (one per step: every
//            row accepts its sampled tokens, then its next mask [ceil(vocabSize / 32)] u32 is computed)
//   dispose { matcherIds }
import type { OutputConstraint } from './constraint';
import { GrammarError, type GrammarErrorCode } from './errors';
import type { WireGrammarVocab } from './vocab';

export type ToGrammarWorker =
  | { type: 'init'; id: number; vocab: WireGrammarVocab }
  | { type: 'compile'; id: number; constraint: OutputConstraint }
  | { type: 'create'; id: number; matcherId: number; constraint: OutputConstraint; extraStopTokenIds: number[] }
  | { type: 'fork'; id: number; matcherId: number; fromId: number }
  | { type: 'masks'; id: number; rows: MaskRow[] }
  | { type: 'dispose'; matcherIds: number[] };

export interface MaskRow {
  matcherId: number;
  /** Tokens sampled since the last mask, accepted before this one is computed. */
  accept: number[];
}

/** A row's answer: its mask, or why there is none (a refused token is a GrammarError too). */
export type MaskResult = Uint32Array | WireGrammarError;

export type FromGrammarWorker =
  | { type: 'reply'; id: number; ok: true; key?: string; masks?: MaskResult[] }
  | { type: 'reply'; id: number; ok: false; error: WireGrammarError };

export interface WireGrammarError {
  code: GrammarErrorCode | 'internal';
  message: string;
  param?: string;
}

/** Any error as it crosses the boundary: a GrammarError keeps its code and param. */
export function toWireError(err: unknown): WireGrammarError {
  if (err instanceof GrammarError) return { code: err.code, message: err.message, param: err.param };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}

export function fromWireError(e: WireGrammarError): Error {
  return e.code === 'internal' ? new Error(`grammar worker: ${e.message}`) : new GrammarError(e.code, e.message, e.param);
}

/** One end of the channel: a Web Worker, a worker_threads Worker, a MessagePort (worker-port.ts). */
export interface GrammarPort {
  postMessage(message: ToGrammarWorker | FromGrammarWorker, transfer?: Transferable[]): void;
  /** Every message from the other end. */
  onMessage(handler: (message: unknown) => void): void;
  /** The other end is gone (crashed, exited, failed to load): called at most once. */
  onExit(handler: (reason: string) => void): void;
  terminate(): void;
}
