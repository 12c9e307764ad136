// The page's one loaded model: a WorkerEngine (demo/engine.worker.ts) behind the fetch
// shim, so every tab talks to it the way an app talks to a local vLLM server — the
// `openai` client at http://localhost:8000/v1. Loading another model replaces it.
import OpenAI from 'openai';
import { createWorkerEngine, type WorkerEngine } from '../src/client/worker-engine';
import type { EngineInfo } from '../src/openai/engine-api';
import { installFetchShim } from '../src/shim/fetch';
import type { DemoLoadOptions, DemoProgress } from './progress';

export const LOCAL_BASE_URL = 'http://localhost:8000/v1';

export interface SessionListener {
  onLoading?(what: string): void;
  onProgress?(p: DemoProgress): void;
  onLoaded?(info: EngineInfo): void;
  onError?(err: unknown): void;
}

export class DemoSession {
  engine: WorkerEngine | undefined;
  info: EngineInfo | undefined;
  /** The embedding model loaded beside the chat model (the RAG flow), if any. */
  embedInfo: EngineInfo | undefined;
  /** The same client code that would talk to a real vLLM server; here the shim answers it. */
  readonly client = new OpenAI({
    baseURL: LOCAL_BASE_URL,
    apiKey: 'none',
    dangerouslyAllowBrowser: true,
    // Looked up per call, so the client sees whichever shim is installed now.
    fetch: (input, init) => globalThis.fetch(input, init),
    maxRetries: 0,
  });
  private uninstallShim: (() => void) | undefined;
  private readonly listeners: SessionListener[] = [];
  private loading: Promise<void> | undefined;

  constructor(private readonly fake: boolean) {}

  listen(l: SessionListener): void {
    this.listeners.push(l);
  }

  get busy(): boolean {
    return this.loading !== undefined;
  }

  /** Loads `model` (URL, `org/repo:file`, or a local File), replacing the current one. */
  async load(model: string | File): Promise<void> {
    if (this.loading) throw new Error('a model is already loading');
    this.loading = this.doLoad(model).finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async doLoad(model: string | File): Promise<void> {
    const what = typeof model === 'string' ? model : model.name;
    this.emit((l) => l.onLoading?.(what));
    await this.unload();
    const worker = new Worker(new URL('./engine.worker.ts', import.meta.url), {
      type: 'module',
      name: this.fake ? 'tabllm-demo-fake' : 'tabllm-demo-engine',
    });
    const options: DemoLoadOptions = { model };
    try {
      // The worker's load() takes `string | File` (it runs loadModel itself); the library's
      // option type names createEngine's wider SourceInput, which a File or string is.
      this.engine = await createWorkerEngine({
        ...options,
        worker,
        onProgress: (p) => this.emit((l) => l.onProgress?.(p as DemoProgress)),
      });
    } catch (err) {
      worker.terminate();
      this.emit((l) => l.onError?.(err));
      throw err;
    }
    this.info = this.engine.loaded;
    this.uninstallShim = installFetchShim(this.engine);
    const info = this.info;
    this.emit((l) => l.onLoaded?.(info));
  }

  /** Loads an embedding model into the same engine (same worker and device), beside the chat model. */
  async loadEmbedding(source: string, modelId: string): Promise<EngineInfo> {
    if (!this.engine?.loadModel) throw new Error('engine_not_loaded: load a chat model first');
    this.embedInfo = await this.engine.loadModel({ model: new URL(source, location.href).href, modelId });
    return this.embedInfo;
  }

  async unload(): Promise<void> {
    this.embedInfo = undefined;
    this.uninstallShim?.();
    this.uninstallShim = undefined;
    const old = this.engine;
    this.engine = undefined;
    this.info = undefined;
    await old?.terminate();
  }

  private emit(f: (l: SessionListener) => void): void {
    for (const l of this.listeners) {
      try {
        f(l);
      } catch (err) {
        console.error(err);
      }
    }
  }
}
