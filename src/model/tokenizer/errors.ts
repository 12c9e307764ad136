// Tokenizer errors: one class with a string `code`, so callers (and the worker boundary)
// can branch on the failure without parsing messages.

export type TokenizerErrorCode =
  /** `tokenizer.ggml.tokens` is missing or not an array of strings. */
  | 'missing_vocab'
  /** scores / token_type arrays have a different length than the token list. */
  | 'vocab_length_mismatch'
  /** The same token text appears at two ids. */
  | 'duplicate_token'
  /** A token string is not well-formed Unicode, or a byte-level token has chars outside the byte map. */
  | 'invalid_utf8'
  /** A byte-level BPE vocabulary without `tokenizer.ggml.merges`. */
  | 'missing_merges'
  /** A merge line that is not two space-separated parts. */
  | 'invalid_merge'
  /** A merge whose parts (or whose result) are not tokens of the vocabulary. */
  | 'merge_unknown_token'
  /** `tokenizer.ggml.model` is not one this library implements. */
  | 'unsupported_model'
  /** `tokenizer.ggml.pre` names a pre-tokenizer this library does not implement. */
  | 'unsupported_pre_tokenizer'
  /** A metadata value has the wrong type, or add_bos/add_eos is set without the token id. */
  | 'bad_metadata'
  /** A token id passed to decode / tokenToPiece is not an integer in [0, vocabSize). */
  | 'id_out_of_range'
  /** encode() was given something other than a string, or decode() something other than a list of ids. */
  | 'invalid_input';

export class TokenizerError extends Error {
  override readonly name = 'TokenizerError';
  readonly code: TokenizerErrorCode;

  constructor(code: TokenizerErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}
