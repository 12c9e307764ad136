// The one public `Engine` interface: implemented by the in-thread engine (`createEngine`),
// the worker client, and `FakeEngine` in tests. Requests and responses are OpenAI's wire
// shapes (plus vLLM's extra sampling fields), so the router forwards them almost as-is and
// code written against the `openai` client reads the same against an Engine.
//
// Every method is async, because the worker client answers over a MessagePort.
// Failures are `EngineError`s (src/engine/errors.ts) with a string `code`.

import type { StructuredFields } from './structured';
import type { ToolFields } from './tools/definitions';

import type { ChatTool } from './tools/definitions';
export type { ChatTool, FunctionDefinition, ToolChoice, ToolFields } from './tools/definitions';
export type { ResponseFormat, StructuredFields, StructuredOutputs } from './structured';

// ---------------------------------------------------------------------------------------
// Requests

export interface ChatContentPartText {
  type: 'text';
  text: string;
}

/** A call the assistant made, as OpenAI sends it back in history and answers it. */
export interface ChatCompletionMessageToolCall {
  /** `call_…`: a `tool` message answers the call with this id. */
  id: string;
  type: 'function';
  /** `arguments`: JSON text of the arguments object. */
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool';
  /** A string, or text parts that are concatenated; null or absent on an assistant turn that only calls tools. */
  content?: string | ChatContentPartText[] | null;
  name?: string;
  /** Assistant turns: the calls it made. */
  tool_calls?: ChatCompletionMessageToolCall[];
  /** `tool` turns: the id of the call this message answers (required there). */
  tool_call_id?: string;
}

export interface StreamOptions {
  /** Send a last chunk with empty `choices` and the request's `usage`. */
  include_usage?: boolean | null;
}

/** Sampling fields shared by chat and completions (OpenAI's, then vLLM's extras), and the structured-output surfaces. */
export interface SamplingFields extends StructuredFields {
  /** Omitted: the loaded model. */
  model?: string;
  n?: number | null;
  max_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  /** Token id (as a string key) → bias added to its logit, -100..100. */
  logit_bias?: Record<string, number> | null;
  stream?: boolean | null;
  stream_options?: StreamOptions | null;
  /** Accepted and ignored, as OpenAI-compatible servers do. */
  user?: string;
  // vLLM extras
  /** 0 or -1 = off. */
  top_k?: number | null;
  min_p?: number | null;
  repetition_penalty?: number | null;
  /**
   * llama.cpp server's and Ollama's penalty window: the three penalties look at the last
   * N tokens of prompt + output and count occurrences there (-1 = all, 0 = no penalties).
   * Omitted: OpenAI's presence/frequency over the output, vLLM's repetition over prompt ∪ output.
   */
  repeat_last_n?: number | null;
  ignore_eos?: boolean | null;
  /** vLLM: also return the token ids (`choices[].token_ids`, and the prompt's as `prompt_token_ids`). */
  return_token_ids?: boolean | null;
}

export interface ChatCompletionCreateParamsBase extends SamplingFields, ToolFields {
  messages: ChatMessage[];
  /** Chat default for `max_tokens`: until the context is full. */
  max_completion_tokens?: number | null;
  logprobs?: boolean | null;
  /** 0..20; needs `logprobs: true`. */
  top_logprobs?: number | null;
}
export interface ChatCompletionCreateParamsStreaming extends ChatCompletionCreateParamsBase {
  stream: true;
}
export interface ChatCompletionCreateParamsNonStreaming extends ChatCompletionCreateParamsBase {
  stream?: false | null;
}
export type ChatCompletionCreateParams = ChatCompletionCreateParamsStreaming | ChatCompletionCreateParamsNonStreaming;

export interface CompletionCreateParamsBase extends SamplingFields {
  /** One prompt, or several (choices are then indexed promptIndex * n + i). */
  prompt: string | string[];
  /** Number of top logprobs per token (0..20); null = no logprobs. */
  logprobs?: number | null;
  /** Prepend the prompt to each choice's text. */
  echo?: boolean | null;
}
export interface CompletionCreateParamsStreaming extends CompletionCreateParamsBase {
  stream: true;
}
export interface CompletionCreateParamsNonStreaming extends CompletionCreateParamsBase {
  stream?: false | null;
}
export type CompletionCreateParams = CompletionCreateParamsStreaming | CompletionCreateParamsNonStreaming;

export interface RequestOptions {
  /** Aborting rejects the call (or ends the stream) with EngineError `aborted` and frees the request's KV blocks. */
  signal?: AbortSignal;
}

// ---------------------------------------------------------------------------------------
// Responses (OpenAI wire shapes)

/** `tool_calls`: chat only, when the answer holds tool calls (the model's own format, parsed). */
export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

/**
 * tabllm extension (llama.cpp's server sends the same idea): where the time went.
 * The router strips it from OpenAI responses and turns it into Ollama's ns timings.
 */
export interface CompletionTimings {
  /** Waiting in the queue before the first step. */
  queuedMs: number;
  /** Prompt prefill (until the first output token). */
  promptMs: number;
  /** First output token to the last. */
  decodeMs: number;
  /** Arrival to completion. */
  totalMs: number;
}

export interface TopLogprob {
  token: string;
  logprob: number;
  /** UTF-8 bytes of the token (may be part of a character). */
  bytes: number[] | null;
}

export interface ChatTokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export interface ChatChoiceLogprobs {
  content: ChatTokenLogprob[] | null;
  refusal: null;
}

export interface ChatCompletionMessage {
  role: 'assistant';
  /** Null when the answer is only tool calls. */
  content: string | null;
  refusal: null;
  /** The calls parsed from the answer (requests with `tools`, tool_choice not `none`). */
  tool_calls?: ChatCompletionMessageToolCall[];
}

/**
 * A streamed piece of a tool call: its first piece has `id`, `type` and `function.name` (with
 * `arguments: ''`); later pieces append to `function.arguments`. `index` tells calls apart.
 */
export interface ChatCompletionChunkToolCall {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  logprobs: ChatChoiceLogprobs | null;
  finish_reason: FinishReason;
  /** With `return_token_ids` (vLLM). */
  token_ids?: number[];
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: ChatCompletionChoice[];
  usage: CompletionUsage;
  /** With `return_token_ids` (vLLM). */
  prompt_token_ids?: number[];
  timings?: CompletionTimings;
}

export interface ChatCompletionChunkChoice {
  index: number;
  /** The first chunk of each choice carries `role`; later ones `content` or `tool_calls` pieces. */
  delta: { role?: 'assistant'; content?: string | null; tool_calls?: ChatCompletionChunkToolCall[] };
  logprobs?: ChatChoiceLogprobs | null;
  finish_reason: FinishReason | null;
  /** With `return_token_ids` (vLLM): the ids of this delta. */
  token_ids?: number[];
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint?: string;
  /** Empty in the final usage chunk. */
  choices: ChatCompletionChunkChoice[];
  /** With `include_usage`: null on every chunk but the last, which has empty `choices`. */
  usage?: CompletionUsage | null;
  timings?: CompletionTimings;
}

/** Legacy completions logprobs: parallel arrays over the choice's tokens. */
export interface CompletionLogprobs {
  tokens: string[];
  token_logprobs: (number | null)[];
  top_logprobs: (Record<string, number> | null)[];
  text_offset: number[];
}

export interface CompletionChoice {
  index: number;
  text: string;
  logprobs: CompletionLogprobs | null;
  finish_reason: FinishReason | null;
  /** With `return_token_ids` (vLLM). */
  token_ids?: number[];
  prompt_token_ids?: number[];
}

export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: CompletionChoice[];
  usage?: CompletionUsage | null;
  timings?: CompletionTimings;
}

/** A streamed completion chunk has the same shape as the completion (OpenAI reuses it). */
export type CompletionChunk = Completion;

export interface Model {
  id: string;
  object: 'model';
  /** Unix seconds. */
  created: number;
  owned_by: string;
  /** vLLM's field: the context length. */
  max_model_len?: number;
}

export interface ModelList {
  object: 'list';
  data: Model[];
}

export interface EmbeddingCreateParams {
  /** Omitted: the first loaded model. */
  model?: string;
  /** Text, texts, token ids, or several token-id arrays (OpenAI's four forms); at most 2048 inputs. */
  input: string | string[] | number[] | number[][];
  /** 'float' (default): number arrays; 'base64': each vector as little-endian float32 bytes in base64 (OpenAI's). */
  encoding_format?: 'float' | 'base64' | null;
  /** Keep the first N components, renormalised: 1 ≤ N ≤ the model's size (src/engine/embedding-vector.ts). */
  dimensions?: number | null;
  /** Accepted and ignored. */
  user?: string;
  /**
   * tabllm extension (Ollama's `truncate`): cut an input longer than the context to its
   * first context-length tokens instead of a 400 `context_length_exceeded`. Default false.
   */
  truncate?: boolean | null;
  /**
   * tabllm extension: false returns the pooled vector as the model computes it, not
   * L2-normalised (Ollama's legacy `/api/embeddings` does; `/api/embed` and OpenAI normalise).
   * Default true.
   */
  normalize?: boolean | null;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  /** A unit vector (unless `normalize: false`); a base64 string with `encoding_format: 'base64'`. */
  embedding: number[] | string;
}

export interface EmbeddingResponse {
  object: 'list';
  data: Embedding[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

// ---------------------------------------------------------------------------------------
// vLLM's tokenizer endpoints

export type TokenizeParams =
  | { model?: string; prompt: string; add_special_tokens?: boolean }
  | { model?: string; messages: ChatMessage[]; add_special_tokens?: boolean; add_generation_prompt?: boolean; tools?: ChatTool[] | null };

export interface TokenizeResult {
  count: number;
  max_model_len: number;
  tokens: number[];
}

export interface DetokenizeParams {
  model?: string;
  tokens: number[];
}

export interface DetokenizeResult {
  prompt: string;
}

// ---------------------------------------------------------------------------------------
// Introspection

export interface EngineStats {
  /** Requests with a sequence on the GPU this step. */
  running: number;
  waiting: number;
  kvBlocksUsed: number;
  kvBlocksTotal: number;
  /** Fraction (0..1) of prompt tokens served from the prefix cache. */
  prefixCacheHitRate: number;
  /** Tokens in the last step's flattened batch. */
  lastStepBatchSize: number;
  /**
   * The most tokens in one step among the steps of the last ~2 s: a client polling more often
   * than that sees every step's size here, where `lastStepBatchSize` is only a sample.
   */
  peakStepBatchSize?: number;
  lastStepMs: number;
  /** Output tokens per second over recent steps. */
  tokensPerSecond: number;
  /** Sequences preempted (out of KV blocks) since the engine started; each is recomputed later. */
  numPreemptions: number;
  /**
   * KV slots (one token of one sequence each) in the running sequences' blocks that hold a
   * computed token, and all slots of those blocks (PagedAttention's waste measure: the gap is
   * at most the unfilled tail of each sequence's last block). A block shared by several
   * sequences counts once.
   */
  kvSlotsFilled: number;
  kvSlotsAllocated: number;
  /** Runner calls of an embedding model's batcher so far (one per batch of inputs). */
  embedBatches?: number;
  /** Several models in one engine (#17): each one's own numbers and GPU memory. */
  models?: ModelStats[];
  /** The engine's GPU memory budget (weights + KV pools of all its models); absent: none set. */
  gpuMemoryBudgetBytes?: number;
  /** What the loaded models hold of it: Σ models[].gpuBytes. */
  gpuBytesUsed?: number;
}

/** One loaded model's share of an engine (EngineStats.models). */
export interface ModelStats extends Omit<EngineStats, 'models' | 'gpuMemoryBudgetBytes' | 'gpuBytesUsed'> {
  id: string;
  task: 'generate' | 'embed';
  /** GPU bytes of its weights (the tensors' size in the file), as the budget counts them. */
  weightsBytes: number;
  /** GPU bytes of its KV pool (0 for an embedding model). */
  kvCacheBytes: number;
  /** weightsBytes + kvCacheBytes. */
  gpuBytes: number;
}

export interface EngineInfo {
  /** The model id requests name (`/v1/models`, Ollama's `name`). */
  id: string;
  contextLength: number;
  hasChatTemplate: boolean;
  chatTemplate?: string;
  /** Unix seconds at which the model was loaded. */
  created: number;
  /** GGUF `general.architecture`: `llama`, `qwen2`, … */
  arch: string;
  /** Quantization level as Ollama names it: `Q4_K_M`, `Q8_0`, `F16`. */
  quant: string;
  parameterCount?: number;
  /** Bytes of the model file. */
  sizeBytes?: number;
  /** Bytes of GPU memory held (weights + KV pool). */
  gpuBytes?: number;
  /** Milliseconds the load took (Ollama's `load_duration` of the first request). */
  loadMs?: number;
  /** 'embed': an embedding model (embeddings only; chat and completions are a 400). Absent: 'generate'. */
  task?: 'generate' | 'embed';
  /** An embedding model's vector size. */
  embeddingDim?: number;
}

// ---------------------------------------------------------------------------------------
// The interface

export interface ChatCompletions {
  create(params: ChatCompletionCreateParamsStreaming, options?: RequestOptions): Promise<AsyncIterable<ChatCompletionChunk>>;
  create(params: ChatCompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<ChatCompletion>;
  create(
    params: ChatCompletionCreateParams,
    options?: RequestOptions,
  ): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>;
}

export interface Completions {
  create(params: CompletionCreateParamsStreaming, options?: RequestOptions): Promise<AsyncIterable<CompletionChunk>>;
  create(params: CompletionCreateParamsNonStreaming, options?: RequestOptions): Promise<Completion>;
  create(params: CompletionCreateParams, options?: RequestOptions): Promise<Completion | AsyncIterable<CompletionChunk>>;
}

/**
 * A loaded model that answers OpenAI-shaped requests.
 *
 * `create(...)` resolves once the request is admitted (validated, tokenized, queued), so
 * admission errors (`context_length_exceeded`, `queue_full`, `model_not_found`) reject the
 * promise before any stream starts. A stream's iterator `return()` (a `break` out of
 * `for await`) aborts the request like its signal does.
 *
 * Defaults as OpenAI: completions `max_tokens` 16; chat until the context is full.
 */
export interface Engine {
  readonly chat: { readonly completions: ChatCompletions };
  readonly completions: Completions;
  readonly models: { list(): Promise<ModelList> };
  /** Rejects with `model_cannot_embed` on a chat model. */
  readonly embeddings: { create(params: EmbeddingCreateParams, options?: RequestOptions): Promise<EmbeddingResponse> };
  tokenize(params: TokenizeParams): Promise<TokenizeResult>;
  detokenize(params: DetokenizeParams): Promise<DetokenizeResult>;
  stats(): Promise<EngineStats>;
  /** The named model's info; absent: the first (default) model's. */
  info(model?: string): Promise<EngineInfo>;
  /** Engines that host several models (#17): load one more at run time. */
  loadModel?(source: unknown): Promise<EngineInfo>;
  /** Unloads a model (Ollama's `keep_alive: 0`); requests naming it then get 404 `model_not_found`. */
  unloadModel?(model: string): Promise<void>;
}
