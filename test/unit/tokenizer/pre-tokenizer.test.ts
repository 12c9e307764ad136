// Pre-tokenizer splits, derived by hand from llama.cpp's regex definitions for each
// `tokenizer.ggml.pre` type (not from a fixture), including its whitespace rules.
import { describe, expect, it } from 'vitest';
import { preTokenize, resolvePreTokenizer, SUPPORTED_PRE_TOKENIZERS } from '../../../src/model/tokenizer/pre-tokenizer';
import { TokenizerError } from '../../../src/model/tokenizer';

function split(pre: string, text: string): string[] {
  const out: string[] = [];
  preTokenize(text, resolvePreTokenizer(pre).regexes, (start, end) => out.push(text.slice(start, end)));
  return out;
}

describe('pre-tokenizers', () => {
  it('gpt-2: contractions, " ?letters", trailing-space rule', () => {
    expect(split('gpt-2', "Hello world's  3333 \n\n  foo!!")).toEqual(['Hello', ' world', "'s", ' ', ' 3333', ' \n\n ', ' foo', '!!']);
    expect(split('phi-2', "I'LL go")).toEqual(['I', "'", 'LL', ' go']); // gpt-2 contractions are lowercase only
  });

  it('llama-bpe: case-insensitive contractions, digits in threes, newlines kept with spaces', () => {
    expect(split('llama-bpe', "I'LL  3333 \n\n  foo!!")).toEqual(['I', "'LL", ' ', ' ', '333', '3', ' \n\n', ' ', ' foo', '!!']);
    expect(split('llama-bpe', '$hello')).toEqual(['$hello']); // one non-letter may lead a word
  });

  it('qwen2: single digits', () => {
    expect(split('qwen2', 'ab 12345')).toEqual(['ab', ' ', '1', '2', '3', '4', '5']);
  });

  it('deepseek-coder: letters, punctuation, single digits, CJK runs', () => {
    expect(split('deepseek-coder', 'foo123 bar!')).toEqual(['foo', '1', '2', '3', ' bar', '!']);
  });

  it('deepseek-llm: U+3000 is whitespace first, so the "　-。" class no longer matches it', () => {
    expect(split('deepseek-llm', '。\u3000')).toEqual(['。', '\u3000']);
    expect(split('deepseek-llm', 'a\nb')).toEqual(['a', '\n', 'b']);
  });

  it('falcon: punctuation runs first, then three-digit groups', () => {
    expect(split('falcon', 'a+b=1234')).toEqual(['a', '+', 'b', '=', '123', '4']);
  });

  it('starcoder / smollm: every digit alone', () => {
    expect(split('starcoder', 'abc 123')).toEqual(['abc', ' ', '1', '2', '3']);
    expect(split('smollm', 'x42')).toEqual(['x', '4', '2']);
  });

  it('tekken / gpt-4o: camel case splits on ASCII case; gpt-4o keeps contractions on the word', () => {
    expect(split('tekken', 'HelloWorld 12')).toEqual(['Hello', 'World', ' ', '1', '2']);
    expect(split('gpt-4o', "HelloWorld's 1234")).toEqual(['Hello', "World's", ' ', '123', '4']);
    expect(split('gpt-2', 'HelloWorld')).toEqual(['HelloWorld']);
  });

  it('qwen35: combining marks stay with their letters', () => {
    expect(split('qwen35', 'cafe\u0301 x')).toEqual(['cafe\u0301', ' x']);
    expect(split('qwen2', 'cafe\u0301 x')).toEqual(['cafe', '\u0301', ' x']);
  });

  it('default: punctuation split out first', () => {
    expect(split('default', 'a...b')).toEqual(['a', '...', 'b']);
  });

  it('whitespace is the Unicode White_Space set, not JS \\s (U+FEFF is not a space)', () => {
    expect(split('gpt-2', '\uFEFF\uFEFFa')).toEqual(['\uFEFF\uFEFF', 'a']);
    expect(split('gpt-2', 'a\u00A0\u00A0 b')).toEqual(['a', '\u00A0\u00A0', ' b']);
  });

  it('pieces always cover the text exactly', () => {
    const text = "Ünïcödé  \t\r\n 123456 🦙🦙 --- it's 日本語\u3000ok";
    for (const name of SUPPORTED_PRE_TOKENIZERS) expect(split(name, text).join('')).toBe(text);
  });

  it('rejects unknown names with unsupported_pre_tokenizer', () => {
    expect(() => resolvePreTokenizer('kimi-k2')).toThrow(TokenizerError); // needs a custom splitter
    expect(() => resolvePreTokenizer('qwen-9')).toThrow(expect.objectContaining({ code: 'unsupported_pre_tokenizer' }));
  });
});
