// Bad input gives a TokenizerError with a stable code: broken vocab arrays, bad merges,
// invalid token text, unsupported models and pre-tokenizers, ids out of range.
import { describe, expect, it } from 'vitest';
import { writeGGUF } from '../../../src/model/gguf/writer';
import type { GGUFMetadata } from '../../../src/model/gguf/types';
import { Tokenizer, TokenizerError, type TokenizerErrorCode } from '../../../src/model/tokenizer';
import { bpeMetadata, spmMetadata } from './hand-vocab';

function codeOf(fn: () => unknown): TokenizerErrorCode | 'no error' {
  try {
    fn();
  } catch (e) {
    if (e instanceof TokenizerError) return e.code;
    throw e;
  }
  return 'no error';
}

const fromMd = (md: GGUFMetadata) => () => Tokenizer.fromMetadata(md);

describe('TokenizerError codes', () => {
  it('vocab_length_mismatch: scores or token types disagree with the token count', async () => {
    const md = spmMetadata([['▁a', -1]]);
    const scores = md['tokenizer.ggml.scores'] as Float32Array;
    expect(codeOf(fromMd({ ...md, 'tokenizer.ggml.scores': scores.subarray(1) }))).toBe('vocab_length_mismatch');
    const types = md['tokenizer.ggml.token_type'] as Int32Array;
    expect(codeOf(fromMd({ ...md, 'tokenizer.ggml.token_type': new Int32Array([...types, 1]) }))).toBe('vocab_length_mismatch');
    // The same through a real GGUF file.
    const gguf = writeGGUF({ metadata: { ...md, 'tokenizer.ggml.scores': scores.subarray(2) } as Parameters<typeof writeGGUF>[0]['metadata'] });
    await expect(Tokenizer.fromGGUF(gguf)).rejects.toMatchObject({ name: 'TokenizerError', code: 'vocab_length_mismatch' });
  });

  it('missing_vocab: no token list', () => {
    const md = spmMetadata([]);
    delete md['tokenizer.ggml.tokens'];
    expect(codeOf(fromMd(md))).toBe('missing_vocab');
    expect(codeOf(fromMd({ ...md, 'tokenizer.ggml.tokens': [] }))).toBe('missing_vocab');
    expect(codeOf(fromMd({ ...md, 'tokenizer.ggml.tokens': [1, 2, 3] }))).toBe('missing_vocab');
  });

  it('duplicate_token: the same text at two ids', () => {
    expect(codeOf(fromMd(spmMetadata([['▁a', -1], ['▁a', -2]])))).toBe('duplicate_token');
  });

  it('invalid_utf8: a token that is not well-formed Unicode', () => {
    expect(codeOf(fromMd(spmMetadata([['\uD800x', -1]])))).toBe('invalid_utf8');
    // A normal byte-level token must be spelled in the 256-char byte alphabet ("日" is not in it).
    expect(codeOf(fromMd(bpeMetadata([['日']], [])))).toBe('invalid_utf8');
    // As a user-defined token it is fine: added tokens are raw text.
    expect(codeOf(fromMd(bpeMetadata([['日', 4]], [])))).toBe('no error');
  });

  it('invalid_utf8: a GGUF whose byte-level token bytes are not UTF-8', async () => {
    const gguf = writeGGUF({ metadata: bpeMetadata([['QQQQ']], []) as Parameters<typeof writeGGUF>[0]['metadata'] });
    const at = Buffer.from(gguf).indexOf('QQQQ');
    expect(at).toBeGreaterThan(0);
    gguf[at + 3] = 0xff; // "QQQ\xFF": the reader decodes it as "QQQ\uFFFD"
    await expect(Tokenizer.fromGGUF(gguf)).rejects.toMatchObject({ code: 'invalid_utf8' });
  });

  it('unsupported_model and unsupported_pre_tokenizer', () => {
    expect(codeOf(fromMd({ ...spmMetadata([]), 'tokenizer.ggml.model': 'ugm' }))).toBe('unsupported_model');
    expect(codeOf(fromMd({ ...spmMetadata([]), 'tokenizer.ggml.model': undefined as never }))).toBe('unsupported_model');
    expect(codeOf(fromMd(bpeMetadata([], [], 'no-such-pre')))).toBe('unsupported_pre_tokenizer');
    // A missing pre name means llama.cpp's default pre-tokenizer, not an error.
    const md = bpeMetadata([], []);
    delete md['tokenizer.ggml.pre'];
    expect(Tokenizer.fromMetadata(md).preTokenizer).toBe('');
  });

  it('missing_merges, invalid_merge, merge_unknown_token', () => {
    const md = bpeMetadata([['ab']], ['a b']);
    delete md['tokenizer.ggml.merges'];
    expect(codeOf(fromMd(md))).toBe('missing_merges');
    expect(codeOf(fromMd(bpeMetadata([['ab']], ['ab'])))).toBe('invalid_merge');
    expect(codeOf(fromMd(bpeMetadata([['ab']], ['a zz'])))).toBe('merge_unknown_token');
    expect(codeOf(fromMd(bpeMetadata([['ab']], ['日 b'])))).toBe('merge_unknown_token');
    // A merge whose result is not a token fails when it is first applied.
    const tok = Tokenizer.fromMetadata(bpeMetadata([], ['a b']));
    expect(codeOf(() => tok.encode('ab'))).toBe('merge_unknown_token');
    expect(tok.encode('ba')).toEqual([0x62, 0x61]); // byte tokens sit at their byte value
  });

  it('bad_metadata: wrong value types, add_bos without a BOS token', () => {
    expect(codeOf(fromMd(spmMetadata([], { 'tokenizer.ggml.bos_token_id': 'one' })))).toBe('bad_metadata');
    expect(codeOf(fromMd(spmMetadata([], { 'tokenizer.ggml.add_bos_token': 1 })))).toBe('bad_metadata');
    expect(codeOf(fromMd(spmMetadata([], { 'tokenizer.ggml.scores': ['x'] as never })))).toBe('bad_metadata');
    // gpt2's default BOS is id 11; with only 3 tokens there is none, so add_bos cannot hold.
    const tiny: GGUFMetadata = { 'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.tokens': ['a', 'b', 'c'], 'tokenizer.ggml.merges': [], 'tokenizer.ggml.add_bos_token': true };
    expect(codeOf(fromMd(tiny))).toBe('bad_metadata');
  });

  it('id_out_of_range: decode, tokenToPiece and tokenText check ids', () => {
    const tok = Tokenizer.fromMetadata(spmMetadata([['▁a', -1]]));
    expect(tok.vocabSize).toBe(260);
    expect(codeOf(() => tok.decode([1, 260]))).toBe('id_out_of_range');
    expect(codeOf(() => tok.decode([-1]))).toBe('id_out_of_range');
    expect(codeOf(() => tok.decode([2.5]))).toBe('id_out_of_range');
    expect(codeOf(() => tok.decode([Number.NaN]))).toBe('id_out_of_range');
    expect(codeOf(() => tok.tokenToPiece(260))).toBe('id_out_of_range');
    expect(codeOf(() => tok.tokenText(-3))).toBe('id_out_of_range');
    expect(tok.decode([259])).toBe('a'); // the last id is fine
  });

  it('invalid_input: encode takes a string, decode a list of ids', () => {
    const tok = Tokenizer.fromMetadata(spmMetadata([['▁a', -1]]));
    expect(codeOf(() => tok.encode(42 as never))).toBe('invalid_input');
    expect(codeOf(() => tok.encode(undefined as never))).toBe('invalid_input');
    expect(codeOf(() => tok.decode('1 2' as never))).toBe('invalid_input');
    expect(codeOf(() => tok.decode(null as never))).toBe('invalid_input');
    expect(tok.decode(new Int32Array([259]))).toBe('a'); // typed arrays are fine
  });

  it('errors carry name, code and a message that names the problem', () => {
    try {
      Tokenizer.fromMetadata(bpeMetadata([], [], 'tekken-x'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(TokenizerError);
      expect((e as TokenizerError).name).toBe('TokenizerError');
      expect((e as TokenizerError).message).toContain('tekken-x');
    }
  });
});
