// Streaming detokenization: text comes out only as complete UTF-8 characters, and the
// concatenated stream equals decode() of the same ids.
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { IncrementalDetokenizer, Tokenizer, TokenizerError } from '../../../src/model/tokenizer';
import { completePrefixLength } from '../../../src/model/tokenizer/detokenizer';
import { FIXTURES, VOCAB_DIR } from './fixtures';

function stream(tok: Tokenizer, ids: number[], options?: ConstructorParameters<typeof IncrementalDetokenizer>[1]): string[] {
  const det = new IncrementalDetokenizer(tok, options);
  const chunks = ids.map((id) => det.push(id));
  chunks.push(det.flush());
  return chunks;
}

describe('IncrementalDetokenizer on SentencePiece with byte fallback (stories260K)', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    tok = await Tokenizer.fromGGUF(resolve(FIXTURES, 'stories260K/stories260K.gguf'));
  }, 60_000);

  it('holds the bytes of "☕" (<0xE2><0x98><0x95>) until the character is complete', () => {
    const ids = tok.encode('café ☕ 日本');
    expect(ids).toEqual([1, 280, 412, 431, 485, 410, 229, 155, 152, 410, 233, 154, 168, 233, 159, 175]);
    const chunks = stream(tok, ids, { skipSpecial: true });
    // ids 229 and 155 are the first two bytes of U+2615: nothing yet; 152 completes it.
    expect(chunks.slice(6, 9)).toEqual(['', '', '☕']);
    expect(chunks.slice(10, 13)).toEqual(['', '', '日']);
    expect(chunks.join('')).toBe('café ☕ 日本');
    expect(chunks.some((c) => c.includes('\uFFFD'))).toBe(false);
  });

  it('drops the dummy-prefix space at sequence start only', () => {
    const ids = tok.encode('Once upon a time'); // [BOS, ▁Once, ...]
    expect(stream(tok, ids, { skipSpecial: true }).join('')).toBe('Once upon a time');
    expect(stream(tok, ids).join('')).toBe('<s>Once upon a time');
    // Continuing after a prompt: the first piece keeps its space.
    expect(stream(tok, ids.slice(1), { sequenceStart: false }).join('')).toBe(' Once upon a time');
    expect(stream(tok, ids.slice(2), { sequenceStart: false })[0]).toBe(' upon');
  });

  it('flushes an unfinished character as U+FFFD', () => {
    const det = new IncrementalDetokenizer(tok, { sequenceStart: false });
    expect(det.push(229)).toBe(''); // <0xE2>
    expect(det.flush()).toBe('\uFFFD');
  });

  it('rejects ids outside the vocabulary with a coded error', () => {
    const det = new IncrementalDetokenizer(tok);
    expect(() => det.push(512)).toThrow(TokenizerError);
    expect(() => det.push(-1)).toThrow(expect.objectContaining({ code: 'id_out_of_range' }));
  });
});

describe('IncrementalDetokenizer on byte-level BPE (gpt-2)', () => {
  let tok: Tokenizer;
  beforeAll(async () => {
    tok = await Tokenizer.fromGGUF(resolve(VOCAB_DIR, 'ggml-vocab-gpt-2.gguf'));
  }, 60_000);

  it('never emits half of a multi-byte character', () => {
    const text = 'llama 🦙 and 🦙🦙, 日本語 Ω≈ç√∫';
    const ids = tok.encode(text);
    // GPT-2 spells these characters with tokens that hold partial UTF-8.
    expect(ids.some((id) => tok.pieceString(id) === null)).toBe(true);
    const chunks = stream(tok, ids);
    expect(chunks.join('')).toBe(text);
    for (const c of chunks) expect(c.includes('\uFFFD')).toBe(false);
    const emojiChunks = chunks.filter((c) => c.includes('🦙'));
    expect(emojiChunks.length).toBeGreaterThan(0);
  });

  it('streams exactly what decode returns, for every llama.cpp test string', async () => {
    const { readVocabCases } = await import('./fixtures');
    for (const c of readVocabCases('gpt-2')) {
      const ids = tok.encode(c.text);
      expect(stream(tok, ids).join('')).toBe(tok.decode(ids));
    }
  });
});

describe('completePrefixLength', () => {
  const cases: [number[], number][] = [
    [[0x41], 1],
    [[0x41, 0xe2], 1], // lead byte of a 3-byte char, nothing after it
    [[0x41, 0xe2, 0x98], 1],
    [[0x41, 0xe2, 0x98, 0x95], 4],
    [[0xf0, 0x9f, 0xa6], 0], // 3 of 4 bytes of an emoji
    [[0xf0, 0x9f, 0xa6, 0x99], 4],
    [[0x98, 0x95], 2], // stray continuation bytes can never complete: emit (as U+FFFD)
    [[0xff], 1],
  ];
  for (const [bytes, expected] of cases) {
    it(`[${bytes.map((b) => b.toString(16)).join(' ')}] -> ${expected}`, () => {
      expect(completePrefixLength(Uint8Array.from(bytes), bytes.length)).toBe(expected);
    });
  }
});

describe('detokenizerFactory', () => {
  it('drops the leading space only when the prompt is control tokens (or absent)', async () => {
    const { detokenizerFactory } = await import('../../../src/model/tokenizer');
    const tok = await Tokenizer.fromGGUF(resolve(FIXTURES, 'stories260K/stories260K.gguf'));
    const make = detokenizerFactory(tok, { skipSpecial: true });
    const once = tok.encode('Once', { addSpecial: false }); // [▁Once]
    const run = (det: IncrementalDetokenizer) => once.map((id) => det.push(id)).join('') + det.flush();
    expect(run(make())).toBe('Once');
    expect(run(make([1]))).toBe('Once'); // prompt is just BOS
    expect(run(make([1, ...tok.encode('Hello', { addSpecial: false })]))).toBe(' Once');
  });
});
