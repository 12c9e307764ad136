// tabllm public entry point (browser and Node). Node-only helpers live in `tabllm/node`.
export { GGMLType, GGUFValueType } from './model/gguf/types';
export type { GGUFFile, GGUFMetadata, GGUFTensorInfo, GGUFValue, ByteSource } from './model/gguf/types';
export { readGGUF, readTensorBytes, writeGGUF, GGUFError, dequantize, dequantizeF64, quantize, openSource } from './model/gguf';
export type { ModelConfig, Arch } from './model/config';
export { KV_BLOCK_SIZE, GREEDY } from './engine/types';
export type { ModelRunner, StepInput, StepOutput, SamplingParams, SequenceInput } from './engine/types';
export const VERSION = '0.1.0';
