// Which GrammarService an engine gets (createEngine's `grammarWorker` option):
//
//   'auto' (default) ─► Node: the built grammar worker (dist/worker/grammar.worker.js) in a
//                       worker_threads Worker; from source (no built file) in-thread
//                    ─► a page or a dedicated worker: a module Worker (nested in the engine's worker)
//                    ─► where no Worker can be created (a service worker), or the worker does
//                       not start (its file is not served, a CSP refuses it): in-thread
//   'off'            ─► in-thread (XGrammar on the engine's thread: a compile stalls the steps)
//   () => GrammarPort ─► that worker (an app that serves the file elsewhere, or hosts grammar-host.ts itself)
import type { Tokenizer } from '../model/tokenizer';
import type { GrammarService } from './backend';
import { GrammarCompilerService } from './compiler';
import { RemoteGrammarService } from './remote';
import { grammarVocab, wireGrammarVocab } from './vocab';
import { nodeGrammarWorkerStarter, startBrowserGrammarWorker, type NodeWorkerModules } from './worker-port';
import type { GrammarPort } from './worker-protocol';

export type GrammarWorkerOption = 'auto' | 'off' | (() => GrammarPort);

/** The grammar service for one model; XGrammar loads, and the vocabulary is walked, on the first constrained request. */
export async function createGrammarService(tokenizer: Tokenizer, vocabSize: number, option: GrammarWorkerOption = 'auto'): Promise<GrammarService> {
  const start = option === 'off' ? undefined : option === 'auto' ? await defaultGrammarWorker() : option;
  const inThread = () => new GrammarCompilerService(() => grammarVocab(tokenizer, vocabSize));
  if (start === undefined) return inThread();
  // A worker that cannot start (its file not served beside the bundle, a CSP) leaves constrained decoding in-thread, not broken.
  return new RemoteGrammarService(() => wireGrammarVocab(tokenizer, vocabSize), start, { fallback: inThread });
}

function isNode(): boolean {
  const g = globalThis as { process?: { versions?: { node?: string } }; WorkerGlobalScope?: unknown; window?: unknown };
  return typeof g.process?.versions?.node === 'string' && g.WorkerGlobalScope === undefined && g.window === undefined;
}

/** How this host starts a grammar worker, or undefined where it cannot (then: in-thread). */
export async function defaultGrammarWorker(): Promise<(() => GrammarPort) | undefined> {
  if (isNode()) {
    // Computed specifiers: a browser bundle must not try to resolve them.
    const load = (name: string) => import(/* @vite-ignore */ ['node', name].join(':'));
    const [{ Worker }, { existsSync }] = await Promise.all([load('worker_threads'), load('fs')]);
    return nodeGrammarWorkerStarter({ Worker, existsSync } as NodeWorkerModules);
  }
  return typeof Worker === 'function' ? startBrowserGrammarWorker : undefined;
}
