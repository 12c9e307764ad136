// The dedicated worker createWorkerEngine starts when it is given none. Written the one way
// every bundler recognises — `new Worker(new URL(<relative literal>, import.meta.url),
// { type: 'module' })` — so a consumer's Vite, webpack 5 or Parcel bundles the worker
// without configuration. The library build (vite.config.ts, workerUrlsForBundlers) swaps
// this source path for './worker/engine.worker.js', the self-contained file in dist/.
// The options stay a literal object: Vite reads `type` statically and refuses anything else.
export const DEFAULT_WORKER_NAME = 'tabllm-engine';

/** Where the default worker comes from, for error messages (the bundler may rename the file). */
export const DEFAULT_WORKER_DESCRIPTION = "tabllm's default engine worker (tabllm/dist/worker/engine.worker.js)";

export function startDefaultWorker(): Worker {
  return new Worker(new URL('../../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'tabllm-engine' });
}
