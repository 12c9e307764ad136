// Property tests on real vocabularies: decode inverts encode for any well-formed text the
// vocabulary can spell, and streaming detokenization equals one-shot decode for any ids.
import { resolve } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { IncrementalDetokenizer, Tokenizer } from '../../../src/model/tokenizer';
import { FIXTURES, VOCAB_DIR } from './fixtures';

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

// Any code points, well-formed. SentencePiece cannot represent "▁" itself (it is how a space
// is spelled, so it decodes to " "), so SPM strings leave it out.
const anyText = fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !LONE_SURROGATE.test(s));
const spmText = anyText.filter((s) => !s.includes('\u2581'));
// Mostly ASCII with spaces, newlines and a few multi-byte characters.
const mixedText = fc
  .array(fc.constantFrom('a', 'Z', ' ', '  ', '\n', '\t', "'s", '1', '23', '!', 'é', '日本', '🦙', '\u00A0', '\u3000', 'ÿ'), { maxLength: 30 })
  .map((parts) => parts.join(''));

function stream(tok: Tokenizer, ids: number[]): string {
  const det = new IncrementalDetokenizer(tok);
  let out = '';
  for (const id of ids) out += det.push(id);
  return out + det.flush();
}

const VOCABS = [
  ['stories260K', resolve(FIXTURES, 'stories260K/stories260K.gguf')],
  ['llama-spm', resolve(VOCAB_DIR, 'ggml-vocab-llama-spm.gguf')],
  ['gpt-2', resolve(VOCAB_DIR, 'ggml-vocab-gpt-2.gguf')],
  ['deepseek-llm', resolve(VOCAB_DIR, 'ggml-vocab-deepseek-llm.gguf')],
] as const;

for (const [name, path] of VOCABS) {
  describe(`${name} properties`, () => {
    let tok: Tokenizer;
    beforeAll(async () => {
      tok = await Tokenizer.fromGGUF(path);
    }, 60_000);

    it('decode(encode(s)) == s', () => {
      const text = tok.model === 'llama' ? spmText : anyText;
      fc.assert(
        fc.property(fc.oneof(text, mixedText), (s) => {
          expect(tok.decode(tok.encode(s, { addSpecial: false }))).toBe(s);
          expect(tok.decode(tok.encode(s), { skipSpecial: true })).toBe(s);
        }),
        { numRuns: 300 },
      );
    });

    it('streaming detokenization equals decode() for arbitrary id sequences', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 0, max: tok.vocabSize - 1 }), { maxLength: 40 }), (ids) => {
          expect(stream(tok, ids)).toBe(tok.decode(ids));
        }),
        { numRuns: 300 },
      );
    });
  });
}

describe('U+FEFF (byte order mark) tokens', () => {
  it('decode and streaming keep a BOM token as text, first or not (found by the property test: ids [0, 30143])', async () => {
    const tok = await Tokenizer.fromGGUF(resolve(VOCAB_DIR, 'ggml-vocab-llama-spm.gguf'));
    const bom = [];
    for (let id = 0; id < tok.vocabSize; id++) {
      const b = tok.pieceBytes(id);
      if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) bom.push(id);
    }
    expect(bom.length).toBeGreaterThan(0);
    for (const id of bom) {
      expect(tok.decode([id]).startsWith('\ufeff')).toBe(true);
      for (const ids of [[id], [0, id], [id, id], [tok.encode('a', { addSpecial: false })[0]!, id]]) {
        expect(stream(tok, ids)).toBe(tok.decode(ids));
        expect([...tok.decode(ids)].filter((c) => c === '\ufeff').length).toBe(ids.filter((i) => i === id).length);
      }
    }
  });
});
