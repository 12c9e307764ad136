// The per-token mask's fast path (SequenceMatcher.nextMask into a reused buffer: XGrammar's
// bitmask copied by the patched fill of xgrammar-load.ts, the UTF-8 filter touching only the
// words it can change) against the straightforward one (the library's getNextTokenBitmask,
// ANDed word by word with every token allowed in the UTF-8 state), on Llama 3's 128,256-token
// vocabulary, over several schemas and seeded random walks that also stop inside multi-byte
// characters.
import type { CompiledGrammar, GrammarCompiler, GrammarMatcher } from '@mlc-ai/web-xgrammar';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_WHITESPACE } from '../../../src/grammar/compiler';
import { repairJsonEbnf } from '../../../src/grammar/json-ebnf';
import { SequenceMatcher } from '../../../src/grammar/matcher';
import { Utf8Filter } from '../../../src/grammar/utf8-filter';
import { grammarVocab, type GrammarVocab } from '../../../src/grammar/vocab';
import { fillNextTokenBitmask, loadXGrammar, type XGrammarLib } from '../../../src/grammar/xgrammar-load';
import { Tokenizer } from '../../../src/model/tokenizer';
import { rng } from '../../helpers/rng';
import { SCHEMA_CASES } from '../../helpers/json-schemas';
import { llama3Metadata } from '../tokenizer/fixtures';

const SCHEMAS = ['string', 'json object (any)', 'array of strings', 'person', 'anyOf objects', 'format date', 'string length range', 'enum of strings'];
const SEEDS = [1, 2, 3];
const STEPS = 40;

function allowedIds(mask: Uint32Array): number[] {
  const ids: number[] = [];
  for (let w = 0; w < mask.length; w++) for (let bits = mask[w]; bits !== 0; bits &= bits - 1) ids.push(w * 32 + 31 - Math.clz32(bits & -bits));
  return ids;
}

/** The mask as it was computed before the fast path: XGrammar's bits ANDed with every word of the UTF-8 state's mask. */
async function straightforwardMask(raw: GrammarMatcher, utf8: Utf8Filter, state: number): Promise<Uint32Array> {
  const bits = await raw.getNextTokenBitmask();
  const mask = new Uint32Array(bits.buffer, bits.byteOffset, bits.length);
  const allowed = utf8.allowedIn(state);
  for (let w = 0; w < mask.length; w++) mask[w] &= allowed[w];
  return mask;
}

describe('mask fast path (Llama 3 vocabulary)', () => {
  let lib: XGrammarLib;
  let v: GrammarVocab;
  let compiler: GrammarCompiler;
  beforeAll(async () => {
    lib = (await loadXGrammar()).lib;
    v = grammarVocab(Tokenizer.fromMetadata(llama3Metadata()));
    const info = await lib.TokenizerInfo.createTokenizerInfo(v.encodedVocab, v.vocabType, false, v.vocabSize, v.stopTokenIds);
    compiler = await lib.GrammarCompiler.createGrammarCompiler(info, false);
  }, 120_000);

  it('the library text takes the fill patch (else nextMask silently falls back to the copying path)', () => {
    expect(fillNextTokenBitmask(lib)).toBeTypeOf('function');
  });

  it('equals the straightforward mask at every step of random walks, inside characters too', async () => {
    const buffer = new Uint32Array(Math.ceil(v.vocabSize / 32)).fill(0xdeadbeef);
    let stepsInsideCharacter = 0;
    let masksCompared = 0;
    for (const name of SCHEMAS) {
      const schema = SCHEMA_CASES.find((c) => c.name === name)!.schema;
      const ebnf = await lib.Testings._jsonSchemaToEBNF(JSON.stringify(schema), true, undefined, undefined, true, MAX_JSON_WHITESPACE);
      const compiled: CompiledGrammar = await compiler.compileGrammar(repairJsonEbnf(ebnf), 'root');
      for (const seed of SEEDS) {
        const random = rng(seed);
        const fast = await SequenceMatcher.create(lib, compiled, v.stopTokenIds, v.utf8);
        const raw = await lib.GrammarMatcher.createGrammarMatcher(compiled, v.stopTokenIds, false);
        let state = Utf8Filter.START;
        for (let k = 0; k < STEPS && !fast.isTerminated; k++) {
          const expected = await straightforwardMask(raw, v.utf8, state);
          // Even steps into the reused buffer (as the engine does), odd ones into a new array.
          const got = await fast.nextMask(k % 2 === 0 ? buffer : undefined);
          if (k % 2 === 0) expect(got).toBe(buffer);
          expect(got.length, `${name} seed ${seed} step ${k}`).toBe(expected.length);
          const firstDiff = got.findIndex((w, i) => w !== expected[i]);
          expect(firstDiff, `${name} seed ${seed} step ${k}: first differing word`).toBe(-1);
          masksCompared++;
          if (state !== Utf8Filter.START) stepsInsideCharacter++;
          const ids = allowedIds(got);
          expect(ids.length, `${name} seed ${seed} step ${k}: no token allowed`).toBeGreaterThan(0);
          // Half the time, a token that stops inside a multi-byte character where there is one (the sparse states' path).
          const partial = ids.filter((id) => v.utf8.advance(state, id) > Utf8Filter.START);
          const pool = partial.length > 0 && random() < 0.5 ? partial : ids;
          const id = pool[Math.floor(random() * pool.length)];
          expect(fast.accept(id)).toBe(true);
          expect(raw.acceptToken(id)).toBe(true);
          state = v.utf8.advance(state, id);
        }
        fast.dispose();
        raw.dispose();
      }
    }
    expect(masksCompared).toBeGreaterThan(SCHEMAS.length * SEEDS.length * 5);
    expect(stepsInsideCharacter).toBeGreaterThan(20);
  }, 300_000);
});
