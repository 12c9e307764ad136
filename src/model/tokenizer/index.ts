// Tokenizers from GGUF metadata: SentencePiece-style and byte-level BPE, plus streaming
// detokenization.
export { Tokenizer, type EncodeOptions, type DecodeOptions } from './tokenizer';
export { IncrementalDetokenizer, detokenizerFactory, type IncrementalDetokenizerOptions } from './detokenizer';
export { TokenizerError, type TokenizerErrorCode } from './errors';
export { SUPPORTED_PRE_TOKENIZERS } from './pre-tokenizer';
