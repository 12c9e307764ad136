// Special tokens of a Qwen 2.5 / Qwen 3 vocabulary (from the real tokenizer_config.json files),
// typed the way convert_hf_to_gguf.py types them: end-of-generation ids follow llama.cpp's rules
// (EOS, "<|im_end|>", "<|endoftext|>" and the FIM pad/repo/file-separator tokens), control
// tokens split only with parseSpecial, user-defined ones ("<tool_call>", "<think>") always.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../../../src/model/tokenizer';
import { FIXTURES } from './fixtures';
import { bpeMetadata, CONTROL, USER_DEFINED } from './hand-vocab';

function qwenTokenizer(name: 'qwen2.5' | 'qwen3'): Tokenizer {
  const config = JSON.parse(readFileSync(resolve(FIXTURES, `tokenizers/${name}/tokenizer_config.json`), 'utf8')) as {
    added_tokens_decoder: Record<string, { content: string; special: boolean }>;
  };
  // convert_hf_to_gguf: special, or looks special ("<|...|>"), is a control token.
  const added = Object.values(config.added_tokens_decoder).map(
    (t) => [t.content, t.special || (t.content.startsWith('<|') && t.content.endsWith('|>')) ? CONTROL : USER_DEFINED] as [string, number],
  );
  const md = bpeMetadata([['Hi'], ...added], ['H i'], 'qwen2');
  const tokens = md['tokenizer.ggml.tokens'] as string[];
  md['tokenizer.ggml.bos_token_id'] = tokens.indexOf('<|endoftext|>');
  md['tokenizer.ggml.eos_token_id'] = tokens.indexOf('<|im_end|>');
  md['tokenizer.ggml.add_bos_token'] = false;
  return Tokenizer.fromMetadata(md);
}

describe('Qwen special tokens', () => {
  for (const name of ['qwen2.5', 'qwen3'] as const) {
    it(`${name}: end-of-generation ids as llama.cpp derives them`, () => {
      const tok = qwenTokenizer(name);
      const id = (t: string) => tok.tokenId(t)!;
      const eog = ['<|endoftext|>', '<|im_end|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>'].map(id).sort((a, b) => a - b);
      expect(tok.eogIds).toEqual(eog);
      expect(tok.eot).toBe(id('<|im_end|>'));
      expect(tok.addBos).toBe(false);
      expect(tok.encode('Hi')).toEqual([id('Hi')]);
    });
  }

  it('splits control tokens only with parseSpecial and user-defined tokens always', () => {
    const tok = qwenTokenizer('qwen3');
    const id = (t: string) => tok.tokenId(t)!;
    const text = '<|im_start|>Hi<think>Hi</think><tool_call>Hi<|im_end|>';
    expect(tok.encode(text, { parseSpecial: true })).toEqual([
      id('<|im_start|>'), id('Hi'), id('<think>'), id('Hi'), id('</think>'), id('<tool_call>'), id('Hi'), id('<|im_end|>'),
    ]);
    const plain = tok.encode(text);
    expect(plain).not.toContain(id('<|im_start|>'));
    expect(plain).toContain(id('<think>'));
    expect(plain).toContain(id('<tool_call>'));
    // Control tokens vanish with skipSpecial; user-defined ones are text.
    expect(tok.decode(tok.encode(text, { parseSpecial: true }), { skipSpecial: true })).toBe('Hi<think>Hi</think><tool_call>Hi');
  });
});
