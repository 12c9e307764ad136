// A small byte-level BPE vocabulary (tokenizer.ggml.model 'gpt2') in which any JSON text can
// be spelled: <|endoftext|> (EOS, control), <|begin|> (BOS, control), the 256 GPT-2 byte
// chars, then a few JSON pieces ('{"', '":', '",', …) with the merges that make them. Small
// enough that a random model over it runs in seconds on SwiftShader, real enough that grammar
// masks mix single bytes with multi-byte pieces, as with a real tokenizer.
import { GGUFValueType } from '../../src/model/gguf/types';
import type { MetaInput } from '../../src/model/gguf/writer';
import { BYTE_TO_CHAR } from '../../src/model/tokenizer/byte-level';
import { Tokenizer } from '../../src/model/tokenizer';

export const JSON_EOS = 0;
export const JSON_BOS = 1;
/** Two-byte pieces (each one merge of two byte chars). */
const PIECES = ['{"', '":', '",', '"}', ' "', ': ', ', ', '},', '],', '[{', '}]', '[]', '{}', 'tr', 'ue', 'fa', 'ls', 'nu', 'll', '00', '10', '12', '\n ', '  '];

const byteLevel = (s: string) => [...new TextEncoder().encode(s)].map((b) => BYTE_TO_CHAR[b]).join('');

export const JSON_VOCAB_SIZE = 2 + 256 + PIECES.length;

export function jsonVocabMetadata(): Record<string, MetaInput> {
  const tokens = ['<|endoftext|>', '<|begin|>', ...BYTE_TO_CHAR, ...PIECES.map(byteLevel)];
  const types = tokens.map((_, i) => (i < 2 ? 3 : 1));
  const merges = PIECES.map((p) => [...p].map(byteLevel).join(' '));
  return {
    'tokenizer.ggml.model': 'gpt2',
    'tokenizer.ggml.pre': 'gpt-2',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.token_type': new Int32Array(types),
    'tokenizer.ggml.merges': merges,
    'tokenizer.ggml.bos_token_id': { type: GGUFValueType.UINT32, value: JSON_BOS },
    'tokenizer.ggml.eos_token_id': { type: GGUFValueType.UINT32, value: JSON_EOS },
    'tokenizer.ggml.add_bos_token': true,
  };
}

export function jsonTokenizer(): Tokenizer {
  // Parsed GGUF metadata holds plain values where the writer takes typed ones.
  const md = Object.fromEntries(Object.entries(jsonVocabMetadata()).map(([k, v]) => [k, typeof v === 'object' && v !== null && 'type' in v && 'value' in v ? v.value : v]));
  return Tokenizer.fromMetadata(md as never);
}
