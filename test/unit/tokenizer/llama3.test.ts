// Llama 3 (byte-level BPE, `llama-bpe` pre-tokenizer, whole-word lookup before merging):
// a GGUF is written in the test from the real 128k vocabulary and merges, read back through
// Tokenizer.fromGGUF, and must reproduce llama.cpp's ggml-vocab-llama-bpe.gguf.out exactly.
import { beforeAll, describe, expect, it } from 'vitest';
import { writeGGUF } from '../../../src/model/gguf/writer';
import { Tokenizer } from '../../../src/model/tokenizer';
import { llama3Metadata, LLAMA3_BOS, LLAMA3_EOS, readVocabCases, vocabMismatches } from './fixtures';

describe('Llama 3 tokenizer from a written GGUF', () => {
  let tok: Tokenizer;
  const cases = readVocabCases('llama-bpe');

  beforeAll(async () => {
    const gguf = writeGGUF({ metadata: llama3Metadata() as Parameters<typeof writeGGUF>[0]['metadata'] });
    tok = await Tokenizer.fromGGUF(gguf);
  }, 120_000);

  it('reads the vocabulary and special ids', () => {
    expect(tok.vocabSize).toBe(128256);
    expect(tok.model).toBe('gpt2');
    expect(tok.preTokenizer).toBe('llama-bpe');
    expect(tok.bos).toBe(LLAMA3_BOS);
    expect(tok.eos).toBe(LLAMA3_EOS);
    // llama-bpe implies add_bos; <|end_of_text|> (EOS) and <|eot_id|> end generation.
    expect(tok.addBos).toBe(true);
    expect(tok.eogIds).toEqual([128001, 128009]);
    expect(tok.eot).toBe(128009);
  });

  it(`matches all ${cases.length} llama.cpp cases`, () => {
    expect(cases.length).toBe(47);
    expect(vocabMismatches(tok, cases)).toEqual([]);
  });

  it('needs the whole-word lookup: "Cửa Việt" takes the word token, not the merge result', () => {
    // This case fails with merging alone (see fixtures/SOURCES.md).
    const c = cases.find((x) => x.text.includes('Cửa Việt'));
    expect(c).toBeDefined();
    expect(tok.encode(c!.text, { addSpecial: false })).toEqual(c!.ids);
  });

  it('round-trips every case', () => {
    for (const c of cases) expect(tok.decode(tok.encode(c.text, { addSpecial: false }))).toBe(c.text);
  });

  it('parses special tokens only when asked', () => {
    const text = '<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>';
    const parsed = tok.encode(text, { parseSpecial: true });
    expect(parsed[0]).toBe(LLAMA3_BOS);
    expect(parsed[1]).toBe(128006); // <|start_header_id|>
    expect(parsed).toContain(128007); // <|end_header_id|>
    expect(parsed[parsed.length - 1]).toBe(128009); // <|eot_id|>
    expect(tok.decode(parsed)).toBe('<|begin_of_text|>' + text);
    expect(tok.decode(parsed, { skipSpecial: true })).toBe('user\n\nHi');
    // Without parseSpecial the markers are plain text.
    const plain = tok.encode(text, { addSpecial: false });
    expect(plain).not.toContain(128006);
    expect(tok.decode(plain)).toBe(text);
  });
});
