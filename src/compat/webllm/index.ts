// `tabllm/webllm`: a drop-in for the parts of `@mlc-ai/web-llm` apps use. Change
// `from '@mlc-ai/web-llm'` to `from 'tabllm/webllm'`; see README.md beside this file.
// Nothing here imports `@mlc-ai/web-llm`: its types are declared in types.ts and protocol.ts.
export { CreateMLCEngine, MLCEngine } from './engine';
export type { TabllmMLCEngineConfig } from './engine';
export { CreateWebWorkerMLCEngine, WebWorkerMLCEngine, WebWorkerMLCEngineHandler } from './worker';
export type { ChatWorker, WebWorkerHandlerOptions } from './worker';
export { CreateServiceWorkerMLCEngine, ServiceWorkerMLCEngine, ServiceWorkerMLCEngineHandler } from './service-worker';
export {
  PREBUILT_GGUF, mappedPrebuiltIds, resolveWebLLMModel, isGgufLocation, prebuiltAppConfig, modelVersion, modelLibURLPrefix,
} from './prebuilt';
export type { PrebuiltMapping, ResolvedModel } from './prebuilt';
export { hasModelInCache, deleteModelAllInfoInCache, deleteModelInCache, deleteModelWasmInCache, deleteChatConfigInCache } from './cache';
export type { CacheOptions } from './cache';
export {
  WebLLMCompatError, ModelNotFoundError, ModelNotLoadedError, SpecifiedModelNotFoundError, UnclearModelToUseError,
  ReloadArgumentSizeUnmatchedError, ReloadModelIdNotUniqueError, UnsupportedFieldsError, UnsupportedFeatureError,
  ContextWindowSizeExceededError, DeviceLostError, WebGPUNotAvailableError,
} from './errors';
export type { WebLLMErrorCode } from './errors';
export type {
  AppConfig, ModelRecord, CacheBackend, ChatOptions, MLCEngineConfig, InitProgressReport, InitProgressCallback, LogLevel,
  LogitProcessor, MLCEngineInterface, ResumeProbeResult, ResumeResult, ResumeChatCompletionOptions, GPUEntryPoint,
} from './types';
export type * from './protocol';
