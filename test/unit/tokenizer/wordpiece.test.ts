// WordPiece (tokenizer.ggml.model = "bert") against llama.cpp's test vectors for the bge
// vocabulary (test-tokenizer-0: ggml-vocab-bert-bge.gguf.inp / .out, no special tokens),
// plus the [CLS] ... [SEP] framing and the normalizer switches llama.cpp reads.
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readGGUF } from '../../../src/model/gguf/reader';
import type { GGUFMetadata } from '../../../src/model/gguf/types';
import { Tokenizer } from '../../../src/model/tokenizer';
import { bertPreTokenize } from '../../../src/model/tokenizer/bert-pre-tokenizer';
import { readVocabCases, VOCAB_DIR, vocabMismatches } from './fixtures';

const BGE = resolve(VOCAB_DIR, 'ggml-vocab-bert-bge.gguf');

describe('ggml-vocab-bert-bge.gguf (WordPiece)', () => {
  let md: GGUFMetadata;
  let tok: Tokenizer;
  const cases = readVocabCases('bert-bge');

  beforeAll(async () => {
    md = (await readGGUF(BGE)).metadata;
    tok = Tokenizer.fromMetadata(md);
  }, 60_000);

  it('has the special ids llama.cpp derives for bert', () => {
    expect(tok.model).toBe('bert');
    expect(tok.bos).toBe(101); // [CLS]
    expect(tok.eos).toBe(-1);
    expect(tok.unk).toBe(100);
    expect(tok.tokenText(101)).toBe('[CLS]');
  });

  it(`matches all ${cases.length} llama.cpp cases`, () => {
    expect(cases.length).toBe(47);
    expect(vocabMismatches(tok, cases)).toEqual([]);
  });

  it('frames the text as [CLS] ... [SEP] with special tokens, whatever add_bos_token says', () => {
    expect(tok.encode('Hello world')).toEqual([101, 7592, 2088, 102]);
    const noBos = Tokenizer.fromMetadata({ ...md, 'tokenizer.ggml.add_bos_token': false });
    expect(noBos.encode('Hello world')).toEqual([101, 7592, 2088, 102]);
    expect(tok.encode('')).toEqual([101, 102]);
  });

  it('parses [SEP] text only with parseSpecial', () => {
    expect(tok.encode('a [SEP] b', { addSpecial: false, parseSpecial: true })).toEqual([1037, 102, 1038]);
    expect(tok.encode('a [SEP] b', { addSpecial: false })).not.toContain(102);
  });

  it('a word with an unmatched character becomes one [UNK]', () => {
    // U+1F600 is not in the vocabulary: the whole word "x😀y" is [UNK], its neighbours are not.
    expect(tok.encode('go x\u{1F600}y go', { addSpecial: false })).toEqual([2175, 100, 2175]);
  });

  it('honours normalizer.lowercase = false (accents kept too, as strip_accents follows it)', () => {
    const cased = Tokenizer.fromMetadata({ ...md, 'tokenizer.ggml.normalizer.lowercase': false });
    expect(cased.encode('Hello', { addSpecial: false })).not.toEqual(tok.encode('Hello', { addSpecial: false }));
    expect(bertPreTokenize('Héllo', { lowercase: false, stripAccents: false })).toEqual(['Héllo']);
    expect(bertPreTokenize('Héllo', { lowercase: true, stripAccents: true })).toEqual(['hello']);
  });

  it('refuses a bert vocabulary whose [SEP] id is outside the vocabulary', () => {
    const tokens = ['[PAD]', 'a'];
    expect(() => Tokenizer.fromMetadata({ 'tokenizer.ggml.model': 'bert', 'tokenizer.ggml.tokens': tokens })).toThrow(
      expect.objectContaining({ code: 'bad_metadata' }),
    );
  });
});

describe('bertPreTokenize', () => {
  const opts = { lowercase: true, stripAccents: true };
  it('splits punctuation, ASCII symbols and CJK ideographs into words of their own', () => {
    expect(bertPreTokenize('Hi, you$there 你好x', opts)).toEqual(['hi', ',', 'you', '$', 'there', '你', '好', 'x']);
  });
  it('drops control and format characters and splits on Unicode whitespace', () => {
    expect(bertPreTokenize('a\u200bb\u3000c\u0007d', opts)).toEqual(['ab', 'cd']);
  });
});
