// Number bounds written by us (json-number-bounds.ts), not by XGrammar 0.1.27 (whose [0, 1]
// admits 1.5): for many ranges, the grammar XGrammar compiles accepts exactly the numbers in
// range among decimals around each bound (no exponent, at most 6 decimals, never "-0"), top
// level and nested; random walks through a matcher's masks end in values ajv accepts; a range
// with no writable number is a coded 400.
import { beforeAll, describe, expect, it } from 'vitest';
import { GrammarCompilerService, MAX_JSON_WHITESPACE } from '../../../src/grammar/compiler';
import { GrammarError } from '../../../src/grammar/errors';
import { rewriteIntegerBounds } from '../../../src/grammar/json-bounds';
import { decimalOf } from '../../../src/grammar/json-number-bounds';
import { repairJsonEbnf } from '../../../src/grammar/json-ebnf';
import { grammarVocab } from '../../../src/grammar/vocab';
import { loadXGrammar, type XGrammarLib } from '../../../src/grammar/xgrammar-load';
import { makeAjv } from '../../helpers/json-schemas';
import { jsonTokenizer } from '../../helpers/json-vocab';
import { rng } from '../../helpers/rng';

type Bounds = { minimum?: number; maximum?: number; exclusiveMinimum?: number; exclusiveMaximum?: number };

const CASES: Bounds[] = [
  { minimum: 0, maximum: 1 },
  { minimum: -1, maximum: 1 },
  { minimum: 0.5, maximum: 2.25 },
  { minimum: 0, maximum: 100 },
  { exclusiveMaximum: 1 },
  { exclusiveMinimum: 0 },
  { exclusiveMinimum: 0, exclusiveMaximum: 1 },
  { minimum: -2.5, maximum: -0.75 },
  { minimum: -10, exclusiveMaximum: 0 },
  { exclusiveMinimum: -1.5, maximum: 3 },
  { minimum: 0.2, maximum: 0.8 },
  { exclusiveMinimum: 0.2, exclusiveMaximum: 0.25 },
  { minimum: 1.5 },
  { maximum: -3.25 },
  { minimum: 0, maximum: 0 },
  { minimum: -0.001, maximum: 0.001 },
  { minimum: 99.9, maximum: 120.05 },
  { minimum: 5, exclusiveMinimum: 5, maximum: 7 },
  { minimum: 1e-7, maximum: 1 },
];

function random(): Bounds[] {
  const r = rng(17);
  return Array.from({ length: 8 }, () => {
    const a = Math.round((r() - 0.4) * 10 ** (1 + Math.floor(r() * 3)) * 100) / 100;
    const b = a + Math.round(r() * 10 ** Math.floor(r() * 3) * 1000) / 1000;
    return r() < 0.5 ? { minimum: a, maximum: b } : { exclusiveMinimum: a, exclusiveMaximum: b };
  });
}

/** Decimals around each bound, zero and one (and their negatives), plus forms the grammar never writes. */
function candidates(b: Bounds): string[] {
  const out = new Set(['0', '1', '-1', '0.5', '1.0', '1.5', '1.01', '-0.1', '-0', '-0.0', '0.0', '1e0', '0.1234567', '00', '01', '1.']);
  for (const v of [0, 1, ...Object.values(b)]) {
    for (const scale of [1, 10, 1000]) {
      for (let d = -6; d <= 6; d++) {
        const x = v + d / scale;
        for (const digits of [0, 1, 3]) (out.add(x.toFixed(digits)), out.add((-x).toFixed(digits)));
      }
    }
    out.add(`${v}`);
    out.add(`${v}0`.includes('.') ? `${v}0` : `${v}.0`);
  }
  return [...out];
}

function inRange(v: number, b: Bounds): boolean {
  return (b.minimum === undefined || v >= b.minimum) && (b.maximum === undefined || v <= b.maximum)
    && (b.exclusiveMinimum === undefined || v > b.exclusiveMinimum) && (b.exclusiveMaximum === undefined || v < b.exclusiveMaximum);
}

/** What the grammar should admit: JSON numbers in range, without exponent, at most 6 decimals, not "-0". */
function admitted(s: string, b: Bounds): boolean {
  if (!/^-?(0|[1-9][0-9]*)(\.[0-9]{1,6})?$/.test(s)) return false;
  if (/^-0(\.0*)?$/.test(s)) return false;
  return inRange(Number(s), b);
}

describe('number bounds', () => {
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

  it('[0, 1] refuses 1.5, 1.01, -0.1 and takes 0, 1, 0.5, 1.0', async () => {
    const g = await grammarOf({ type: 'number', minimum: 0, maximum: 1 });
    const takes = async (s: string) => lib.Testings.isGrammarAcceptString(g, s);
    for (const s of ['1.5', '1.01', '-0.1', '-0', '2', '1.000001']) expect(await takes(s), s).toBe(false);
    for (const s of ['0', '1', '0.5', '1.0', '0.999999', '0.000001', '1.000000']) expect(await takes(s), s).toBe(true);
    g.dispose();
  });

  it('each range admits exactly its decimals (top level and as a property)', async () => {
    const wrong: string[] = [];
    for (const b of [...CASES, ...random()]) {
      const top = await grammarOf({ type: 'number', ...b });
      const nested = await grammarOf({ type: 'object', properties: { n: { type: 'number', ...b, description: 'x' } }, required: ['n'], additionalProperties: false });
      for (const s of candidates(b)) {
        if ((await lib.Testings.isGrammarAcceptString(top, s)) !== admitted(s, b)) wrong.push(`${JSON.stringify(b)}: ${s}`);
        if ((await lib.Testings.isGrammarAcceptString(nested, `{"n": ${s}}`)) !== admitted(s, b)) wrong.push(`${JSON.stringify(b)} nested: ${s}`);
      }
      top.dispose();
      nested.dispose();
    }
    expect(wrong).toEqual([]);
  }, 300_000);

  it('random walks through the masks end in values ajv accepts', async () => {
    const tok = jsonTokenizer();
    const svc = new GrammarCompilerService(() => grammarVocab(tok));
    const ajv = makeAjv();
    const r = rng(5);
    const bad: string[] = [];
    let walks = 0;
    for (const b of [...CASES.slice(0, 12), ...random().slice(0, 4)]) {
      const schema = { type: 'number', ...b };
      const validate = ajv.compile(schema);
      const parsesAndValidates = (text: string) => {
        try {
          return validate(JSON.parse(text));
        } catch {
          return false;
        }
      };
      const compiled = await svc.compile({ kind: 'json_schema', schema: JSON.stringify(schema) });
      for (let w = 0; w < 12; w++) {
        const m = await compiled.createMatcher();
        const ids: number[] = [];
        for (let n = 0; n < 24 && !m.isTerminated; n++) {
          const mask = await m.nextMask();
          const allowed: number[] = [];
          for (let id = 0; id < mask.length * 32; id++) if (mask[id >>> 5] & (1 << (id & 31))) allowed.push(id);
          if (allowed.length === 0) break;
          // End often where the grammar allows it, so walks are short and varied.
          const eog = allowed.find((id) => tok.isEog(id));
          const id = eog !== undefined && (r() < 0.3 || n > 16) ? eog : allowed[Math.floor(r() * allowed.length)];
          ids.push(id);
          if (!m.accept(id)) break;
        }
        const text = tok.decode(ids.filter((id) => !tok.isEog(id)));
        walks++;
        if (!m.isTerminated || !parsesAndValidates(text)) bad.push(`${JSON.stringify(b)}: ${JSON.stringify(text)}`);
        m.dispose();
      }
    }
    expect(walks).toBe(16 * 12);
    expect(bad).toEqual([]);
  }, 300_000);

  it('a range with no number of at most 6 decimals, an empty range, or a bound of 1e15, is a 400 naming the bounds', async () => {
    const tok = jsonTokenizer();
    const svc = new GrammarCompilerService(() => grammarVocab(tok));
    for (const b of [{ minimum: 0.1234561, maximum: 0.1234569 }, { minimum: 2, maximum: 1 }, { exclusiveMinimum: 1, exclusiveMaximum: 1 }, { maximum: 1e15 }]) {
      const err = await svc.compile({ kind: 'json_schema', schema: JSON.stringify({ type: 'number', ...b }) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GrammarError);
      expect((err as GrammarError).code).toBe('invalid_grammar');
      expect((err as GrammarError).message).toMatch(/minimum\/maximum/);
    }
  });

  it('leaves data and other keywords alone', () => {
    for (const schema of [{ const: { type: 'number', maximum: 3 } }, { type: 'number', maximum: 3, multipleOf: 0.5 }]) {
      expect(rewriteIntegerBounds(JSON.stringify(schema)).schema).toBe(JSON.stringify(schema));
    }
  });

  it('bounds as exact decimals', () => {
    expect(decimalOf(2.25)).toEqual({ int: '2', frac: '25' });
    expect(decimalOf(-0.001)).toEqual({ int: '0', frac: '001' });
    expect(decimalOf(1e-7)).toEqual({ int: '0', frac: '0000001' });
    expect(decimalOf(1.5e21)).toEqual({ int: '1500000000000000000000', frac: '' });
    expect(decimalOf(120)).toEqual({ int: '120', frac: '' });
  });

  it('long integer parts leave no room for decimals (a double keeps 15 digits)', async () => {
    const g = await grammarOf({ type: 'number', minimum: 0, exclusiveMaximum: 1e14 });
    expect(await lib.Testings.isGrammarAcceptString(g, '99999999999999')).toBe(true);
    expect(await lib.Testings.isGrammarAcceptString(g, '99999999999999.5')).toBe(false);
    expect(await lib.Testings.isGrammarAcceptString(g, '100000000000000')).toBe(false);
    g.dispose();
  });
});
