// Integer bounds in JSON schemas, written by us instead of by XGrammar. XGrammar 0.1.27's
// range writer is wrong for many bounds (`maximum: 120` becomes "1" [0-2] [0-9], admitting
// 121–129), so before a schema reaches it, every `{type: 'integer'}` node whose only other
// keywords are bounds (and title/description) is replaced by a string const marker; XGrammar
// writes that marker as the literal "\"__tabllm_bound_K__\"", which is then replaced by the
// exact range, a trie over digits (no leading zeros, as JSON writes integers):
//
//   maximum: 120  →  "-" [1-9] [0-9]* | "0" | "1" ("" | [0-1] [0-9]{0,1} | "2" ("" | "0") | [3-9]) | [2-9] [0-9]{0,1}
//
// `{type: 'number'}` nodes with bounds get the same marker, replaced by named rules that admit
// only numbers in range (json-number-bounds.ts). Integer bounds that are not safe integers, and
// nodes with other keywords (multipleOf, enum, …), stay XGrammar's (src/grammar/README.md).
// test/unit/grammar/json-bounds.test.ts and json-number-bounds.test.ts check ranges value by
// value against XGrammar's own matcher.
import { digitClass, numberRangeRules } from './json-number-bounds';

const MARKER_PREFIX = '__tabllm_bound_';
const BOUND_KEYS = ['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'] as const;
const NODE_KEYS = new Set<string>(['type', ...BOUND_KEYS, 'title', 'description']);

export interface BoundsRewrite {
  /** The schema text for XGrammar (unchanged when no node was rewritten). */
  schema: string;
  /** Puts the exact ranges into XGrammar's EBNF in place of the markers (and the number rules after it). */
  restore(ebnf: string): string;
}

/** What the markers stand for: an expression each, and the named rules they use. */
interface Ranges {
  exprs: string[];
  rules: string[];
}

/**
 * Rewrites `schemaText` (parsed and bounded by checkConstraint already). Throws
 * NumberBoundsError for number bounds that admit no number it can write (a 400 for the caller).
 */
export function rewriteIntegerBounds(schemaText: string): BoundsRewrite {
  const ranges: Ranges = { exprs: [], rules: [] };
  if (schemaText.includes(MARKER_PREFIX)) return { schema: schemaText, restore: (e) => e };
  const rewritten = JSON.stringify(rewriteNode(JSON.parse(schemaText), ranges));
  if (ranges.exprs.length === 0) return { schema: schemaText, restore: (e) => e };
  return {
    schema: rewritten,
    restore: (ebnf) => [
      ranges.exprs.reduce((out, range, k) => out.replaceAll(`"\\"${MARKER_PREFIX}${k}__\\""`, `(${range})`), ebnf).trimEnd(),
      ...ranges.rules,
    ].join('\n') + '\n',
  };
}

/** Keywords whose values are JSON data, not schemas: never rewritten (nor a property so named: XGrammar's bounds then, as before). */
const DATA_KEYS = new Set(['const', 'enum', 'default', 'examples']);

/** The schema with each bounded integer node replaced by its marker (nesting is bounded by checkConstraint). */
function rewriteNode(node: unknown, ranges: Ranges): unknown {
  if (Array.isArray(node)) return node.map((x) => rewriteNode(x, ranges));
  if (typeof node !== 'object' || node === null) return node;
  const range = integerNodeRange(node);
  const numberRange = range === null ? numberNodeRange(node) : null;
  if (range !== null || numberRange !== null) {
    const k = ranges.exprs.length;
    if (range !== null) ranges.exprs.push(integerRangeEbnf(range.min, range.max));
    else {
      const rule = `tabllm_number_${k}`;
      ranges.rules.push(...numberRangeRules(rule, numberRange!.low, numberRange!.high));
      ranges.exprs.push(rule);
    }
    return { const: `${MARKER_PREFIX}${k}__` };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, DATA_KEYS.has(k) ? v : rewriteNode(v, ranges)]));
}

/** The integer bounds of a node that is only an integer with bounds, or null. */
function integerNodeRange(node: unknown): { min: number | null; max: number | null } | null {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return null;
  const n = node as Record<string, unknown>;
  if (n.type !== 'integer' || !Object.keys(n).every((k) => NODE_KEYS.has(k))) return null;
  if (!BOUND_KEYS.some((k) => k in n)) return null;
  const bounds: Partial<Record<(typeof BOUND_KEYS)[number], number>> = {};
  for (const k of BOUND_KEYS) {
    if (!(k in n)) continue;
    const v = n[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > Number.MAX_SAFE_INTEGER - 1) return null;
    bounds[k] = v;
  }
  const lows = [bounds.minimum === undefined ? null : Math.ceil(bounds.minimum), bounds.exclusiveMinimum === undefined ? null : Math.floor(bounds.exclusiveMinimum) + 1];
  const highs = [bounds.maximum === undefined ? null : Math.floor(bounds.maximum), bounds.exclusiveMaximum === undefined ? null : Math.ceil(bounds.exclusiveMaximum) - 1];
  const min = lows.reduce<number | null>((a, b) => (b === null ? a : a === null ? b : Math.max(a, b)), null);
  const max = highs.reduce<number | null>((a, b) => (b === null ? a : a === null ? b : Math.min(a, b)), null);
  // An empty range is XGrammar's to refuse (it reports the schema), as before.
  if (min !== null && max !== null && min > max) return null;
  return { min, max };
}

type NumberBound = { value: number; inclusive: boolean };

/** The tighter bound of each side of a node that is only a number with bounds, or null. */
function numberNodeRange(node: unknown): { low: NumberBound | null; high: NumberBound | null } | null {
  if (typeof node !== 'object' || node === null || Array.isArray(node)) return null;
  const n = node as Record<string, unknown>;
  if (n.type !== 'number' || !Object.keys(n).every((k) => NODE_KEYS.has(k))) return null;
  if (!BOUND_KEYS.some((k) => k in n)) return null;
  if (BOUND_KEYS.some((k) => k in n && (typeof n[k] !== 'number' || !Number.isFinite(n[k])))) return null;
  const bound = (k: (typeof BOUND_KEYS)[number], inclusive: boolean): NumberBound | null => (k in n ? { value: n[k] as number, inclusive } : null);
  // On a tie the exclusive bound is the tighter one.
  const tighter = (a: NumberBound | null, b: NumberBound | null, lower: boolean): NumberBound | null => {
    if (a === null || b === null) return a ?? b;
    if (a.value === b.value) return { value: a.value, inclusive: a.inclusive && b.inclusive };
    return (a.value > b.value) === lower ? a : b;
  };
  return {
    low: tighter(bound('minimum', true), bound('exclusiveMinimum', false), true),
    high: tighter(bound('maximum', true), bound('exclusiveMaximum', false), false),
  };
}

/** EBNF for the JSON integers in [min, max] (null: unbounded on that side); min <= max. */
export function integerRangeEbnf(min: number | null, max: number | null): string {
  const alts: string[] = [];
  // Negatives: "-" then the magnitudes [max(1, -max), -min].
  if (min === null || min < 0) alts.push(`"-" ${group(digits(naturals(max === null || max >= 0 ? 1 : -max, min === null ? null : -min)))}`);
  if ((min === null || min <= 0) && (max === null || max >= 0)) alts.push('"0"');
  if (max === null || max > 0) alts.push(digits(naturals(Math.max(1, min ?? 1), max)));
  return alts.join(' | ');
}

// The digit strings still allowed, as a set of keys:
//   "lo:hi"  the strings of lo's length in [lo, hi] ("" : "" = the number may end here)
//   "+k"     k or more digits, any ("+0": the number may end, or go on)
//   "R+k"    k or more digits, the first 1-9 (the longer numbers of an unbounded range)
// Written as a trie over digits: no two alternatives at one level start with the same digit,
// because XGrammar 0.1.27's matcher mis-takes alternations that do (it takes "12345" for
// `[2-8] [0-9] [0-9] | "1" [0-9] [0-9] | "1" [0-9] [0-9] [0-9]`).

/** The keys spelling the integers in [lo, hi] (lo >= 1; hi null: unbounded). */
function naturals(lo: number, hi: number | null): string[] {
  const a = String(lo);
  const b = hi === null ? null : String(hi);
  const keys: string[] = [];
  for (let len = a.length; len <= (b === null ? a.length : b.length); len++) {
    keys.push(`${len === a.length ? a : `1${'0'.repeat(len - 1)}`}:${b !== null && len === b.length ? b : '9'.repeat(len)}`);
  }
  if (b === null) keys.push(`R+${a.length + 1}`);
  return keys;
}

/** The keys after one more digit `c` (sorted, deduplicated). */
function after(keys: readonly string[], c: number): string[] {
  const out = new Set<string>();
  for (const k of keys) {
    if (k.startsWith('R+') || k.startsWith('+')) {
      const n = Number(k.slice(k.indexOf('+') + 1));
      if (k.startsWith('R+') && c === 0) continue;
      out.add(`+${Math.max(0, n - 1)}`);
      continue;
    }
    const [lo, hi] = k.split(':');
    if (lo.length === 0) continue;
    const d = lo.charCodeAt(0) - 48;
    const e = hi.charCodeAt(0) - 48;
    if (c < d || c > e) continue;
    out.add(`${c === d ? lo.slice(1) : '0'.repeat(lo.length - 1)}:${c === e ? hi.slice(1) : '9'.repeat(lo.length - 1)}`);
  }
  return [...out].sort();
}

/** The number may end here. */
function mayEnd(keys: readonly string[]): boolean {
  return keys.some((k) => k === ':' || k === '+0');
}

/** How many more free digits, when every key is free: [least, most] (most Infinity), else null. */
function freeCounts(keys: readonly string[]): [number, number] | null {
  const counts: number[] = [];
  let atLeast = Infinity;
  for (const k of keys) {
    if (k.startsWith('R+')) return null;
    if (k.startsWith('+')) atLeast = Math.min(atLeast, Number(k.slice(1)));
    else {
      const [lo, hi] = k.split(':');
      if (!/^0*$/.test(lo) || !/^9*$/.test(hi)) return null;
      counts.push(lo.length);
    }
  }
  const all = new Set(counts);
  const least = Math.min(atLeast, ...counts);
  const most = atLeast < Infinity ? Infinity : Math.max(...counts);
  for (let n = least; n <= Math.min(most, atLeast - 1); n++) if (!all.has(n)) return null;
  return [least, most];
}

/** The trie of `keys` as EBNF. */
function digits(keys: readonly string[]): string {
  const free = freeCounts(keys);
  if (free !== null) {
    const [least, most] = free;
    if (most === Infinity) return least === 0 ? '[0-9]*' : `[0-9]{${least},}`;
    if (most === 0) return '""';
    return least === most ? `[0-9]{${least}}` : `[0-9]{${least},${most}}`;
  }
  const byChild = new Map<string, number[]>();
  for (let c = 0; c <= 9; c++) {
    const child = after(keys, c);
    if (child.length === 0) continue;
    const key = child.join(',');
    byChild.set(key, [...(byChild.get(key) ?? []), c]);
  }
  const alts = mayEnd(keys) ? ['""'] : [];
  for (const [key, ds] of byChild) {
    const rest = digits(key.split(','));
    alts.push(rest === '""' ? digitClass(ds) : `${digitClass(ds)} ${group(rest)}`);
  }
  return alts.join(' | ');
}

function group(ebnf: string): string {
  return ebnf.includes(' | ') ? `(${ebnf})` : ebnf;
}
