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
// Protocol (ours; both ends ship together). Page → worker: `call` (a method and its
// arguments), `cancel` (a stream the page stopped reading). Worker → page: `return`,
// `throw` (an error as { name, message, code }, rebuilt with its name on the page),
// `chunk` / `end` (stream items, pushed as they come), `progress` (an InitProgressReport).
// A streaming call returns the marker 'stream', then its chunks follow under the same id.
// A message in WebLLM's own protocol (a page not yet migrated) is answered with WebLLM's
// `throw`, so that page fails with a reason instead of waiting forever.
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatCompletionRequestBase, ChatCompletionRequestNonStreaming, ChatCompletionRequestStreaming, Chat, Completion, CompletionCreateParams, CompletionCreateParamsBase, CompletionCreateParamsNonStreaming, CompletionCreateParamsStreaming, Completions, CreateEmbeddingResponse, EmbeddingCreateParams, Embeddings } from './protocol';
import type { AppConfig, ChatOptions, InitProgressCallback, LogLevel, MLCEngineConfig, MLCEngineInterface, ResumeProbeResult, ResumeResult } from './types';
import { MLCEngine } from './engine';
import { WebLLMCompatError, type WebLLMErrorCode } from './errors';

type Method =
  | 'reload' | 'unload' | 'chatCompletion' | 'completion' | 'embedding' | 'interruptGenerate' | 'resetChat' | 'getMessage'
  | 'runtimeStatsText' | 'getMaxStorageBufferBindingSize' | 'getGPUVendor' | 'setAppConfig' | 'setLogLevel'
  | 'forwardTokensAndSample' | 'listResumableSessions' | 'resumeChatCompletion' | 'deleteResumableSession';

type ToWorker = { kind: 'call'; id: number; method: Method; args: unknown[] } | { kind: 'cancel'; id: number };

interface WireErr {
  name: string;
  message: string;
  code?: string;
}

type ToPage =
  | { kind: 'return'; id: number; value: unknown }
  | { kind: 'throw'; id: number; error: WireErr }
  | { kind: 'chunk'; id: number; chunk: unknown }
  | { kind: 'end'; id: number }
  | { kind: 'progress'; report: unknown };

const STREAM = '__tabllm_webllm_stream__';

function toWire(err: unknown): WireErr {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(err) };
}

function fromWire(w: WireErr): Error {
  if (w.code !== undefined) return new WebLLMCompatError(w.code as WebLLMErrorCode, w.name, w.message);
  const err = new Error(w.message);
  err.name = w.name;
  return err;
}

// ---------------------------------------------------------------------------------------
// Worker side

export class WebWorkerMLCEngineHandler {
  readonly engine: MLCEngine;
  private readonly streams = new Map<number, AsyncIterator<unknown>>();

  /** `engine` is a tabllm extension (a preconfigured engine); WebLLM's handler takes no argument. */
  constructor(engine?: MLCEngine) {
    this.engine = engine ?? new MLCEngine();
    this.engine.setInitProgressCallback((report) => this.postMessage({ kind: 'progress', report } satisfies ToPage));
  }

  /** Replies to the page; in a worker, the global postMessage. */
  postMessage(msg: unknown): void {
    (globalThis as unknown as { postMessage(m: unknown): void }).postMessage(msg);
  }

  /** Bound, so both `self.onmessage = handler.onmessage` and `(e) => handler.onmessage(e)` work. */
  onmessage = (event: { data: unknown }): void => {
    const msg = event.data as ToWorker;
    if (msg?.kind === 'cancel') {
      void this.streams.get(msg.id)?.return?.();
      this.streams.delete(msg.id);
    } else if (msg?.kind === 'call') {
      void this.handle(msg.id, msg.method, msg.args);
    } else {
      // A message in WebLLM's own protocol: the page still imports '@mlc-ai/web-llm'. Answer
      // in that protocol, so the page's promise rejects with the reason instead of hanging.
      const uuid = (event.data as { uuid?: unknown })?.uuid;
      if (typeof uuid === 'string') {
        this.postMessage({ kind: 'throw', uuid, content: 'Error: this worker runs tabllm/webllm; create the page-side engine with CreateWebWorkerMLCEngine from tabllm/webllm as well' });
      }
    }
  };

  private async handle(id: number, method: Method, args: unknown[]): Promise<void> {
    let value: unknown;
    try {
      value = await (this.engine[method] as (...a: unknown[]) => unknown).apply(this.engine, args);
    } catch (err) {
      this.postMessage({ kind: 'throw', id, error: toWire(err) } satisfies ToPage);
      return;
    }
    const streaming = (method === 'chatCompletion' || method === 'completion') && (args[0] as { stream?: boolean })?.stream === true;
    if (!streaming) {
      this.postMessage({ kind: 'return', id, value } satisfies ToPage);
      return;
    }
    const it = (value as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    this.streams.set(id, it);
    this.postMessage({ kind: 'return', id, value: STREAM } satisfies ToPage);
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) this.postMessage({ kind: 'chunk', id, chunk: r.value } satisfies ToPage);
      this.postMessage({ kind: 'end', id } satisfies ToPage);
    } catch (err) {
      this.postMessage({ kind: 'throw', id, error: toWire(err) } satisfies ToPage);
    } finally {
      this.streams.delete(id);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Page side

export interface ChatWorker {
  onmessage: unknown;
  postMessage: (message: unknown) => void;
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Chunks pushed by the worker, pulled by `for await`. */
class ChunkQueue {
  readonly items: unknown[] = [];
  done = false;
  error: unknown;
  wake: (() => void) | undefined;
  push(): void {
    this.wake?.();
    this.wake = undefined;
  }
}

export async function CreateWebWorkerMLCEngine(worker: ChatWorker, modelId: string | string[], engineConfig?: MLCEngineConfig, chatOpts?: ChatOptions | ChatOptions[]): Promise<WebWorkerMLCEngine> {
  const engine = new WebWorkerMLCEngine(worker, engineConfig);
  await engine.reload(modelId, chatOpts);
  return engine;
}

export class WebWorkerMLCEngine implements MLCEngineInterface {
  chat: Chat;
  completions: Completions;
  embeddings: Embeddings;
  private initProgressCallback: InitProgressCallback | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly queues = new Map<number, ChunkQueue>();

  constructor(
    readonly worker: ChatWorker,
    engineConfig?: MLCEngineConfig,
  ) {
    // engineConfig.logitProcessorRegistry cannot cross postMessage (WebLLM ignores it here too);
    // the worker-side engine rejects registries, since tabllm samples on the GPU.
    this.initProgressCallback = engineConfig?.initProgressCallback;
    worker.onmessage = (event: { data: unknown }) => this.onmessage(event);
    if (engineConfig?.appConfig) this.setAppConfig(engineConfig.appConfig);
    if (engineConfig?.logLevel) this.setLogLevel(engineConfig.logLevel);
    this.chat = { completions: { create: (r: ChatCompletionRequest) => this.chatCompletion(r) } } as unknown as Chat;
    this.completions = { create: (r: CompletionCreateParams) => this.completion(r) } as unknown as Completions;
    this.embeddings = { create: (r: EmbeddingCreateParams) => this.embedding(r) } as unknown as Embeddings;
  }

  onmessage(event: { data: unknown }): void {
    const msg = event.data as ToPage;
    if (msg.kind === 'progress') {
      this.initProgressCallback?.(msg.report as Parameters<InitProgressCallback>[0]);
      return;
    }
    const queue = this.queues.get(msg.id);
    if (queue && (msg.kind === 'chunk' || msg.kind === 'end' || msg.kind === 'throw')) {
      if (msg.kind === 'chunk') queue.items.push(msg.chunk);
      else if (msg.kind === 'end') queue.done = true;
      else {
        queue.done = true;
        queue.error = fromWire(msg.error);
      }
      queue.push();
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.kind === 'throw') p.reject(fromWire(msg.error));
    else if (msg.kind === 'return') p.resolve(msg.value);
  }

  private call<T>(method: Method, args: unknown[] = [], streamId?: number): Promise<T> {
    const id = streamId ?? this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ kind: 'call', id, method, args } satisfies ToWorker);
    });
  }

  private async *drain(id: number, queue: ChunkQueue): AsyncGenerator<never> {
    try {
      for (;;) {
        while (queue.items.length > 0) yield queue.items.shift() as never;
        if (queue.done) {
          if (queue.error) throw queue.error;
          return;
        }
        await new Promise<void>((r) => (queue.wake = r));
      }
    } finally {
      this.queues.delete(id);
      // A `break` out of `for await`: stop the generation in the worker too.
      if (!queue.done) this.worker.postMessage({ kind: 'cancel', id } satisfies ToWorker);
    }
  }

  private async generate(method: 'chatCompletion' | 'completion', request: { stream?: boolean | null }): Promise<unknown> {
    if (request.stream !== true) return this.call(method, [request]);
    const id = this.nextId++;
    const queue = new ChunkQueue();
    this.queues.set(id, queue);
    try {
      await this.call(method, [request], id);
    } catch (err) {
      this.queues.delete(id);
      throw err;
    }
    return this.drain(id, queue);
  }

  setInitProgressCallback(initProgressCallback?: InitProgressCallback): void {
    this.initProgressCallback = initProgressCallback;
  }
  getInitProgressCallback(): InitProgressCallback | undefined {
    return this.initProgressCallback;
  }
  setAppConfig(appConfig: AppConfig): void {
    void this.call('setAppConfig', [appConfig]);
  }
  setLogLevel(logLevel: LogLevel): void {
    void this.call('setLogLevel', [logLevel]);
  }
  async reload(modelId: string | string[], chatOpts?: ChatOptions | ChatOptions[]): Promise<void> {
    await this.call('reload', [modelId, chatOpts]);
  }
  async unload(): Promise<void> {
    await this.call('unload');
  }
  getMaxStorageBufferBindingSize(): Promise<number> {
    return this.call('getMaxStorageBufferBindingSize');
  }
  getGPUVendor(): Promise<string> {
    return this.call('getGPUVendor');
  }
  getMessage(modelId?: string): Promise<string> {
    return this.call('getMessage', [modelId]);
  }
  runtimeStatsText(modelId?: string): Promise<string> {
    return this.call('runtimeStatsText', [modelId]);
  }
  interruptGenerate(): void {
    void this.call('interruptGenerate');
  }
  async resetChat(keepStats?: boolean, modelId?: string): Promise<void> {
    await this.call('resetChat', [keepStats, modelId]);
  }
  forwardTokensAndSample(inputIds: number[], isPrefill: boolean, modelId?: string): Promise<number> {
    return this.call('forwardTokensAndSample', [inputIds, isPrefill, modelId]);
  }
  chatCompletion(request: ChatCompletionRequestNonStreaming): Promise<ChatCompletion>;
  chatCompletion(request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>>;
  chatCompletion(request: ChatCompletionRequestBase): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
  chatCompletion(request: ChatCompletionRequest): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
  chatCompletion(request: ChatCompletionRequestBase): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion> {
    return this.generate('chatCompletion', request) as Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
  }
  completion(request: CompletionCreateParamsNonStreaming): Promise<Completion>;
  completion(request: CompletionCreateParamsStreaming): Promise<AsyncIterable<Completion>>;
  completion(request: CompletionCreateParamsBase): Promise<AsyncIterable<Completion> | Completion>;
  completion(request: CompletionCreateParams): Promise<AsyncIterable<Completion> | Completion>;
  completion(request: CompletionCreateParamsBase): Promise<AsyncIterable<Completion> | Completion> {
    return this.generate('completion', request) as Promise<AsyncIterable<Completion> | Completion>;
  }
  embedding(request: EmbeddingCreateParams): Promise<CreateEmbeddingResponse> {
    return this.call('embedding', [request]);
  }
  listResumableSessions(): Promise<ResumeProbeResult[]> {
    return this.call('listResumableSessions');
  }
  resumeChatCompletion(sessionId: string): Promise<ResumeResult | AsyncIterable<ChatCompletionChunk>> {
    return this.call('resumeChatCompletion', [sessionId]);
  }
  deleteResumableSession(sessionId: string): Promise<void> {
    return this.call('deleteResumableSession', [sessionId]);
  }
}
