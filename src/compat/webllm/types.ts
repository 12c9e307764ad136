// WebLLM's configuration and engine types (AppConfig, ModelRecord, ChatOptions,
// MLCEngineConfig, progress reports, log levels, MLCEngineInterface), declared here in
// tabllm's words so `tabllm/webllm` type-checks in a project without `@mlc-ai/web-llm`.
// Field names, optionality and value types follow WebLLM's, so configs written for WebLLM
// (and WebLLM's own `prebuiltAppConfig`) are accepted; test/unit/webllm/types.test.ts checks
// that against the real package, which stays a devDependency only.
import type {
  Chat, ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatCompletionRequestBase,
  ChatCompletionRequestNonStreaming, ChatCompletionRequestStreaming, Completion, CompletionCreateParams,
  CompletionCreateParamsBase, CompletionCreateParamsNonStreaming, CompletionCreateParamsStreaming, Completions,
  CreateEmbeddingResponse, EmbeddingCreateParams, Embeddings,
} from './protocol';

/**
 * Per-model options (WebLLM reads them from mlc-chat-config.json; here the GGUF supplies the
 * rest). tabllm honours the sampling defaults and `context_window_size`; the other keys are
 * declared so WebLLM configs compile, and a set value is an UnsupportedFieldsError at reload
 * (`sliding_window_size: -1` and `attention_sink_size: -1 | 0`, their "off" values, pass).
 */
export interface ChatOptions {
  temperature?: number;
  top_p?: number;
  repetition_penalty?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  context_window_size?: number;
  sliding_window_size?: number;
  attention_sink_size?: number;
  max_history_size?: number;
  vocab_size?: number;
  bos_token_id?: number;
  model_type?: string;
  tokenizer_files?: string[];
  token_table_postproc_method?: string;
  /** Chat templates come from the GGUF's `tokenizer.chat_template`. */
  conv_template?: object;
  conv_config?: object;
  tokenizer_info?: object;
  model_config?: object;
}

/** One selectable model. For tabllm, `model` is a GGUF file (URL, `hf://org/repo/file.gguf`, `org/repo:file.gguf`). */
export interface ModelRecord {
  model: string;
  model_id: string;
  /** WebLLM's compiled model library; tabllm ships its own kernels and ignores it. */
  model_lib: string;
  overrides?: ChatOptions;
  vram_required_MB?: number;
  low_resource_required?: boolean;
  buffer_size_required_bytes?: number;
  required_features?: string[];
  /** WebLLM's ModelType enum: 0 LLM, 1 embedding, 2 VLM. */
  model_type?: number;
  integrity?: object;
  model_manifest?: string;
}

/** 'opfs' and 'cache' choose tabllm's storage backend; the others fall back to automatic choice. */
export type CacheBackend = 'cache' | 'indexeddb' | 'cross-origin' | 'opfs';

export interface AppConfig {
  model_list: ModelRecord[];
  cacheBackend?: CacheBackend;
  opfsAccessMode?: 'async' | 'sync' | 'auto';
}

/** Loading progress: `progress` 0..1, `timeElapsed` in seconds, `text` for a status line. */
export interface InitProgressReport {
  progress: number;
  timeElapsed: number;
  text: string;
}

export type InitProgressCallback = (report: InitProgressReport) => void;

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';

/** WebLLM's CPU-side logit hook; tabllm samples on the GPU, so a non-empty registry is rejected. */
export interface LogitProcessor {
  processLogits: (logits: Float32Array) => Float32Array;
  processSampledToken: (token: number) => void;
  resetState: () => void;
}

export interface MLCEngineConfig {
  appConfig?: AppConfig;
  initProgressCallback?: InitProgressCallback;
  logitProcessorRegistry?: Map<string, LogitProcessor>;
  logLevel?: LogLevel;
}

export interface ResumeProbeResult {
  sessionId: string;
  resumable: boolean;
  reason?: string;
  modelId: string;
  emittedTokens: number;
  processedSeqLen: number;
  recoveryMode: 'kv' | 'token_replay' | 'text_only' | 'none';
}

export interface ResumeResult {
  sessionId: string;
  recoveredText: string;
  emittedTokens: number;
  processedSeqLen: number;
  replayedTokens: number;
  recoveryMode: 'kv' | 'token_replay' | 'text_only';
}

export interface ResumeChatCompletionOptions {
  continueGeneration?: boolean;
  stream?: boolean;
}

/** What MLCEngine and WebWorkerMLCEngine both offer: WebLLM's engine interface. */
export interface MLCEngineInterface {
  chat: Chat;
  completions: Completions;
  embeddings: Embeddings;
  setInitProgressCallback(initProgressCallback: InitProgressCallback): void;
  getInitProgressCallback(): InitProgressCallback | undefined;
  setAppConfig(appConfig: AppConfig): void;
  setLogLevel(logLevel: LogLevel): void;
  reload(modelId: string | string[], chatOpts?: ChatOptions | ChatOptions[]): Promise<void>;
  unload(): Promise<void>;
  chatCompletion(request: ChatCompletionRequestNonStreaming): Promise<ChatCompletion>;
  chatCompletion(request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>>;
  chatCompletion(request: ChatCompletionRequestBase): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
  chatCompletion(request: ChatCompletionRequest): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
  completion(request: CompletionCreateParamsNonStreaming): Promise<Completion>;
  completion(request: CompletionCreateParamsStreaming): Promise<AsyncIterable<Completion>>;
  completion(request: CompletionCreateParamsBase): Promise<AsyncIterable<Completion> | Completion>;
  completion(request: CompletionCreateParams): Promise<AsyncIterable<Completion> | Completion>;
  embedding(request: EmbeddingCreateParams): Promise<CreateEmbeddingResponse>;
  interruptGenerate(): void;
  resetChat(keepStats?: boolean, modelId?: string): Promise<void>;
  getMessage(modelId?: string): Promise<string>;
  runtimeStatsText(modelId?: string): Promise<string>;
  getMaxStorageBufferBindingSize(): Promise<number>;
  getGPUVendor(): Promise<string>;
  forwardTokensAndSample(inputIds: number[], isPrefill: boolean, modelId?: string): Promise<number>;
  listResumableSessions(): Promise<ResumeProbeResult[]>;
  resumeChatCompletion(sessionId: string, options?: ResumeChatCompletionOptions): Promise<ResumeResult | AsyncIterable<ChatCompletionChunk>>;
  deleteResumableSession(sessionId: string): Promise<void>;
}

/**
 * The WebGPU entry point: `navigator.gpu`, or `createNodeGPU()` from `tabllm/node`. Typed by
 * the one method tabllm calls first, so these declarations need no `@webgpu/types`.
 */
export interface GPUEntryPoint {
  requestAdapter(options?: never): Promise<unknown>;
}
