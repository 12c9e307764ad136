// The OpenAI-style request and response shapes of WebLLM's `chat.completions`,
// `completions` and `embeddings`, declared here in tabllm's words so `tabllm/webllm`'s
// types resolve without `@mlc-ai/web-llm` installed. They follow WebLLM's field names,
// optionality and nullability, so code written against WebLLM's types compiles against
// these: requests written for WebLLM are accepted, responses are assignable to WebLLM's
// (test/unit/webllm/types.test.ts checks both directions against the real package).
// Fields tabllm cannot honour (tools, grammars, images) are declared so WebLLM code still
// compiles; the engine rejects them at run time with UnsupportedFieldsError.

// ---------------------------------------------------------------------------------------
// Messages

export type ChatCompletionRole = 'system' | 'user' | 'assistant' | 'tool' | 'function';

export interface ChatCompletionContentPartText {
  type: 'text';
  text: string;
}

export interface ChatCompletionContentPartImage {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export type ChatCompletionAudioInput =
  | { format: 'wav'; data: string }
  | { format: 'pcm_f32'; data: Float32Array; sample_rate: number };

export interface ChatCompletionContentPartInputAudio {
  type: 'input_audio';
  input_audio: ChatCompletionAudioInput;
}

export type ChatCompletionContentPart = ChatCompletionContentPartText | ChatCompletionContentPartImage | ChatCompletionContentPartInputAudio;

export interface ChatCompletionMessageToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatCompletionSystemMessageParam {
  role: 'system';
  content: string;
}

export interface ChatCompletionUserMessageParam {
  role: 'user';
  content: string | ChatCompletionContentPart[];
  name?: string;
}

export interface ChatCompletionAssistantMessageParam {
  role: 'assistant';
  content?: string | null;
  name?: string;
  tool_calls?: ChatCompletionMessageToolCall[];
}

export interface ChatCompletionToolMessageParam {
  role: 'tool';
  content: string;
  tool_call_id: string;
}

export type ChatCompletionMessageParam =
  | ChatCompletionSystemMessageParam
  | ChatCompletionUserMessageParam
  | ChatCompletionAssistantMessageParam
  | ChatCompletionToolMessageParam;

// ---------------------------------------------------------------------------------------
// Requests

export interface FunctionDefinition {
  name: string;
  description?: string;
  parameters?: Record<string, unknown>;
}

export interface ChatCompletionTool {
  type: 'function';
  function: FunctionDefinition;
}

export type ChatCompletionToolChoiceOption = 'none' | 'auto' | { type: 'function'; function: { name: string } };

export interface ResponseFormat {
  type?: 'text' | 'json_object' | 'grammar' | 'structural_tag';
  schema?: string;
  grammar?: string;
  /** WebLLM's xgrammar structural tag (an object) or its JSON text; rejected by tabllm. */
  structural_tag?: object | string;
}

export interface ChatCompletionStreamOptions {
  include_usage?: boolean;
}

/** WebLLM's resumable-generation switch; accepted in the type, rejected when enabled. */
export interface ResumableGenerationConfig {
  enabled: boolean;
  sessionId?: string;
  checkpointIntervalTokens?: number;
  checkpointPrompt?: boolean;
  durabilityMode?: 'exact' | 'relaxed';
  strictPersistence?: boolean;
  storeCheckpointLogits?: boolean;
}

/** Sampling and length fields shared by chat and text completions. */
interface GenerationFields {
  stream?: boolean | null;
  stream_options?: ChatCompletionStreamOptions | null;
  n?: number | null;
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  repetition_penalty?: number | null;
  max_tokens?: number | null;
  stop?: string | null | string[];
  temperature?: number | null;
  top_p?: number | null;
  logit_bias?: Record<string, number> | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  seed?: number | null;
  ignore_eos?: boolean;
  /** Which loaded model answers; needed only when several are loaded. */
  model?: string | null;
}

export interface ChatCompletionRequestBase extends GenerationFields {
  messages: ChatCompletionMessageParam[];
  tool_choice?: ChatCompletionToolChoiceOption;
  tools?: ChatCompletionTool[];
  response_format?: ResponseFormat;
  extra_body?: {
    enable_thinking?: boolean | null;
    enable_latency_breakdown?: boolean | null;
    resumable?: ResumableGenerationConfig | null;
  };
}

export interface ChatCompletionRequestNonStreaming extends ChatCompletionRequestBase {
  stream?: false | null;
}

export interface ChatCompletionRequestStreaming extends ChatCompletionRequestBase {
  stream: true;
}

export type ChatCompletionRequest = ChatCompletionRequestNonStreaming | ChatCompletionRequestStreaming;

export interface CompletionCreateParamsBase extends GenerationFields {
  prompt: string;
  echo?: boolean | null;
  suffix?: string | null;
  user?: string;
  best_of?: number | null;
  extra_body?: { enable_latency_breakdown?: boolean | null };
}

export interface CompletionCreateParamsNonStreaming extends CompletionCreateParamsBase {
  stream?: false | null;
}

export interface CompletionCreateParamsStreaming extends CompletionCreateParamsBase {
  stream: true;
}

export type CompletionCreateParams = CompletionCreateParamsNonStreaming | CompletionCreateParamsStreaming;

export interface EmbeddingCreateParams {
  input: string | string[] | number[] | number[][];
  model?: string | null;
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

// ---------------------------------------------------------------------------------------
// Responses

export type ChatCompletionFinishReason = 'stop' | 'length' | 'tool_calls' | 'abort';

export interface TopLogprob {
  token: string;
  bytes: number[] | null;
  logprob: number;
}

export interface ChatCompletionTokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

export interface ChoiceLogprobs {
  content: ChatCompletionTokenLogprob[] | null;
}

/** Token counts plus WebLLM's latency figures (`extra`), which tabllm computes from its timings. */
export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  extra: {
    e2e_latency_s: number;
    prefill_tokens_per_s: number;
    decode_tokens_per_s: number;
    time_to_first_token_s: number;
    time_per_output_token_s: number;
    grammar_init_s?: number;
    grammar_per_token_s?: number;
  };
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  tool_calls?: ChatCompletionMessageToolCall[];
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  finish_reason: ChatCompletionFinishReason;
  logprobs: ChoiceLogprobs | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: CompletionUsage;
  system_fingerprint?: string;
}

export interface ChatCompletionDelta {
  content?: string | null;
  role?: 'system' | 'user' | 'assistant' | 'tool';
  tool_calls?: { index: number; id?: string; type?: 'function'; function?: { name?: string; arguments?: string } }[];
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: ChatCompletionDelta;
  finish_reason: ChatCompletionFinishReason | null;
  logprobs?: ChoiceLogprobs | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChatCompletionChunkChoice[];
  /** Only on the last chunk, and only with `stream_options: { include_usage: true }`. */
  usage?: CompletionUsage;
  system_fingerprint?: string;
}

export interface CompletionChoice {
  index: number;
  text: string;
  finish_reason: ChatCompletionFinishReason | null;
  logprobs?: ChoiceLogprobs | null;
}

/** A text completion; streamed, each chunk has this shape too (as in WebLLM). */
export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  choices: CompletionChoice[];
  usage?: CompletionUsage;
  system_fingerprint?: string;
}

export interface Embedding {
  object: 'embedding';
  index: number;
  embedding: number[];
}

export interface CreateEmbeddingResponse {
  object: 'list';
  model: string;
  data: Embedding[];
  usage: { prompt_tokens: number; total_tokens: number; extra: { prefill_tokens_per_s: number } };
}

// ---------------------------------------------------------------------------------------
// The namespaces on an engine (`engine.chat.completions.create(...)`)

export interface ChatCompletions {
  create(request: ChatCompletionRequestNonStreaming): Promise<ChatCompletion>;
  create(request: ChatCompletionRequestStreaming): Promise<AsyncIterable<ChatCompletionChunk>>;
  create(request: ChatCompletionRequestBase): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion>;
}

export interface Chat {
  completions: ChatCompletions;
}

export interface Completions {
  create(request: CompletionCreateParamsNonStreaming): Promise<Completion>;
  create(request: CompletionCreateParamsStreaming): Promise<AsyncIterable<Completion>>;
  create(request: CompletionCreateParamsBase): Promise<AsyncIterable<Completion> | Completion>;
}

export interface Embeddings {
  create(request: EmbeddingCreateParams): Promise<CreateEmbeddingResponse>;
}
