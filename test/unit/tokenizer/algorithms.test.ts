// The merge algorithms and the special-token split on hand-made vocabularies, with cases
// chosen so that a wrong order (score, rank, leftmost-first) gives different ids.
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../../../src/model/tokenizer';
import { bpeMetadata, CONTROL, spmMetadata, USER_DEFINED } from './hand-vocab';

const FIRST = 259; // first id after <unk> <s> </s> and the 256 byte tokens

describe('SentencePiece merges', () => {
  const pieces = (tok: Tokenizer, ids: number[]) => ids.map((id) => tok.tokenText(id));

  it('merges the highest-scoring pair first', () => {
    const a = Tokenizer.fromMetadata(spmMetadata([['▁', -3], ['a', -3], ['b', -3], ['▁a', -1], ['ab', -2]]));
    expect(pieces(a, a.encode('ab', { addSpecial: false }))).toEqual(['▁a', 'b']);
    const b = Tokenizer.fromMetadata(spmMetadata([['▁', -3], ['a', -3], ['b', -3], ['▁a', -2], ['ab', -1]]));
    expect(pieces(b, b.encode('ab', { addSpecial: false }))).toEqual(['▁', 'ab']);
  });

  it('breaks score ties leftmost-first', () => {
    const tok = Tokenizer.fromMetadata(spmMetadata([['a', -1], ['aa', -1]], { 'tokenizer.ggml.add_space_prefix': false }));
    expect(pieces(tok, tok.encode('aaa', { addSpecial: false }))).toEqual(['aa', 'a']);
  });

  it('escapes spaces as ▁, adds the dummy prefix, and falls back to <0xXX> bytes', () => {
    const tok = Tokenizer.fromMetadata(spmMetadata([['▁', -5], ['a', -4], ['b', -4], ['▁a', -1], ['▁b', -1]]));
    expect(pieces(tok, tok.encode('a b', { addSpecial: false }))).toEqual(['▁a', '▁b']);
    // "é" is not a piece: its UTF-8 bytes C3 A9 become byte tokens (id 3 + byte).
    expect(tok.encode('é', { addSpecial: false })).toEqual([tok.tokenId('▁')!, 3 + 0xc3, 3 + 0xa9]);
    expect(tok.decode(tok.encode('a é b'), { skipSpecial: true })).toBe('a é b');
    expect(tok.encode('a')).toEqual([1, tok.tokenId('▁a')!]);
  });

  it('adds the space prefix again after each special token', () => {
    const tok = Tokenizer.fromMetadata(spmMetadata([['▁', -5], ['a', -4], ['▁a', -1]]));
    const ids = tok.encode('</s>a', { addSpecial: false, parseSpecial: true });
    expect(ids).toEqual([2, tok.tokenId('▁a')!]);
    expect(tok.encode('</s>a', { addSpecial: false })).not.toContain(2);
  });
});

describe('byte-level BPE merges', () => {
  const pieces = (tok: Tokenizer, text: string) => tok.encode(text).map((id) => tok.tokenText(id));

  it('applies merges lowest rank first', () => {
    const ab = Tokenizer.fromMetadata(bpeMetadata([['ab'], ['bc']], ['a b', 'b c']));
    expect(pieces(ab, 'abc')).toEqual(['ab', 'c']);
    const bc = Tokenizer.fromMetadata(bpeMetadata([['ab'], ['bc']], ['b c', 'a b']));
    expect(pieces(bc, 'abc')).toEqual(['a', 'bc']);
    const chain = Tokenizer.fromMetadata(bpeMetadata([['ab'], ['bc'], ['abc']], ['b c', 'a b', 'a bc']));
    expect(pieces(chain, 'abc')).toEqual(['abc']);
  });

  it('breaks rank ties leftmost-first', () => {
    const tok = Tokenizer.fromMetadata(bpeMetadata([['aa']], ['a a']));
    expect(pieces(tok, 'aaa')).toEqual(['aa', 'a']);
  });

  it('looks whole words up first when the pre-tokenizer says so (llama-bpe)', () => {
    const tokens: [string][] = [['ab'], ['abc']];
    const merging = Tokenizer.fromMetadata(bpeMetadata(tokens, ['a b'], 'gpt-2'));
    expect(pieces(merging, 'abc')).toEqual(['ab', 'c']);
    const wholeWord = Tokenizer.fromMetadata(bpeMetadata(tokens, ['a b'], 'llama-bpe', { 'tokenizer.ggml.bos_token_id': 0 }));
    expect(wholeWord.addBos).toBe(true);
    expect(wholeWord.encode('abc', { addSpecial: false }).map((id) => wholeWord.tokenText(id))).toEqual(['abc']);
  });

  it('spells bytes in the GPT-2 byte alphabet', () => {
    const tok = Tokenizer.fromMetadata(bpeMetadata([], []));
    // " é" is bytes 20 C3 A9, spelled "Ġ", "Ã", "©".
    expect(tok.encode(' é')).toEqual([0x20, 0xc3, 0xa9]);
    expect(tok.encode(' é').map((id) => tok.tokenText(id))).toEqual(['Ġ', 'Ã', '©']);
    expect(tok.decode(tok.encode(' é'))).toBe(' é');
    expect(tok.tokenToPiece(0xc3)).toBe('\uFFFD'); // half a character on its own
  });
});

describe('special tokens in text', () => {
  const md = bpeMetadata([['<ctl>', CONTROL], ['<ctl><x>', CONTROL], ['<tool>', USER_DEFINED]], []);

  it('matches control tokens only with parseSpecial, user-defined tokens always', () => {
    const tok = Tokenizer.fromMetadata(md);
    const ctl = tok.tokenId('<ctl>')!;
    const tool = tok.tokenId('<tool>')!;
    expect(tok.encode('a<tool>b')).toEqual([0x61, tool, 0x62]);
    expect(tok.encode('a<ctl>b')).not.toContain(ctl);
    expect(tok.encode('a<ctl>b', { parseSpecial: true })).toEqual([0x61, ctl, 0x62]);
  });

  it('prefers the longest special token', () => {
    const tok = Tokenizer.fromMetadata(md);
    const long = tok.tokenId('<ctl><x>')!;
    const ctl = tok.tokenId('<ctl>')!;
    expect(tok.encode('<ctl><x><ctl>', { parseSpecial: true })).toEqual([long, ctl]);
  });

  it('skipSpecial drops control tokens but keeps user-defined ones', () => {
    const tok = Tokenizer.fromMetadata(md);
    const ids = tok.encode('a<ctl>b<tool>', { parseSpecial: true });
    expect(tok.decode(ids)).toBe('a<ctl>b<tool>');
    expect(tok.decode(ids, { skipSpecial: true })).toBe('ab<tool>');
  });

  it('Phi-3 special tokens swallow whitespace on their right (rstrip)', () => {
    const pieces: [string, number, number?][] = [['<|user|>', 0, USER_DEFINED], ['▁', -5], ['h', -4], ['i', -4], ['hi', -2], ['▁hi', -1]];
    const phi = Tokenizer.fromMetadata(spmMetadata(pieces, { 'general.name': 'Phi3' }));
    const user = phi.tokenId('<|user|>')!;
    expect(phi.encode('<|user|>\n hi', { addSpecial: false })).toEqual([user, phi.tokenId('▁hi')!]);
    const plain = Tokenizer.fromMetadata(spmMetadata(pieces, { 'general.name': 'other' }));
    expect(plain.encode('<|user|>\n hi', { addSpecial: false })).toContain(3 + 0x0a); // the newline byte stays
  });
});
