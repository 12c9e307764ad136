// The engine in a Web Worker, written the way WebLLM apps write it:
//
//   // worker.ts
//   import { WebWorkerMLCEngineHandler } from 'tabllm/webllm';
//   const handler = new WebWorkerMLCEngineHandler();
//   self.onmessage = (msg) => handler.onmessage(msg);
//
//   // main.ts
//   const engine = await CreateWebWorkerMLCEngine(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }), modelId, { initProgressCallback });
//
// No protocol of its own: the page side is the same MLCEngine facade that runs in-thread
// (engine.ts), whose per-model engines are `RemoteEngine`s; the handler hosts each model's
// tabllm engine with `hostEngine` (src/client/host.ts) on a MessageChannel of its own, since
// an MLCEngine may hold several models. Over the worker's own channel, comlink carries only
// the small root API below (`connect` a model's port, `adapter` facts). So WebLLM's checks,
// chat session and response shapes run on the page, and streams, cancel and coded errors
// cross the worker boundary as they do for createWorkerEngine (port-stream.ts, wire-errors.ts).
//
// A message in WebLLM's own protocol (a page still importing '@mlc-ai/web-llm') is answered
// with WebLLM's `throw`, so that page fails with a reason instead of waiting forever.
import * as Comlink from 'comlink';
import { hostEngine, type EngineFactory } from '../../client/host';
import { RemoteEngine } from '../../client/remote-engine';
import type { ChatOptions, InitProgressReport, MLCEngineConfig } from './types';
import { MLCEngine, type ModelEngine, type TabllmMLCEngineConfig } from './engine';
import { adapterFacts, loadWebLLMModel, type AdapterFacts } from './load';
import type { ResolvedModel } from './prebuilt';

/** What the page asks the worker to load: the id resolved on the page, and the app config (cacheBackend). */
interface ModelToLoad {
  resolved: ResolvedModel;
  appConfig: MLCEngineConfig['appConfig'];
}

/** The root API the handler exposes over the worker's own channel. */
interface WorkerRootApi {
  /** Hosts one model's engine on `port` (hostEngine's protocol; one port per loaded model). */
  connect(port: MessagePort): void;
  /** The worker's adapter, for getGPUVendor / getMaxStorageBufferBindingSize; null: no WebGPU there. */
  adapter(): Promise<AdapterFacts | null>;
}

type Listener = (event: MessageEvent) => void;

/** A WebLLM-protocol message (`{ kind, uuid, content }`), which comlink's messages never are. */
function webllmUuid(data: unknown): string | undefined {
  const d = data as { kind?: unknown; uuid?: unknown } | null;
  return d && typeof d.kind === 'string' && typeof d.uuid === 'string' ? d.uuid : undefined;
}

// ---------------------------------------------------------------------------------------
// Worker side

/** The handler's tabllm extension: the worker's GPU, KV budget, storage and runner (MLCEngine's options of those names). */
export type WebWorkerHandlerOptions = Pick<TabllmMLCEngineConfig, 'gpu' | 'kvCacheBytes' | 'storage' | 'createRunner'>;

export class WebWorkerMLCEngineHandler {
  private readonly listeners = new Set<Listener>();

  constructor(options: WebWorkerHandlerOptions = {}) {
    const gpu = () => (options.gpu as GPU | undefined) ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    const factory: EngineFactory<InitProgressReport> = (load, onProgress) => {
      const { resolved, appConfig } = load as ModelToLoad;
      return loadWebLLMModel({
        resolved, appConfig, gpu: gpu(), kvCacheBytes: options.kvCacheBytes, storage: options.storage,
        createRunner: options.createRunner, onReport: onProgress,
      });
    };
    const api: WorkerRootApi = {
      connect: (port) => void hostEngine(port, factory),
      adapter: () => adapterFacts(gpu()),
    };
    Comlink.expose(api, {
      postMessage: (msg: unknown, transfer?: Transferable[]) => this.postMessage(msg, transfer),
      addEventListener: (_type: string, l: EventListenerOrEventListenerObject) => void this.listeners.add(l as Listener),
      removeEventListener: (_type: string, l: EventListenerOrEventListenerObject) => void this.listeners.delete(l as Listener),
    });
  }

  /** Replies to the page; in a worker, the global postMessage (WebLLM apps may override it, as WebLLM documents). */
  postMessage(msg: unknown, transfer?: Transferable[]): void {
    (globalThis as unknown as { postMessage(m: unknown, t?: Transferable[]): void }).postMessage(msg, transfer);
  }

  /** Bound, so both `self.onmessage = handler.onmessage` and `(e) => handler.onmessage(e)` work. */
  onmessage = (event: { data: unknown }): void => {
    const uuid = webllmUuid(event.data);
    if (uuid !== undefined) {
      // A message in WebLLM's own protocol: the page still imports '@mlc-ai/web-llm'. Answer
      // in that protocol, so the page's promise rejects with the reason instead of hanging.
      this.postMessage({ kind: 'throw', uuid, content: 'Error: this worker runs tabllm/webllm; create the page-side engine with CreateWebWorkerMLCEngine from tabllm/webllm as well' });
      return;
    }
    for (const l of this.listeners) l(event as MessageEvent);
  };
}

// ---------------------------------------------------------------------------------------
// Page side

export interface ChatWorker {
  onmessage: unknown;
  postMessage: (message: unknown) => void;
}

/** A comlink endpoint on a Worker-like object that offers only `onmessage` and `postMessage` (WebLLM's contract). */
function endpointOf(worker: ChatWorker): Comlink.Endpoint {
  const listeners = new Set<Listener>();
  worker.onmessage = (event: MessageEvent) => {
    for (const l of listeners) l(event);
  };
  return {
    postMessage: (msg: unknown, transfer?: Transferable[]) => (worker.postMessage as (m: unknown, t?: Transferable[]) => void)(msg, transfer),
    addEventListener: (_type: string, l: EventListenerOrEventListenerObject) => void listeners.add(l as Listener),
    removeEventListener: (_type: string, l: EventListenerOrEventListenerObject) => void listeners.delete(l as Listener),
  };
}

/** engineConfig.logitProcessorRegistry cannot cross postMessage; WebLLM ignores it on the page side too. */
function pageConfig(engineConfig: MLCEngineConfig | undefined): MLCEngineConfig | undefined {
  if (!engineConfig) return undefined;
  const { logitProcessorRegistry: _ignored, ...rest } = engineConfig;
  return rest;
}

export async function CreateWebWorkerMLCEngine(worker: ChatWorker, modelId: string | string[], engineConfig?: MLCEngineConfig, chatOpts?: ChatOptions | ChatOptions[]): Promise<WebWorkerMLCEngine> {
  const engine = new WebWorkerMLCEngine(worker, engineConfig);
  await engine.reload(modelId, chatOpts);
  return engine;
}

/** MLCEngine whose models load in the worker running WebWorkerMLCEngineHandler. */
export class WebWorkerMLCEngine extends MLCEngine {
  private readonly root: Comlink.Remote<WorkerRootApi>;

  constructor(
    readonly worker: ChatWorker,
    engineConfig?: MLCEngineConfig,
  ) {
    super(pageConfig(engineConfig));
    this.root = Comlink.wrap<WorkerRootApi>(endpointOf(worker));
  }

  protected override async loadModel(resolved: ResolvedModel, _signal: AbortSignal, onReport: (r: InitProgressReport) => void): Promise<ModelEngine> {
    // The worker finishes a load it started; reload() destroys the engine when it was aborted meanwhile.
    const { port1, port2 } = new MessageChannel();
    await this.root.connect(Comlink.transfer(port2, [port2]));
    const remote = RemoteEngine.connect<InitProgressReport>(port1);
    try {
      await remote.load({ resolved, appConfig: this.appConfig } satisfies ModelToLoad, onReport);
    } catch (err) {
      port1.close();
      throw err;
    }
    return Object.assign(remote, {
      destroy: async () => {
        try {
          await remote.unload();
        } finally {
          port1.close();
        }
      },
    });
  }

  protected override adapterFacts(): Promise<AdapterFacts | null> {
    return this.root.adapter();
  }
}
