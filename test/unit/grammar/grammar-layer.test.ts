// The grammar layer without the engine: the model vocabulary as XGrammar's TokenizerInfo takes
// it (SentencePiece with byte fallback from stories260K, byte-level BPE from Llama 3's 128,256
// tokens), the compile cache, and the per-sequence matcher (fork, roll back, refusals, UTF-8).
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { GrammarCompilerService } from '../../../src/grammar/compiler';
import { nestingDepth } from '../../../src/grammar/constraint';
import { grammarVocab, type GrammarVocab } from '../../../src/grammar/vocab';
import { Tokenizer } from '../../../src/model/tokenizer';
import { CHAR_TO_BYTE } from '../../../src/model/tokenizer/byte-level';
import { FIXTURES, llama3Metadata } from '../tokenizer/fixtures';
import { jsonTokenizer } from '../../helpers/json-vocab';

/** XGrammar's decoders, written out: what TokenizerInfo will take each string to mean. */
function decodeLikeXGrammar(v: GrammarVocab, s: string): number[] {
  if (v.vocabType === 'byte_level') return [...s].map((ch) => CHAR_TO_BYTE[ch.charCodeAt(0)]);
  const m = /^<0x([0-9A-F]{2})>$/.exec(s);
  if (m) return [parseInt(m[1], 16)];
  return [...new TextEncoder().encode(s.replaceAll('\u2581', ' '))];
}

function expectRoundTrip(tok: Tokenizer, v: GrammarVocab): void {
  let special = 0;
  for (let id = 0; id < tok.vocabSize; id++) {
    const s = v.encodedVocab[id];
    if (s === '') {
      special++;
      expect(tok.isControlLike(id) || tok.eogIds.includes(id) || tok.tokenBytes(id).length === 0, `token ${id}`).toBe(true);
      continue;
    }
    expect(decodeLikeXGrammar(v, s), `token ${id} ${JSON.stringify(tok.tokenText(id))}`).toEqual([...tok.tokenBytes(id)]);
  }
  expect(special).toBeGreaterThan(0);
}

async function acceptAll(svc: GrammarCompilerService, ebnf: string, ids: number[]) {
  const m = await (await svc.compile({ kind: 'grammar', ebnf })).createMatcher();
  const ok = ids.map((id) => m.accept(id));
  return { m, ok };
}

describe('grammar vocabulary', () => {
  let stories: Tokenizer;
  let llama3: Tokenizer;
  beforeAll(async () => {
    stories = await Tokenizer.fromGGUF(resolve(FIXTURES, 'stories260K/stories260K.gguf'));
    llama3 = Tokenizer.fromMetadata(llama3Metadata());
  });

  it('SentencePiece (stories260K): byte_fallback, every token spells its bytes, controls are special', async () => {
    const v = grammarVocab(stories);
    expect(v.vocabType).toBe('byte_fallback');
    expect(v.encodedVocab).toHaveLength(stories.vocabSize);
    expect(v.stopTokenIds).toEqual([...stories.eogIds]);
    expectRoundTrip(stories, v);
    // Through XGrammar itself: the tokenizer's own ids for a phrase are a sentence of its literal grammar, then EOS ends it.
    const svc = new GrammarCompilerService(() => v);
    const ids = stories.encode('Once upon a time', { addSpecial: false });
    const { m, ok } = await acceptAll(svc, 'root ::= " Once upon a time" | "Once upon a time"', ids);
    expect(ok.every(Boolean)).toBe(true);
    expect(m.accept(stories.eogIds[0])).toBe(true);
    expect(m.isTerminated).toBe(true);
  });

  it('byte-level BPE (Llama 3, 128,256 tokens): byte_level, every token spells its bytes, specials and EOG handled', async () => {
    const v = grammarVocab(llama3, 128256);
    expect(v.vocabType).toBe('byte_level');
    expect(v.vocabSize).toBe(128256);
    expect(v.encodedVocab[llama3.tokenId('<|eot_id|>')!]).toBe('');
    expect(v.stopTokenIds).toEqual([...llama3.eogIds]);
    expectRoundTrip(llama3, v);
    const svc = new GrammarCompilerService(() => v);
    const ids = llama3.encode('{"name": "héllo wörld"}', { addSpecial: false });
    const { m, ok } = await acceptAll(svc, 'root ::= "{\\"name\\": \\"héllo wörld\\"}"', ids);
    expect(ok.every(Boolean)).toBe(true);
    const mask = await m.nextMask();
    expect(mask).toHaveLength(128256 / 32);
    // Only the end-of-generation ids are allowed once the grammar is complete.
    const allowedIds = [...Array(128256).keys()].filter((t) => (mask[t >>> 5] >>> (t & 31)) & 1);
    expect(allowedIds).toEqual([...llama3.eogIds]);
  });
});

describe('compile cache', () => {
  const tok = jsonTokenizer();

  it('compiles each constraint once; the LRU keeps the most recently used; failures are not cached', async () => {
    const svc = new GrammarCompilerService(() => grammarVocab(tok), { cacheSize: 2 });
    const a = { kind: 'regex', pattern: 'a+' } as const;
    const b = { kind: 'choice', choices: ['x', 'y'] } as const;
    const c = { kind: 'json_object' } as const;
    const [ca1, ca2] = await Promise.all([svc.compile(a), svc.compile(a)]);
    expect(ca1).toBe(ca2);
    expect(svc.numCompiles).toBe(1);
    await svc.compile(b);
    await svc.compile(a); // a is now the most recent
    await svc.compile(c); // evicts b
    expect(svc.cachedKeys).toEqual(['regex\0a+', 'json_object']);
    expect(svc.numCompiles).toBe(3);
    await svc.compile(b);
    expect(svc.numCompiles).toBe(4);
    const bad = { kind: 'grammar', ebnf: 'root ::= (' } as const;
    await expect(svc.compile(bad)).rejects.toMatchObject({ name: 'GrammarError', code: 'invalid_grammar', param: 'guided_grammar' });
    expect(svc.cachedKeys).not.toContain('grammar\0root ::= (');
    expect(svc.numInstances).toBe(1);
    // The aborted instance is retired: the next compile gets a fresh one, and old grammars still work.
    await svc.compile({ kind: 'regex', pattern: 'b' });
    expect(svc.numInstances).toBe(2);
    const m = await ca1.createMatcher();
    expect(m.accept(tok.encode('a', { addSpecial: false })[0])).toBe(true);
  });

  it('bounds: nesting is measured outside strings and escapes', () => {
    expect(nestingDepth('{"a": [[1]], "b": "[[[["}', '[{', ']}', '"')).toBe(3);
    expect(nestingDepth('(a\\(b)', '(', ')', null)).toBe(1);
  });
});

describe('sequence matcher', () => {
  const tok = jsonTokenizer();
  const svc = new GrammarCompilerService(() => grammarVocab(tok));
  const ids = (s: string) => tok.encode(s, { addSpecial: false });

  it('refuses a token the grammar does not allow, leaving its state as it was', async () => {
    const m = await (await svc.compile({ kind: 'choice', choices: ['abc'] })).createMatcher();
    expect(m.accept(ids('x')[0])).toBe(false);
    expect(m.numAccepted).toBe(0);
    for (const id of ids('abc')) expect(m.accept(id)).toBe(true);
    expect(m.accept(0)).toBe(true); // EOS
    expect(m.isTerminated).toBe(true);
  });

  it('fork: an independent copy in the same state', async () => {
    const m = await (await svc.compile({ kind: 'choice', choices: ['ab', 'ac'] })).createMatcher();
    m.accept(ids('a')[0]);
    const f = await m.fork();
    expect(await f.nextMask()).toEqual(await m.nextMask());
    expect(f.accept(ids('b')[0])).toBe(true);
    expect(m.accept(ids('c')[0])).toBe(true);
    expect(f.numAccepted).toBe(2);
  });

  it('rollBack returns to an earlier state (mask included)', async () => {
    const m = await (await svc.compile({ kind: 'regex', pattern: '[0-9]{2}x' })).createMatcher();
    const start = await m.nextMask();
    m.accept(ids('1')[0]);
    const afterOne = await m.nextMask();
    m.accept(ids('2')[0]);
    m.rollBack(1);
    expect(await m.nextMask()).toEqual(afterOne);
    m.rollBack(1);
    expect(await m.nextMask()).toEqual(start);
    expect(() => m.rollBack(1)).toThrow(RangeError);
  });

  it('keeps outputs UTF-8: after a lead byte only its continuation bytes, and no stop token inside a character', async () => {
    const m = await (await svc.compile({ kind: 'json_schema', schema: '{"type": "string"}' })).createMatcher();
    m.accept(ids('"')[0]);
    const byte = (b: number) => 2 + b; // json-vocab: byte b is token 2 + b
    const allowedAfter = async (lead: number) => {
      const f = await m.fork();
      expect(f.accept(byte(lead))).toBe(true);
      const mask = await f.nextMask();
      return [...Array(tok.vocabSize).keys()].filter((t) => (mask[t >>> 5] >>> (t & 31)) & 1);
    };
    const range = (lo: number, hi: number) => Array.from({ length: hi - lo + 1 }, (_, i) => byte(lo + i));
    expect(await allowedAfter(0xe4)).toEqual(range(0x80, 0xbf));
    expect(await allowedAfter(0xed)).toEqual(range(0x80, 0x9f)); // no surrogates
    expect(await allowedAfter(0xf4)).toEqual(range(0x80, 0x8f)); // nothing past U+10FFFF
    expect(await allowedAfter(0xf0)).toEqual(range(0x90, 0xbf)); // no overlong forms
    expect(m.accept(byte(0xf5))).toBe(false); // never a lead byte
    m.accept(byte(0xe4));
    expect(m.accept(byte(0x41))).toBe(false); // 'A' would break the character
  });

  it('dispose while a mask is being computed frees the matcher after it', async () => {
    const m = await (await svc.compile({ kind: 'json_object' })).createMatcher();
    const pending = m.nextMask();
    m.dispose();
    expect((await pending).length).toBe(Math.ceil(tok.vocabSize / 32));
    await expect(m.nextMask()).rejects.toThrow(/after dispose/);
  });
});
