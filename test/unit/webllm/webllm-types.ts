// Compile-time checks (no runtime code): tabllm/webllm's own declarations of WebLLM's types
// against the real `@mlc-ai/web-llm` (a devDependency, used only here and in tests).
// Values and requests written for WebLLM must be accepted by tabllm's types; responses and
// engines tabllm returns must fit where WebLLM's types are expected. types.test.ts runs tsc
// on this file; `npx tsc -p tsconfig.json` checks it too.
import type * as W from '@mlc-ai/web-llm';
import type * as T from '../../../src/compat/webllm';

/** Compiles only when A is assignable to B. */
type Fits<A extends B, B> = A;

// Configuration written for WebLLM (including WebLLM's own prebuiltAppConfig) is accepted.
export type Configs = [
  Fits<W.AppConfig, T.AppConfig>,
  Fits<W.ModelRecord, T.ModelRecord>,
  Fits<W.ChatOptions, T.ChatOptions>,
  Fits<W.MLCEngineConfig, T.MLCEngineConfig>,
  Fits<W.MLCEngineConfig, T.TabllmMLCEngineConfig>,
  Fits<W.LogLevel, T.LogLevel>,
  Fits<T.LogLevel, W.LogLevel>,
  Fits<W.InitProgressReport, T.InitProgressReport>,
  Fits<T.InitProgressReport, W.InitProgressReport>,
  Fits<W.InitProgressCallback, T.InitProgressCallback>,
  Fits<T.InitProgressCallback, W.InitProgressCallback>,
  Fits<W.LogitProcessor, T.LogitProcessor>,
];

// Requests written for WebLLM are accepted.
export type Requests = [
  Fits<W.ChatCompletionMessageParam, T.ChatCompletionMessageParam>,
  Fits<W.ChatCompletionRequest, T.ChatCompletionRequest>,
  Fits<W.ChatCompletionRequestBase, T.ChatCompletionRequestBase>,
  Fits<W.ChatCompletionRequestStreaming, T.ChatCompletionRequestStreaming>,
  Fits<W.ChatCompletionRequestNonStreaming, T.ChatCompletionRequestNonStreaming>,
  Fits<W.CompletionCreateParams, T.CompletionCreateParams>,
  Fits<W.CompletionCreateParamsStreaming, T.CompletionCreateParamsStreaming>,
  Fits<W.CompletionCreateParamsNonStreaming, T.CompletionCreateParamsNonStreaming>,
  Fits<W.EmbeddingCreateParams, T.EmbeddingCreateParams>,
  Fits<W.ResumeChatCompletionOptions, T.ResumeChatCompletionOptions>,
];

// What tabllm returns fits where WebLLM's response types are expected.
export type Responses = [
  Fits<T.ChatCompletion, W.ChatCompletion>,
  Fits<T.ChatCompletionChunk, W.ChatCompletionChunk>,
  Fits<T.Completion, W.Completion>,
  Fits<T.CompletionUsage, W.CompletionUsage>,
  Fits<T.ChatCompletionTokenLogprob, W.ChatCompletionTokenLogprob>,
  Fits<T.ChatCompletionFinishReason, W.ChatCompletionFinishReason>,
  Fits<T.CreateEmbeddingResponse, W.CreateEmbeddingResponse>,
  Fits<T.ResumeProbeResult, W.ResumeProbeResult>,
  Fits<T.ResumeResult, W.ResumeResult>,
];

// WebLLM's `chat`, `completions` and `embeddings` are classes with a private field (nominal),
// so the engines are compared without them, and the namespaces' `create` separately.
type Namespaces = 'chat' | 'completions' | 'embeddings';
export type Engines = [
  Fits<T.MLCEngine, Omit<W.MLCEngineInterface, Namespaces>>,
  Fits<T.WebWorkerMLCEngine, Omit<W.MLCEngineInterface, Namespaces>>,
  Fits<T.MLCEngineInterface, Omit<W.MLCEngineInterface, Namespaces>>,
  Fits<T.MLCEngine['chat']['completions']['create'], W.MLCEngineInterface['chat']['completions']['create']>,
  Fits<T.MLCEngine['completions']['create'], W.MLCEngineInterface['completions']['create']>,
  Fits<T.MLCEngine['embeddings']['create'], W.MLCEngineInterface['embeddings']['create']>,
];

// Names WebLLM's examples import exist with compatible types.
export type Exports = [
  Fits<typeof T.prebuiltAppConfig, T.AppConfig>,
  Fits<typeof T.modelVersion, string>,
  Fits<typeof T.modelLibURLPrefix, string>,
  Fits<typeof T.hasModelInCache, typeof W.hasModelInCache>,
  Fits<typeof T.deleteModelAllInfoInCache, typeof W.deleteModelAllInfoInCache>,
  Fits<typeof T.deleteModelInCache, typeof W.deleteModelInCache>,
  Fits<typeof T.deleteModelWasmInCache, typeof W.deleteModelWasmInCache>,
  Fits<typeof T.deleteChatConfigInCache, typeof W.deleteChatConfigInCache>,
  Fits<Parameters<typeof W.CreateMLCEngine>, Parameters<typeof T.CreateMLCEngine>>,
  Fits<Parameters<typeof W.CreateServiceWorkerMLCEngine>, Parameters<typeof T.CreateServiceWorkerMLCEngine>>,
];

// The checks above can fail: these do not fit, and tsc reports an unused directive if they did.
// @ts-expect-error a record without model and model_lib is not a WebLLM ModelRecord
export type NotARecord = Fits<{ model_id: string }, W.ModelRecord>;
// @ts-expect-error WebLLM's log levels are a closed set
export type NotALogLevel = Fits<'VERBOSE', T.LogLevel>;
// @ts-expect-error a chat completion without choices is not WebLLM's ChatCompletion
export type NotACompletion = Fits<Omit<T.ChatCompletion, 'choices'>, W.ChatCompletion>;
