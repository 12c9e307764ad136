// createWorkerEngine: the engine in a dedicated worker (or shared by every tab of the
// origin through a SharedWorker), behind the same `Engine` interface as createEngine.
import type { CreateEngineOptions, LoadProgress } from '../create-engine';
import type { Engine, EngineInfo } from '../openai/engine-api';
import { DEFAULT_WORKER_DESCRIPTION, DEFAULT_WORKER_NAME, startDefaultWorker } from './default-worker';
import { RemoteEngine } from './remote-engine';
import { awaitWorkerStart, watchWorker, WORKER_START_TIMEOUT_MS } from './worker-start';

/** createEngine's options that survive postMessage (no GPU object, no callbacks, no custom runner). */
export type WorkerEngineOptions = Omit<CreateEngineOptions, 'gpu' | 'onProgress' | 'createRunner' | 'now'>;

export interface CreateWorkerEngineOptions extends WorkerEngineOptions {
  /** A Worker running `tabllm/worker` (worker/engine.worker.ts); by default one is created. */
  worker?: Worker;
  /**
   * Where to load the worker script from, when no bundler handles the default one (a copy of
   * `tabllm/dist/worker/engine.worker.js` served by the app); ignored when `worker` is given.
   */
  workerUrl?: string | URL;
  /** Share one engine between the tabs of this origin (a SharedWorker running worker/shared.worker.ts). */
  shared?: SharedWorker;
  /** How long the worker may take to start and answer its first ping (default 10 s); the model load itself has no limit. */
  startTimeoutMs?: number;
  onProgress?: (p: LoadProgress) => void;
}

export interface WorkerEngine extends Engine {
  /** The loaded model (as `info()` reports it). */
  readonly loaded: EngineInfo;
  /** Unloads the model and ends a worker this call created. */
  terminate(): Promise<void>;
}

export async function createWorkerEngine(options: CreateWorkerEngineOptions): Promise<WorkerEngine> {
  const { worker: given, workerUrl, shared, onProgress, startTimeoutMs = WORKER_START_TIMEOUT_MS, ...engineOptions } = options;
  let owned: Worker | undefined;
  let remote: RemoteEngine;
  let what: string;
  let watched: EventTarget[];
  if (shared) {
    shared.port.start();
    remote = RemoteEngine.connect(shared.port);
    what = 'the shared worker given in options.shared';
    watched = [shared, shared.port];
  } else {
    let worker = given;
    if (worker) what = 'the worker given in options.worker';
    else if (workerUrl !== undefined) {
      what = `the engine worker at ${String(workerUrl)}`;
      worker = owned = new Worker(workerUrl, { type: 'module', name: DEFAULT_WORKER_NAME });
    } else {
      what = DEFAULT_WORKER_DESCRIPTION;
      worker = owned = startDefaultWorker();
    }
    remote = RemoteEngine.connect(worker);
    watched = [worker];
  }
  const watch = watchWorker(watched, what);
  try {
    await awaitWorkerStart(() => remote.ping(), watch, what, startTimeoutMs);
    // A worker that dies while loading (out of memory, a crash) must not leave load() hanging.
    const loaded = await Promise.race([remote.load(engineOptions, onProgress), watch.failed]);
    return Object.assign(remote, {
      loaded,
      terminate: async () => {
        if (!shared) await remote.unload().catch(() => {});
        owned?.terminate();
      },
    });
  } catch (err) {
    owned?.terminate();
    throw err;
  } finally {
    watch.dispose();
  }
}
