// JSON schemas reach XGrammar as EBNF: its schema converter's output, with one character
// class repaired. XGrammar 0.1.27 (web) writes the characters of a string with min/maxLength
// as [^"\\\r\n], which admits raw control characters (\0, \t, …) that JSON.parse rejects
// inside a string; it is replaced by the class XGrammar itself writes for other strings.
// (Bytes that are not UTF-8 are kept out by utf8-filter.ts, for every constraint.) A later
// XGrammar that writes another class leaves this a no-op.
const JSON_STRING_CHAR = String.raw`[^\0-\x1f\"\\\r\n]`;
const BROKEN_CLASSES = [String.raw`[^"\\\r\n]`];

export function repairJsonEbnf(ebnf: string): string {
  let out = ebnf;
  for (const c of BROKEN_CLASSES) out = out.replaceAll(c, JSON_STRING_CHAR);
  return out;
}
