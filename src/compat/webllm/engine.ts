// MLCEngine for apps written against `@mlc-ai/web-llm`: the same class, factory and method
// names (conformance to WebLLM's MLCEngineInterface is checked by the compiler), running
// tabllm's engine underneath. The difference apps notice is concurrency: several
// chat.completions.create calls in flight are batched by the engine core instead of waiting
// on a per-model lock. Where a model's engine lives is the one thing WebWorkerMLCEngine
// (worker.ts) changes: it overrides loadModel/adapterFacts to reach engines hosted in a worker.
import type { Chat, ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatCompletionRequestBase, ChatCompletionRequestNonStreaming, ChatCompletionRequestStreaming, Completion, CompletionCreateParams, CompletionCreateParamsBase, CompletionCreateParamsNonStreaming, CompletionCreateParamsStreaming, Completions, CreateEmbeddingResponse, EmbeddingCreateParams, Embeddings } from './protocol';
import type { AppConfig, ChatOptions, GPUEntryPoint, InitProgressCallback, InitProgressReport, LogitProcessor, LogLevel, MLCEngineConfig, MLCEngineInterface, ResumeChatCompletionOptions, ResumeProbeResult, ResumeResult } from './types';
import type { ChatCompletionChunk as TChatChunk, CompletionChunk as TCompletionChunk } from '../../openai/engine-api';
import { EngineError } from '../../engine/errors';
import { fitMaxTokens } from '../../openai/fit-context';
import type { Engine } from '../../openai/engine-api';
import type { RunnerFactoryArgs } from '../../create-engine';
import type { ModelRunner } from '../../engine/types';
import type { ModelStorage } from '../../storage';
import { newId, unixSeconds } from '../../openai/shapes';
import {
  ContextWindowSizeExceededError, DeviceLostError, ModelNotLoadedError, ReloadArgumentSizeUnmatchedError,
  ReloadModelIdNotUniqueError, requestErrors, SpecifiedModelNotFoundError, UnclearModelToUseError,
  UnsupportedFeatureError, UnsupportedFieldsError, WebGPUNotAvailableError,
} from './errors';
import { adapterFacts, loadWebLLMModel, type AdapterFacts } from './load';
import { resolveWebLLMModel, type ResolvedModel } from './prebuilt';
import { checkChatOptions, translateChatRequest, translateCompletionRequest } from './request';
import * as shape from './responses';
import { ChatSession } from './session';
import { webllmEmbedding } from './embedding';

/** WebLLM's engine config plus what tabllm adds (all optional; a WebLLM config works as is). */
export interface TabllmMLCEngineConfig extends MLCEngineConfig {
  /** The WebGPU entry point: `navigator.gpu` by default; in Node `createNodeGPU()` from `tabllm/node`. */
  gpu?: GPUEntryPoint;
  /** KV cache budget in bytes; default a share of the device's limits. */
  kvCacheBytes?: number;
  /**
   * Advanced: where models are kept instead of the browser's storage (e.g. in-memory stores
   * from `tabllm`'s storage layer). Pass the same storage to the cache helpers (cache.ts).
   */
  storage?: ModelStorage;
  /** Advanced: replaces the WebGPU model runner, as `createEngine`'s option of the same name does (tests run on a fake runner). */
  createRunner?: (args: RunnerFactoryArgs) => Promise<ModelRunner>;
}

/** One loaded model's engine: a LocalEngine in this thread, a RemoteEngine for one in a worker. */
export type ModelEngine = Engine & { destroy(): void | Promise<void> };

interface LoadedModel {
  id: string;
  engine: ModelEngine;
  /** Sampling defaults and context size (record overrides + chatOpts). */
  chatOptions: ChatOptions;
  session: ChatSession;
}

interface InFlight {
  controller: AbortController;
  interrupted: boolean;
}

/** tabllm engine errors that WebLLM has a class for get that class's name. */
function webllmError(err: unknown): unknown {
  if (err instanceof EngineError) {
    if (err.code === 'context_length_exceeded') return new ContextWindowSizeExceededError(err.message);
    if (err.code === 'device_lost') return new DeviceLostError();
  }
  return err;
}

export async function CreateMLCEngine(modelId: string | string[], engineConfig?: TabllmMLCEngineConfig, chatOpts?: ChatOptions | ChatOptions[]): Promise<MLCEngine> {
  const engine = new MLCEngine(engineConfig);
  await engine.reload(modelId, chatOpts);
  return engine;
}

export class MLCEngine implements MLCEngineInterface {
  // Namespaces with WebLLM's public shape (WebLLM's are classes holding the engine); they
  // forward to the methods below, as WebLLM's do.
  chat: Chat;
  completions: Completions;
  embeddings: Embeddings;

  protected appConfig: AppConfig | undefined;
  private initProgressCallback: InitProgressCallback | undefined;
  private readonly gpuOverride: GPU | undefined;
  private readonly kvCacheBytes: number | undefined;
  private readonly storage: ModelStorage | undefined;
  private readonly createRunner: TabllmMLCEngineConfig['createRunner'];
  private readonly models = new Map<string, LoadedModel>();
  private readonly inFlight = new Set<InFlight>();
  private reloadController: AbortController | undefined;
  private logLevel: LogLevel = 'WARN';

  constructor(engineConfig?: TabllmMLCEngineConfig) {
    this.appConfig = engineConfig?.appConfig;
    this.initProgressCallback = engineConfig?.initProgressCallback;
    this.gpuOverride = engineConfig?.gpu as GPU | undefined;
    this.kvCacheBytes = engineConfig?.kvCacheBytes;
    this.storage = engineConfig?.storage;
    this.createRunner = engineConfig?.createRunner;
    if (engineConfig?.logLevel) this.setLogLevel(engineConfig.logLevel);
    this.setLogitProcessorRegistry(engineConfig?.logitProcessorRegistry);
    this.chat = { completions: { create: (r: ChatCompletionRequest) => this.chatCompletion(r) } } as unknown as Chat;
    this.completions = { create: (r: CompletionCreateParams) => this.completion(r) } as unknown as Completions;
    this.embeddings = { create: (r: EmbeddingCreateParams) => this.embedding(r) } as unknown as Embeddings;
  }

  // ---------------------------------------------------------------------------------
  // Configuration

  setAppConfig(appConfig: AppConfig): void {
    this.appConfig = appConfig;
  }

  setInitProgressCallback(initProgressCallback?: InitProgressCallback): void {
    this.initProgressCallback = initProgressCallback;
  }

  getInitProgressCallback(): InitProgressCallback | undefined {
    return this.initProgressCallback;
  }

  /** Kept for getLogLevel-style introspection; tabllm itself does not log. */
  setLogLevel(logLevel: LogLevel): void {
    this.logLevel = logLevel;
  }

  getLogLevel(): LogLevel {
    return this.logLevel;
  }

  /** Logit processors run on the CPU between forward and sampling; tabllm samples on the GPU. */
  setLogitProcessorRegistry(registry?: Map<string, LogitProcessor>): void {
    if (registry && registry.size > 0) throw new UnsupportedFieldsError(['logitProcessorRegistry'], 'MLCEngineConfig');
  }

  private gpu(): GPU | undefined {
    return this.gpuOverride ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  }

  // ---------------------------------------------------------------------------------
  // Loading

  async reload(modelId: string | string[], chatOpts?: ChatOptions | ChatOptions[]): Promise<void> {
    const ids = Array.isArray(modelId) ? modelId : [modelId];
    const opts = chatOpts === undefined ? [] : Array.isArray(chatOpts) ? chatOpts : [chatOpts];
    if (opts.length > 0 && opts.length !== ids.length) throw new ReloadArgumentSizeUnmatchedError(ids.length, opts.length);
    if (new Set(ids).size !== ids.length) throw new ReloadModelIdNotUniqueError(ids);
    // Resolve every id before unloading anything, so a typo leaves the loaded model in place.
    const resolved = ids.map((id, i) => resolveWebLLMModel(id, this.appConfig, opts[i]));
    for (const r of resolved) checkChatOptions(r.chatOptions, `ChatOptions of ${r.modelId}`);
    await this.unload();
    const controller = (this.reloadController = new AbortController());
    try {
      for (const r of resolved) {
        const engine = await this.loadModel(r, controller.signal, (report) => this.initProgressCallback?.(report));
        if (controller.signal.aborted) {
          await engine.destroy();
          break;
        }
        this.models.set(r.modelId, { id: r.modelId, engine, chatOptions: r.chatOptions, session: new ChatSession() });
      }
    } catch (err) {
      await this.unload();
      throw webllmError(err);
    } finally {
      if (this.reloadController === controller) this.reloadController = undefined;
    }
  }

  /** Loads one resolved model into an engine in this thread (WebWorkerMLCEngine: in its worker). */
  protected loadModel(resolved: ResolvedModel, signal: AbortSignal, onReport: (r: InitProgressReport) => void): Promise<ModelEngine> {
    return loadWebLLMModel({
      resolved, appConfig: this.appConfig, gpu: this.gpu(), kvCacheBytes: this.kvCacheBytes,
      storage: this.storage, createRunner: this.createRunner, signal, onReport,
    });
  }

  /** The adapter's vendor and limits, or null without WebGPU (WebWorkerMLCEngine: its worker's adapter). */
  protected adapterFacts(): Promise<AdapterFacts | null> {
    return adapterFacts(this.gpu());
  }

  async unload(): Promise<void> {
    this.reloadController?.abort(new DOMException('Engine.unload() is called.', 'AbortError'));
    this.reloadController = undefined;
    void this.interruptGenerate();
    const loaded = [...this.models.values()];
    this.models.clear();
    for (const m of loaded) await m.engine.destroy();
  }

  private select(requestName: string, modelId: string | null | undefined): LoadedModel {
    const ids = [...this.models.keys()];
    if (ids.length === 0) throw new ModelNotLoadedError(requestName);
    if (modelId != null) {
      const m = this.models.get(modelId);
      if (!m) throw new SpecifiedModelNotFoundError(ids, modelId, requestName);
      return m;
    }
    if (ids.length > 1) throw new UnclearModelToUseError(ids, requestName);
    return this.models.get(ids[0]!)!;
  }

  // ---------------------------------------------------------------------------------
  // Generation

  /** Starts one tabllm stream and returns it as WebLLM chunks, tracked by the model's session. */
  private async run(
    m: LoadedModel, n: number, chunkOptions: Pick<shape.WebLLMChunkOptions, 'kind' | 'meta' | 'withLogprobs'>,
    start: (signal: AbortSignal) => Promise<AsyncIterable<TChatChunk | TCompletionChunk>>,
    countPromptTokens: () => Promise<number>,
  ): Promise<AsyncGenerator<shape.WebLLMChunk>> {
    const entry: InFlight = { controller: new AbortController(), interrupted: false };
    this.inFlight.add(entry);
    let source: AsyncIterable<TChatChunk | TCompletionChunk>;
    try {
      source = await start(entry.controller.signal);
    } catch (err) {
      this.inFlight.delete(entry);
      throw webllmError(err);
    }
    const chunks = m.session.track(shape.webllmChunks(source, { ...chunkOptions, n, startMs: performance.now(), interrupted: () => entry.interrupted, countPromptTokens }), n);
    const inFlight = this.inFlight;
    return (async function* () {
      try {
        for await (const chunk of chunks) yield chunk;
      } catch (err) {
        throw webllmError(err);
      } finally {
        inFlight.delete(entry);
      }
    })();
  }

  chatCompletion(request: ChatCompletionRequestNonStreaming): Promise<ChatCompletion>;
  chatCompletion(request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>>;
  chatCompletion(request: ChatCompletionRequestBase): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
  chatCompletion(request: ChatCompletionRequest): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
  async chatCompletion(request: ChatCompletionRequestBase): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion> {
    const m = this.select('ChatCompletionRequest', request.model);
    const t = translateChatRequest(request as ChatCompletionRequest, m.id, m.chatOptions);
    const n = request.n ?? 1;
    const meta = { id: newId('chatcmpl'), model: m.id, created: unixSeconds() };
    const chunks = await this.run(
      m, n, { kind: 'chat', meta, withLogprobs: t.logprobs },
      async (signal) => {
        // WebLLM stops at a full KV cache rather than rejecting a max_tokens too large for it.
        const max = t.params.max_tokens == null ? undefined : await fitMaxTokens(m.engine, t.params.max_tokens, { messages: t.params.messages, add_generation_prompt: true });
        return m.engine.chat.completions.create({ ...t.params, max_tokens: max, return_token_ids: true }, { signal });
      },
      async () => (await m.engine.tokenize({ messages: t.params.messages, add_generation_prompt: true })).count,
    );
    return t.stream ? shape.streamed<ChatCompletionChunk>(chunks, t.includeUsage) : shape.chatCompletion(chunks, n, meta, t.logprobs);
  }

  completion(request: CompletionCreateParamsNonStreaming): Promise<Completion>;
  completion(request: CompletionCreateParamsStreaming): Promise<AsyncIterable<Completion>>;
  completion(request: CompletionCreateParamsBase): Promise<AsyncIterable<Completion> | Completion>;
  completion(request: CompletionCreateParams): Promise<AsyncIterable<Completion> | Completion>;
  async completion(request: CompletionCreateParamsBase): Promise<AsyncIterable<Completion> | Completion> {
    const m = this.select('CompletionCreateParams', request.model);
    const t = translateCompletionRequest(request as CompletionCreateParams, m.chatOptions);
    const n = request.n ?? 1;
    const meta = { id: newId('cmpl'), model: m.id, created: unixSeconds() };
    const chunks = await this.run(
      m, n, { kind: 'completion', meta, withLogprobs: t.logprobs },
      async (signal) => {
        const max = t.params.max_tokens == null ? undefined : await fitMaxTokens(m.engine, t.params.max_tokens, { prompt: t.params.prompt as string });
        return m.engine.completions.create({ ...t.params, max_tokens: max, return_token_ids: true }, { signal });
      },
      async () => (await m.engine.tokenize({ prompt: t.params.prompt as string })).count,
    );
    return t.stream ? shape.streamed<Completion>(chunks, t.includeUsage) : shape.completion(chunks, n, meta, t.logprobs, t.echoPrompt);
  }

  /** Ends every generation running now with finish_reason 'abort' (WebLLM runs one; here all batched ones). */
  async interruptGenerate(): Promise<void> {
    for (const entry of this.inFlight) {
      entry.interrupted = true;
      entry.controller.abort(new DOMException('interruptGenerate() was called', 'AbortError'));
    }
  }

  /** WebLLM's embedding(): the model by `model` (optional with one loaded), its rules in embedding.ts. */
  async embedding(request: EmbeddingCreateParams): Promise<CreateEmbeddingResponse> {
    const m = this.select('EmbeddingCreateParams', request.model);
    return webllmEmbedding(m.engine, m.id, request);
  }

  // ---------------------------------------------------------------------------------
  // Chat session and introspection

  async getMessage(modelId?: string): Promise<string> {
    return this.select('getMessage', modelId).session.getMessage();
  }

  async resetChat(keepStats = false, modelId?: string): Promise<void> {
    // As in WebLLM: resetting before a model is loaded (or an unknown one) is a no-op.
    let m: LoadedModel;
    try {
      m = this.select('resetChat', modelId);
    } catch (err) {
      if (err instanceof ModelNotLoadedError || err instanceof SpecifiedModelNotFoundError) return;
      throw err;
    }
    m.session.reset(keepStats);
  }

  async runtimeStatsText(modelId?: string): Promise<string> {
    return this.select('runtimeStatsText', modelId).session.statsText();
  }

  private async adapter(): Promise<AdapterFacts> {
    const facts = await this.adapterFacts();
    if (!facts) throw new WebGPUNotAvailableError();
    return facts;
  }

  async getMaxStorageBufferBindingSize(): Promise<number> {
    return (await this.adapter()).maxStorageBufferBindingSize;
  }

  async getGPUVendor(): Promise<string> {
    return (await this.adapter()).vendor;
  }

  // ---------------------------------------------------------------------------------
  // What tabllm cannot do

  async forwardTokensAndSample(_inputIds: number[], _isPrefill: boolean, _modelId?: string): Promise<number> {
    throw new UnsupportedFeatureError('forwardTokensAndSample', 'requests run through a scheduler and a paged KV cache shared by batched sequences; there is no single sequence to step by hand. Use completions.create with max_tokens: 1.');
  }

  /** tabllm keeps no resumable sessions (extra_body.resumable is rejected), so there are none to list. */
  async listResumableSessions(): Promise<ResumeProbeResult[]> {
    return [];
  }

  async resumeChatCompletion(_sessionId: string, _options?: ResumeChatCompletionOptions): Promise<ResumeResult | AsyncIterable<ChatCompletionChunk>> {
    throw new UnsupportedFeatureError('resumeChatCompletion', 'resumable generation (KV checkpoints in storage) is not implemented.');
  }

  async deleteResumableSession(_sessionId: string): Promise<void> {
    throw new UnsupportedFeatureError('deleteResumableSession', 'resumable generation (KV checkpoints in storage) is not implemented.');
  }
}
