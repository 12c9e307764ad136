// Public GGUF API: read headers and tensors from any byte source, write files, (de)quantize.
export { GGUFError, type GGUFErrorCode } from './errors';
export { readGGUF, readTensorBytes, GGUF_DEFAULT_ALIGNMENT, type ReadGGUFOptions } from './reader';
export { writeGGUF, type WriteGGUFInput, type TensorInput, type MetaInput, type TypedMetaValue } from './writer';
export { dequantize, dequantizeF64, elementCount, DEQUANT_TYPES } from './dequant';
export { quantize } from './quantize';
export { typeTraits, typeName, tensorByteLength, f32ToF16, f16ToF32, f32ToBF16, bf16ToF32, type TypeTraits } from './quant';
export {
  openSource, classifySourceString, MemorySource, BlobSource, HttpRangeSource, NodeFileSource, isByteSource,
  type SourceInput, type OpenSourceOptions,
} from './source';
export * from './types';
