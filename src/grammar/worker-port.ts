// Where a grammar worker comes from, and each kind of worker as one GrammarPort
// (worker-protocol.ts): a browser Worker, a Node worker_threads Worker, a MessagePort (tests,
// or an app that hosts grammar-host.ts itself).
//
// The browser worker is written the way every bundler recognises (new Worker(new URL(<relative
// literal>, import.meta.url), { type: 'module' })); the library build (vite.config.ts) swaps the
// source path for './worker/grammar.worker.js', the self-contained file scripts/build.mjs
// writes to dist/worker/. Node starts that same built file with worker_threads.
import type { GrammarPort } from './worker-protocol';

/** The grammar worker for a page or a dedicated worker (a nested worker: fine in Chromium and Firefox). */
export function startBrowserGrammarWorker(): GrammarPort {
  return webWorkerPort(new Worker(new URL('../../worker/grammar.worker.ts', import.meta.url), { type: 'module', name: 'tabllm-grammar' }));
}

/** The built worker's path relative to the library chunk at the top of dist/ (a variable: no bundler rewrites it). */
const NODE_WORKER_FILE = './worker/grammar.worker.js';

/** What Node needs to start a worker_threads grammar worker (imported by the caller: this file also runs in browsers). */
export interface NodeWorkerModules {
  Worker: new (url: URL, options?: { workerData?: unknown; name?: string }) => NodeWorkerLike;
  existsSync(url: URL): boolean;
}

/**
 * A starter for the built grammar worker in Node, or undefined where this code does not run
 * from dist/ (from source, under vitest or tsx: there is no built file; the grammar then runs
 * in-thread).
 */
export function nodeGrammarWorkerStarter(mods: NodeWorkerModules, base: string = import.meta.url): (() => GrammarPort) | undefined {
  const url = new URL(NODE_WORKER_FILE, base);
  if (url.protocol !== 'file:' || !mods.existsSync(url)) return undefined;
  return () => nodeWorkerPort(new mods.Worker(url, { name: 'tabllm-grammar' }));
}

/** The subset of a browser Worker a port uses. */
export interface WebWorkerLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (e: MessageEvent) => void): void;
  addEventListener(type: 'error', listener: (e: ErrorEvent) => void): void;
  terminate(): void;
}

export function webWorkerPort(worker: WebWorkerLike): GrammarPort {
  let onExit: ((reason: string) => void) | undefined;
  let exited = false;
  const exit = (reason: string) => {
    if (exited) return;
    exited = true;
    onExit?.(reason);
  };
  // A worker script that does not load (404, CSP, syntax) or throws at the top reports here and nowhere else.
  worker.addEventListener('error', (e: ErrorEvent) => {
    e.preventDefault?.();
    exit(e.message || 'its script did not load');
  });
  return {
    postMessage: (message, transfer = []) => worker.postMessage(message, transfer),
    onMessage: (handler) => worker.addEventListener('message', (e: MessageEvent) => handler(e.data)),
    onExit: (handler) => (onExit = handler),
    terminate: () => {
      worker.terminate();
      exit('terminated');
    },
  };
}

/** The subset of a worker_threads Worker a port uses. */
export interface NodeWorkerLike {
  postMessage(message: unknown, transfer?: readonly Transferable[]): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): unknown;
}

export function nodeWorkerPort(worker: NodeWorkerLike): GrammarPort {
  let onExit: ((reason: string) => void) | undefined;
  let lastError: Error | undefined;
  // Not unref'd: a request waiting for a mask must keep the process alive. The engine's
  // destroy() ends the worker (RemoteGrammarService.close).
  worker.on('error', (err) => (lastError = err));
  worker.on('exit', (code) => onExit?.(lastError ? lastError.message : `exit code ${code}`));
  return {
    postMessage: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: (handler) => worker.on('message', handler),
    onExit: (handler) => (onExit = handler),
    terminate: () => void worker.terminate(),
  };
}

/** One end of a MessageChannel (the other end runs hostGrammar). */
export function messagePortPort(port: MessagePort): GrammarPort {
  let onExit: ((reason: string) => void) | undefined;
  return {
    postMessage: (message, transfer = []) => port.postMessage(message, transfer),
    onMessage: (handler) => {
      port.addEventListener('message', (e: MessageEvent) => handler(e.data));
      port.start();
    },
    onExit: (handler) => (onExit = handler),
    terminate: () => {
      port.close();
      onExit?.('terminated');
    },
  };
}
