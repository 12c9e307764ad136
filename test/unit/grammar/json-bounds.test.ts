// Integer bounds written by us (json-bounds.ts), not by XGrammar 0.1.27 (whose `maximum: 120`
// admits 121–129): for many ranges, the grammar XGrammar compiles accepts exactly the integers
// in range among values around each bound and each digit-length boundary, at the top level and
// nested; and through the compiler service a matcher refuses 125 under `maximum: 120`.
import { beforeAll, describe, expect, it } from 'vitest';
import { GrammarCompilerService, MAX_JSON_WHITESPACE } from '../../../src/grammar/compiler';
import { rewriteIntegerBounds } from '../../../src/grammar/json-bounds';
import { repairJsonEbnf } from '../../../src/grammar/json-ebnf';
import { grammarVocab } from '../../../src/grammar/vocab';
import { loadXGrammar, type XGrammarLib } from '../../../src/grammar/xgrammar-load';
import { jsonTokenizer } from '../../helpers/json-vocab';
import { rng } from '../../helpers/rng';

type Bounds = { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number };

const CASES: Bounds[] = [
  { maximum: 120 },
  { minimum: 0, maximum: 120 },
  { minimum: -120, maximum: 120 },
  { minimum: -50, maximum: -3 },
  { minimum: 1, maximum: 99 },
  { minimum: 7, maximum: 1234 },
  { minimum: 5 },
  { minimum: -15 },
  { maximum: -7 },
  { exclusiveMinimum: 0, exclusiveMaximum: 10 },
  { minimum: 1.5, maximum: 9.5 },
  { minimum: 0, maximum: 0 },
  { minimum: 100, maximum: 100 },
  { minimum: -1000, maximum: 100000 },
  { minimum: 190, maximum: 210 },
];

function random(): Bounds[] {
  const r = rng(16);
  return Array.from({ length: 10 }, () => {
    const a = Math.floor((r() - 0.3) * 10 ** (1 + Math.floor(r() * 4)));
    const b = a + Math.floor(r() * 10 ** (1 + Math.floor(r() * 4)));
    return { minimum: a, maximum: b };
  });
}

/** Integers around each bound, zero, and each digit-length boundary (and their negatives). */
function candidates(b: Bounds): number[] {
  const out = new Set<number>([0, 1, -1]);
  for (const v of Object.values(b)) for (let d = -12; d <= 12; d++) out.add(Math.round(v) + d);
  for (let p = 1; p <= 1e6; p *= 10) for (const v of [p - 1, p, p + 1, 2 * p, 9 * p]) (out.add(v), out.add(-v));
  return [...out];
}

function inRange(v: number, b: Bounds): boolean {
  return (b.minimum === undefined || v >= b.minimum) && (b.maximum === undefined || v <= b.maximum)
    && (b.exclusiveMinimum === undefined || v > b.exclusiveMinimum) && (b.exclusiveMaximum === undefined || v < b.exclusiveMaximum);
}

describe('integer bounds', () => {
  let lib: XGrammarLib;
  beforeAll(async () => {
    lib = (await loadXGrammar()).lib;
  });

  /** The EBNF compileWith writes for a schema (strict), parsed by XGrammar. */
  async function grammarOf(schema: object) {
    const bounds = rewriteIntegerBounds(JSON.stringify(schema));
    const ebnf = await lib.Testings._jsonSchemaToEBNF(bounds.schema, true, undefined, undefined, true, MAX_JSON_WHITESPACE);
    return lib.Grammar.fromEBNF(bounds.restore(repairJsonEbnf(ebnf)));
  }

  it('each range admits exactly its integers (top level and as a property)', async () => {
    const wrong: string[] = [];
    for (const b of [...CASES, ...random()]) {
      const top = await grammarOf({ type: 'integer', ...b });
      const nested = await grammarOf({ type: 'object', properties: { n: { type: 'integer', ...b } }, required: ['n'], additionalProperties: false });
      for (const v of candidates(b)) {
        if ((await lib.Testings.isGrammarAcceptString(top, String(v))) !== inRange(v, b)) wrong.push(`${JSON.stringify(b)}: ${v}`);
        if ((await lib.Testings.isGrammarAcceptString(nested, `{"n": ${v}}`)) !== inRange(v, b)) wrong.push(`${JSON.stringify(b)} nested: ${v}`);
      }
      top.dispose();
      nested.dispose();
    }
    expect(wrong).toEqual([]);
  }, 120_000);

  it('leaves data alone: a const or enum that looks like an integer schema is not rewritten', () => {
    const schema = JSON.stringify({ const: { type: 'integer', maximum: 3 } });
    expect(rewriteIntegerBounds(schema).schema).toBe(schema);
  });

  it('through the compiler: maximum 120 refuses 125 and takes 120', async () => {
    const tok = jsonTokenizer();
    const svc = new GrammarCompilerService(() => grammarVocab(tok));
    const compiled = await svc.compile({ kind: 'json_schema', schema: JSON.stringify({ type: 'integer', maximum: 120 }) });
    const takes = async (text: string) => {
      const m = await compiled.createMatcher();
      const ok = [...text].every((ch) => m.accept(tok.encode(ch, { addSpecial: false })[0])) && m.accept(tok.eogIds[0]);
      m.dispose();
      return ok;
    };
    expect(await takes('125')).toBe(false);
    expect(await takes('129')).toBe(false);
    expect(await takes('120')).toBe(true);
    expect(await takes('-4000')).toBe(true);
  });
});
