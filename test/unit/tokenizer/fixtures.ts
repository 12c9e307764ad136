// Shared fixture access for the tokenizer tests: llama.cpp's tokenizer test vectors and a
// Llama 3 vocabulary assembled from ollama's encoder.json / vocab.bpe plus the special tokens
// of Meta's tokenizer_config.json. Fixtures are read from ../shared/fixtures, never copied.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GGUFMetadata } from '../../../src/model/gguf/types';

export const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures');
export const VOCAB_DIR = resolve(FIXTURES, 'llama-cpp-vocab');

export interface VocabCase {
  text: string;
  ids: number[];
}

/** llama.cpp test-tokenizer-0 cases: `.inp` strings split by the marker, `.out` one id line each. */
export function readVocabCases(name: string): VocabCase[] {
  const inputs = readFileSync(resolve(VOCAB_DIR, `ggml-vocab-${name}.gguf.inp`), 'utf8').split('\n__ggml_vocab_test__\n');
  const lines = readFileSync(resolve(VOCAB_DIR, `ggml-vocab-${name}.gguf.out`), 'utf8').split('\n');
  return inputs.map((text, i) => {
    const line = lines[i].trim();
    return { text, ids: line === '' ? [] : line.split(/\s+/).map(Number) };
  });
}

/** The cases `tok` encodes (without special tokens) differently from llama.cpp: [] when all agree. */
export function vocabMismatches(tok: { encode(text: string, o: { addSpecial: boolean }): number[] }, cases: VocabCase[]) {
  return cases
    .map((c) => ({ text: c.text, expected: c.ids, got: tok.encode(c.text, { addSpecial: false }) }))
    .filter((r) => JSON.stringify(r.got) !== JSON.stringify(r.expected));
}

export const LLAMA3_BOS = 128000;
export const LLAMA3_EOS = 128001; // <|end_of_text|>, as in the config used here

/** GGUF tokenizer metadata for Llama 3 (128,256 tokens, 280,147 merges), as convert_hf_to_gguf writes it. */
export function llama3Metadata(): GGUFMetadata {
  const dir = resolve(FIXTURES, 'tokenizers/llama3');
  const encoder = JSON.parse(readFileSync(resolve(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const config = JSON.parse(readFileSync(resolve(dir, 'tokenizer_config.json'), 'utf8')) as {
    added_tokens_decoder: Record<string, { content: string; special: boolean }>;
  };
  const added = Object.entries(config.added_tokens_decoder).map(([id, t]) => [Number(id), t] as const);
  let vocabSize = 0;
  for (const id of [...Object.values(encoder), ...added.map(([i]) => i)]) vocabSize = Math.max(vocabSize, id + 1);
  const tokens: string[] = new Array(vocabSize);
  const types = new Int32Array(vocabSize).fill(1); // normal
  for (const [text, id] of Object.entries(encoder)) tokens[id] = text;
  for (const [id, t] of added) {
    tokens[id] = t.content;
    types[id] = t.special ? 3 : 4; // control : user-defined
  }
  const merges = readFileSync(resolve(dir, 'vocab.bpe'), 'utf8').split('\n').filter((line) => line.length > 0);
  return {
    'general.architecture': 'llama',
    'general.name': 'Llama 3 tokenizer (test)',
    'tokenizer.ggml.model': 'gpt2',
    'tokenizer.ggml.pre': 'llama-bpe',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.token_type': types,
    'tokenizer.ggml.merges': merges,
    'tokenizer.ggml.bos_token_id': LLAMA3_BOS,
    'tokenizer.ggml.eos_token_id': LLAMA3_EOS,
  };
}
