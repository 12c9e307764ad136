// llama.cpp's tokenizer test vectors (test-tokenizer-0): every case of the vocab GGUFs that
// are in the fixtures must give exactly llama.cpp's ids, and decode back to the input.
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../../src/model/tokenizer';
import { readVocabCases, VOCAB_DIR, vocabMismatches } from './fixtures';

interface VocabExpectations {
  model: 'llama' | 'gpt2';
  bos: number;
  eos: number;
  eogIds: number[];
  addBos: boolean;
}

const VOCABS: Record<string, VocabExpectations> = {
  'llama-spm': { model: 'llama', bos: 1, eos: 2, eogIds: [2], addBos: true },
  // <|endoftext|> 32000 (EOS) and <|end|> 32007 end generation; "</s>" is on llama.cpp's EOG list too.
  'phi-3': { model: 'llama', bos: 1, eos: 32000, eogIds: [2, 32000, 32007], addBos: true },
  'gpt-2': { model: 'gpt2', bos: 50256, eos: 50256, eogIds: [50256], addBos: false },
  'deepseek-llm': { model: 'gpt2', bos: 100000, eos: 100001, eogIds: [100001], addBos: true },
};

for (const [name, expected] of Object.entries(VOCABS)) {
  describe(`ggml-vocab-${name}.gguf`, () => {
    let tok: Tokenizer;
    const cases = readVocabCases(name);

    beforeAll(async () => {
      tok = await Tokenizer.fromGGUF(resolve(VOCAB_DIR, `ggml-vocab-${name}.gguf`));
    }, 60_000);

    it('has the special ids llama.cpp derives', () => {
      expect(tok.model).toBe(expected.model);
      expect(tok.bos).toBe(expected.bos);
      expect(tok.eos).toBe(expected.eos);
      expect(tok.eogIds).toEqual(expected.eogIds);
      expect(tok.addBos).toBe(expected.addBos);
    });

    it(`matches all ${cases.length} llama.cpp cases`, () => {
      expect(cases.length).toBe(47);
      expect(vocabMismatches(tok, cases)).toEqual([]);
    });

    it('round-trips every case: decode(encode(s)) == s', () => {
      for (const c of cases) {
        expect(tok.decode(tok.encode(c.text, { addSpecial: false }))).toBe(c.text);
        // With BOS added, skipping special tokens gives the text back too.
        expect(tok.decode(tok.encode(c.text), { skipSpecial: true })).toBe(c.text);
      }
    });

    it('adds BOS exactly when the metadata says so', () => {
      const ids = tok.encode('Hello world');
      const bare = tok.encode('Hello world', { addSpecial: false });
      expect(ids).toEqual(expected.addBos ? [expected.bos, ...bare] : bare);
    });
  });
}
