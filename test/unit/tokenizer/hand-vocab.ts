// Small hand-made vocabularies for testing the algorithms on cases chosen to discriminate
// (score ties, merge order, whole-word lookup), without a real model file.
import type { GGUFMetadata } from '../../../src/model/gguf/types';
import { BYTE_TO_CHAR } from '../../../src/model/tokenizer/byte-level';

export const NORMAL = 1;
export const UNKNOWN = 2;
export const CONTROL = 3;
export const USER_DEFINED = 4;
export const BYTE = 6;

/** SentencePiece vocab: <unk> <s> </s>, 256 <0xXX> byte tokens (ids 3..258), then `pieces`. */
export function spmMetadata(pieces: [text: string, score: number, type?: number][], extra: GGUFMetadata = {}): GGUFMetadata {
  const tokens = ['<unk>', '<s>', '</s>'];
  const scores = [0, 0, 0];
  const types = [UNKNOWN, CONTROL, CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    scores.push(0);
    types.push(BYTE);
  }
  for (const [text, score, type] of pieces) {
    tokens.push(text);
    scores.push(score);
    types.push(type ?? NORMAL);
  }
  return {
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.scores': new Float32Array(scores),
    'tokenizer.ggml.token_type': new Int32Array(types),
    ...extra,
  };
}

/** Byte-level BPE vocab: the 256 byte chars (ids 0..255), then `extra` tokens; merges as given. */
export function bpeMetadata(extraTokens: [text: string, type?: number][], merges: string[], pre = 'gpt-2', extra: GGUFMetadata = {}): GGUFMetadata {
  const tokens = [...BYTE_TO_CHAR];
  const types: number[] = tokens.map(() => NORMAL);
  for (const [text, type] of extraTokens) {
    tokens.push(text);
    types.push(type ?? NORMAL);
  }
  return {
    'tokenizer.ggml.model': 'gpt2',
    'tokenizer.ggml.pre': pre,
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.token_type': new Int32Array(types),
    'tokenizer.ggml.merges': merges,
    ...extra,
  };
}
