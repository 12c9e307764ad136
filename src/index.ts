// tabllm public entry point (browser and Node). Node-only helpers live in `tabllm/node`.
export { GGMLType, GGUFValueType } from './model/gguf/types';
export type { GGUFFile, GGUFMetadata, GGUFTensorInfo, GGUFValue, ByteSource } from './model/gguf/types';
export { readGGUF, readTensorBytes, writeGGUF, GGUFError, dequantize, dequantizeF64, quantize, openSource } from './model/gguf';
export type { ModelConfig, Arch } from './model/config';
export { modelConfigFromGGUF, ModelConfigError } from './model/config';
export { ChatTemplate, TemplateError, modelHasNoChatTemplateError } from './model/template';
export type { ChatMessage, ChatTextPart, ChatToolCall, RenderOptions as ChatTemplateRenderOptions } from './model/template';
export { KV_BLOCK_SIZE, GREEDY } from './engine/types';
export type { ModelRunner, StepInput, StepOutput, SamplingParams, SequenceInput } from './engine/types';
export { EngineError, isAbortError } from './engine/errors';
export type { EngineErrorCode } from './engine/errors';
export type * from './engine/engine-api';
export { createRouter } from './api/router';
export type { Router, RouterOptions } from './api/router';
export { createOpenAIFetch, installFetchShim, DEFAULT_SHIM_ORIGINS } from './shim/fetch';
export type { FetchLike, OpenAIFetchOptions, FetchShimOptions } from './shim/fetch';
export const VERSION = '0.1.0';
