// createWorkerEngine: the engine in a dedicated worker (or shared by every tab of the
// origin through a SharedWorker), behind the same `Engine` interface as createEngine.
import type { CreateEngineOptions, LoadProgress } from '../engine/engine';
import type { Engine, EngineInfo } from '../engine/engine-api';
import { RemoteEngine } from './remote-engine';

/** createEngine's options that survive postMessage (no GPU object, no callbacks, no custom runner). */
export type WorkerEngineOptions = Omit<CreateEngineOptions, 'gpu' | 'onProgress' | 'createRunner' | 'now'>;

export interface CreateWorkerEngineOptions extends WorkerEngineOptions {
  /** A Worker running `tabllm/worker` (worker/engine.worker.ts); by default one is created. */
  worker?: Worker;
  /** Share one engine between the tabs of this origin (a SharedWorker running worker/shared.worker.ts). */
  shared?: SharedWorker;
  onProgress?: (p: LoadProgress) => void;
}

export interface WorkerEngine extends Engine {
  /** The loaded model (as `info()` reports it). */
  readonly loaded: EngineInfo;
  /** Unloads the model and ends a worker this call created. */
  terminate(): Promise<void>;
}

export async function createWorkerEngine(options: CreateWorkerEngineOptions): Promise<WorkerEngine> {
  const { worker: given, shared, onProgress, ...engineOptions } = options;
  let owned: Worker | undefined;
  let remote: RemoteEngine;
  if (shared) {
    shared.port.start();
    remote = RemoteEngine.connect(shared.port);
  } else {
    const worker = given ?? (owned = new Worker(new URL('../../worker/engine.worker.ts', import.meta.url), { type: 'module', name: 'tabllm-engine' }));
    remote = RemoteEngine.connect(worker);
  }
  try {
    const loaded = await remote.load(engineOptions, onProgress);
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
  }
}
