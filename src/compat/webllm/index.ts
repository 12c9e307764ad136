// `tabllm/webllm`: a drop-in for the parts of `@mlc-ai/web-llm` apps use. Change
// `from '@mlc-ai/web-llm'` to `from 'tabllm/webllm'`; see README.md beside this file.
export { CreateMLCEngine, MLCEngine } from './engine';
export type { TabllmMLCEngineConfig } from './engine';
export { CreateWebWorkerMLCEngine, WebWorkerMLCEngine, WebWorkerMLCEngineHandler } from './worker';
export { PREBUILT_GGUF, mappedPrebuiltIds, resolveWebLLMModel, isGgufLocation } from './prebuilt';
export type { PrebuiltMapping, ResolvedModel } from './prebuilt';
export {
  WebLLMCompatError, ModelNotFoundError, ModelNotLoadedError, SpecifiedModelNotFoundError, UnclearModelToUseError,
  ReloadArgumentSizeUnmatchedError, ReloadModelIdNotUniqueError, UnsupportedFieldsError, UnsupportedFeatureError,
  ContextWindowSizeExceededError, DeviceLostError, WebGPUNotAvailableError,
} from './errors';
export type { WebLLMErrorCode } from './errors';
// WebLLM's own types, re-exported so `import type { … } from 'tabllm/webllm'` keeps compiling.
export type {
  AppConfig, ModelRecord, ChatOptions, MLCEngineConfig, InitProgressReport, InitProgressCallback, MLCEngineInterface,
  ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatCompletionMessageParam, Completion, CompletionCreateParams,
  CompletionUsage,
} from '@mlc-ai/web-llm';
