// tabllm's tokenizer against llama.cpp's on the generated SentencePiece vocabulary
// (test-model.ts's defaultTokenizer with byte tokens): the same ids for plain text,
// spaces, unicode (byte fallback), and control-token text with and without parsing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../../src/model/tokenizer';
import { openLlamaCpp, type LlamaCppModel } from '../../helpers/llama-cpp-oracle';
import { makeTestModel } from '../../helpers/test-model';

const TEXTS = [
  'hello world',
  'Once upon a time, there was a cat.',
  '  two leading spaces and trailing  ',
  'line one\nline two',
  'naïve café — 東京 🙂',
  'ab12cd?!',
  'a</s>b<s>c',
];

describe('tokenizer vs llama.cpp on the generated SPM vocabulary', () => {
  const bytes = makeTestModel({ arch: 'llama', vocab: 600, dim: 16, layers: 1, heads: 2, kvHeads: 1, ffn: 16, quant: 'F32', seed: 3, name: 'tabllm-test-model' });
  let oracle: LlamaCppModel;
  let tokenizer: Tokenizer;
  beforeAll(async () => {
    oracle = await openLlamaCpp(bytes);
    tokenizer = await Tokenizer.fromGGUF(bytes);
  });
  afterAll(() => oracle?.dispose());

  for (const text of TEXTS) {
    for (const parseSpecial of [false, true]) {
      // parseSpecial: "</s>" becomes the EOS id instead of its pieces.
      it(`${JSON.stringify(text)}${parseSpecial ? ' (special)' : ''}`, () => {
        const expected = oracle.tokenize(text, parseSpecial);
        expect(expected.length).toBeGreaterThan(1);
        expect(tokenizer.encode(text, { addSpecial: false, parseSpecial })).toEqual(expected);
      });
    }
  }
});
