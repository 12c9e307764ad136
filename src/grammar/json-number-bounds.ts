// Number bounds in JSON schemas, written by us: XGrammar 0.1.27 writes `{type: 'number',
// minimum: 0, maximum: 1}` as `… | "1" "." [0-9]{1,6}`, admitting 1.5. Here the numbers in a
// range are written as a deterministic automaton over the characters of a JSON number, one
// named rule per state, so no two alternatives of a rule start alike (XGrammar's matcher
// mis-takes alternations that do, json-bounds.ts):
//
//   [-0.5, 2.25]  →  "-" <magnitudes in (0, 0.5]>  |  <magnitudes in [0, 2.25]>
//   magnitude     =  ("0" | [1-9] [0-9]*) ("." [0-9]{1,F})?      (no exponent, no "-0")
//
// The automaton compares what it has read with each bound, digit by digit, as decimals (the
// bound's shortest decimal, String(v)), so an admitted number is in range as a decimal. It is
// a subset of the numbers in range: no exponent form, at most F fraction digits. F is small
// enough that a number near a bound has at most 15 significant digits, so parsing it to a
// double cannot round it onto an exclusive bound (distinct 15-digit decimals are distinct
// doubles): a validator that compares doubles agrees.

/** Fraction digits admitted (fewer where the bounds' integer parts are long). */
const MAX_FRACTION_DIGITS = 6;
/** Significant digits a double keeps for any decimal (DBL_DIG). */
const DOUBLE_DIGITS = 15;

/** A non-negative decimal bound: integer digits (no leading zeros, "0" for zero), fraction digits (no trailing zeros). */
interface Bound {
  int: string;
  frac: string;
  inclusive: boolean;
}

/** The reason a number range cannot be written (the caller refuses the schema with it). */
export class NumberBoundsError extends Error {}

/** |v| as an exact decimal (String(v) is the shortest decimal that parses back to v). */
export function decimalOf(v: number): { int: string; frac: string } {
  const [mantissa, expText] = Math.abs(v).toString().split('e');
  const [whole, part = ''] = mantissa.split('.');
  const exp = expText === undefined ? 0 : Number(expText);
  const digits = whole + part;
  const point = whole.length + exp;
  const padded = point <= 0 ? '0'.repeat(1 - point) + digits : point > digits.length ? digits + '0'.repeat(point - digits.length) : digits;
  const at = point <= 0 ? 1 : point;
  return { int: padded.slice(0, at).replace(/^0+(?=\d)/, ''), frac: padded.slice(at).replace(/0+$/, '') };
}

/**
 * Named rules for the JSON numbers in the range (`rule` is the value's rule; null bounds:
 * unbounded on that side). Throws NumberBoundsError where no number is admitted.
 */
export function numberRangeRules(rule: string, low: { value: number; inclusive: boolean } | null, high: { value: number; inclusive: boolean } | null): string[] {
  const intLen = Math.max(...[low, high].map((b) => (b === null ? 0 : decimalOf(b.value).int.length)));
  // A number next to a bound has at most intLen + 1 integer digits.
  const fractionDigits = Math.max(0, Math.min(MAX_FRACTION_DIGITS, DOUBLE_DIGITS - intLen - 1));
  if (intLen > DOUBLE_DIGITS) throw new NumberBoundsError('number bounds (minimum/maximum/exclusiveMinimum/exclusiveMaximum) must be below 1e15 in magnitude');
  const bound = (v: number, inclusive: boolean): Bound => ({ ...decimalOf(v), inclusive });
  // Non-negative numbers: magnitudes in range ∩ [0, ∞).
  const posLow = low === null || low.value < 0 ? bound(0, true) : bound(low.value, low.inclusive);
  const posHigh = high === null ? null : high.value < 0 ? bound(0, false) : bound(high.value, high.inclusive);
  // Negative numbers, "-" m: m in [-high, -low] ∩ (0, ∞) (never "-0", "-0.0").
  const negLow = high === null || high.value >= 0 ? bound(0, false) : bound(high.value, high.inclusive);
  const negHigh = low === null ? null : low.value >= 0 ? bound(0, false) : bound(low.value, low.inclusive);
  const rules: string[] = [];
  const pos = magnitudeRules(`${rule}_p`, posLow, posHigh, fractionDigits, rules);
  const neg = magnitudeRules(`${rule}_n`, negLow, negHigh, fractionDigits, rules);
  const alts = [...(neg === null ? [] : [`"-" ${neg}`]), ...(pos === null ? [] : [pos])];
  if (alts.length === 0) throw new NumberBoundsError(`no number with at most ${fractionDigits} decimals is in the range of minimum/maximum/exclusiveMinimum/exclusiveMaximum`);
  return [`${rule} ::= ${alts.join(' | ')}`, ...rules];
}

// One bound's comparison with what has been read:
//   integer part: `${n}${rel}` (n digits read, rel of them against the bound's first n: < = >),
//                 or "G" (more digits than the bound: greater, whatever follows)
//   fraction:     "<" / ">" (decided), or `=${k}` (equal so far, k fraction digits read)
type Track = string;

function cmp(a: number, b: number): string {
  return a < b ? '<' : a > b ? '>' : '=';
}

function intStep(t: Track, b: Bound, c: number): Track {
  if (t === 'G') return t;
  const n = Number(t.slice(0, -1));
  const rel = t.slice(-1);
  if (n >= b.int.length) return 'G';
  return `${n + 1}${rel === '=' ? cmp(c, b.int.charCodeAt(n) - 48) : rel}`;
}

/** The integer part read: how it compares with the bound's. */
function intResult(t: Track, b: Bound): string {
  if (t === 'G') return '>';
  const n = Number(t.slice(0, -1));
  return n < b.int.length ? '<' : t.slice(-1);
}

function toFraction(t: Track, b: Bound): Track {
  const r = intResult(t, b);
  return r === '=' ? '=0' : r;
}

function fracStep(t: Track, b: Bound, c: number): Track {
  if (t !== '<' && t !== '>' && t[0] === '=') {
    const k = Number(t.slice(1));
    // Past the bound's last fraction digit, the bound's digits are 0.
    const r = cmp(c, k < b.frac.length ? b.frac.charCodeAt(k) - 48 : 0);
    return r === '=' ? `=${Math.min(k + 1, b.frac.length)}` : r;
  }
  return t;
}

/** The value read compared with the bound: '<', '=', '>'. */
function result(t: Track, b: Bound, inFraction: boolean): string {
  // No fraction: an integer equal to the bound's integer part is below a bound with a fraction.
  if (!inFraction) return intResult(t, b) === '=' && b.frac.length > 0 ? '<' : intResult(t, b);
  if (t[0] !== '=') return t;
  return Number(t.slice(1)) < b.frac.length ? '<' : '=';
}

// A state: phase (s start, z after the integer "0", i in the integer part, d after ".",
// f in the fraction), fraction digits read, and each bound's track.
interface State {
  phase: 's' | 'z' | 'i' | 'd' | 'f';
  fracLen: number;
  lo: Track;
  hi: Track | null;
}

const keyOf = (s: State) => `${s.phase}${s.fracLen}|${s.lo}|${s.hi ?? '-'}`;

/**
 * Writes the magnitudes in [lo, hi] (hi null: unbounded) as rules `${prefix}_K` into `out`;
 * returns the start rule's name, or null when no magnitude is admitted.
 */
function magnitudeRules(prefix: string, lo: Bound, hi: Bound | null, fractionDigits: number, out: string[]): string | null {
  const step = (s: State, ch: string): State | null => {
    if (ch === '.') {
      if (s.phase !== 'z' && s.phase !== 'i') return null;
      if (fractionDigits === 0) return null;
      return { phase: 'd', fracLen: 0, lo: toFraction(s.lo, lo), hi: hi === null ? null : toFraction(s.hi!, hi) };
    }
    const c = ch.charCodeAt(0) - 48;
    if (s.phase === 's') return { phase: c === 0 ? 'z' : 'i', fracLen: 0, lo: intStep(s.lo, lo, c), hi: hi === null ? null : intStep(s.hi!, hi, c) };
    if (s.phase === 'i') return { ...s, lo: intStep(s.lo, lo, c), hi: hi === null ? null : intStep(s.hi!, hi, c) };
    if ((s.phase === 'd' || s.phase === 'f') && s.fracLen < fractionDigits) {
      return { phase: 'f', fracLen: s.fracLen + 1, lo: fracStep(s.lo, lo, c), hi: hi === null ? null : fracStep(s.hi!, hi, c) };
    }
    return null;
  };
  const accepts = (s: State): boolean => {
    if (s.phase === 's' || s.phase === 'd') return false;
    const inFraction = s.phase === 'f';
    const rl = result(s.lo, lo, inFraction);
    if (!(rl === '>' || (rl === '=' && lo.inclusive))) return false;
    if (hi === null) return true;
    const rh = result(s.hi!, hi, inFraction);
    return rh === '<' || (rh === '=' && hi.inclusive);
  };
  // Every reachable state (finitely many: the tracks saturate), then the ones that can still accept.
  const CHARS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '.'];
  const start: State = { phase: 's', fracLen: 0, lo: '0=', hi: hi === null ? null : '0=' };
  const states = new Map<string, State>([[keyOf(start), start]]);
  const edges = new Map<string, [string, string][]>();
  for (const [key, s] of states) {
    const out: [string, string][] = [];
    for (const ch of CHARS) {
      const t = step(s, ch);
      if (t === null) continue;
      const tk = keyOf(t);
      if (!states.has(tk)) states.set(tk, t);
      out.push([ch, tk]);
    }
    edges.set(key, out);
  }
  const live = new Set([...states].filter(([, s]) => accepts(s)).map(([k]) => k));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [k, es] of edges) if (!live.has(k) && es.some(([, t]) => live.has(t))) (live.add(k), (grew = true));
  }
  if (!live.has(keyOf(start))) return null;
  const names = new Map([...live].map((k, i) => [k, `${prefix}_${i}`]));
  for (const k of live) {
    const byTarget = new Map<string, string[]>();
    for (const [ch, t] of edges.get(k)!) if (live.has(t)) byTarget.set(t, [...(byTarget.get(t) ?? []), ch]);
    const alts = accepts(states.get(k)!) ? ['""'] : [];
    for (const [t, chs] of byTarget) {
      const head = chs[0] === '.' ? '"."' : digitClass(chs.map(Number));
      alts.push(`${head} ${names.get(t)}`);
    }
    out.push(`${names.get(k)} ::= ${alts.join(' | ')}`);
  }
  return names.get(keyOf(start))!;
}

/** A character class for the digits `ds` (ascending): "7" or [0-35]. */
export function digitClass(ds: readonly number[]): string {
  if (ds.length === 1) return `"${ds[0]}"`;
  const parts: string[] = [];
  for (let i = 0; i < ds.length; ) {
    let j = i;
    while (j + 1 < ds.length && ds[j + 1] === ds[j] + 1) j++;
    parts.push(j === i ? `${ds[i]}` : `${ds[i]}-${ds[j]}`);
    i = j + 1;
  }
  return `[${parts.join('')}]`;
}
