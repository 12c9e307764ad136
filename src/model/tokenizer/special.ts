// Splitting text at special tokens before the model tokenizer runs, as llama.cpp's
// tokenizer_st_partition: every control / user-defined / unknown token, longest text first,
// is searched in every remaining raw fragment, left to right; each hit becomes a token
// fragment. Control and unknown tokens take part only with `parseSpecial`; user-defined
// tokens always do (Hugging Face splits added tokens out of text the same way).
// lstrip / rstrip tokens swallow ASCII whitespace on that side.
import { TokenAttr, type Vocab } from './vocab';

/** A raw-text fragment (string) or a token id (number). */
export type Fragment = string | number;

export interface SpecialToken {
  id: number;
  text: string;
  attr: number;
}

/** The tokens to search for, longest UTF-8 text first (ties by id, for a stable order). */
export function specialTokensOf(vocab: Vocab): SpecialToken[] {
  const out: { id: number; text: string; attr: number; bytes: number }[] = [];
  const encoder = new TextEncoder();
  for (let id = 0; id < vocab.tokens.length; id++) {
    const attr = vocab.attrs[id];
    if (attr & (TokenAttr.Control | TokenAttr.UserDefined | TokenAttr.Unknown)) {
      out.push({ id, text: vocab.tokens[id], attr, bytes: encoder.encode(vocab.tokens[id]).length });
    }
  }
  out.sort((a, b) => b.bytes - a.bytes || a.id - b.id);
  return out.map(({ id, text, attr }) => ({ id, text, attr }));
}

// C isspace(): space, \t, \n, \v, \f, \r.
function isAsciiSpace(code: number): boolean {
  return code === 0x20 || (code >= 0x09 && code <= 0x0d);
}

export function partitionSpecial(text: string, specials: readonly SpecialToken[], parseSpecial: boolean): Fragment[] {
  let fragments: Fragment[] = text.length > 0 ? [text] : [];
  for (const special of specials) {
    if (!parseSpecial && special.attr & (TokenAttr.Control | TokenAttr.Unknown)) continue;
    const needle = special.text;
    // Cheap reject: the token occurs in no raw fragment.
    if (!fragments.some((f) => typeof f === 'string' && f.includes(needle))) continue;
    const next: Fragment[] = [];
    for (const fragment of fragments) {
      if (typeof fragment === 'number') {
        next.push(fragment);
        continue;
      }
      let rest = fragment;
      for (;;) {
        const at = rest.indexOf(needle);
        if (at < 0) {
          if (rest.length > 0) next.push(rest);
          break;
        }
        let leftEnd = at;
        if (special.attr & TokenAttr.Lstrip) while (leftEnd > 0 && isAsciiSpace(rest.charCodeAt(leftEnd - 1))) leftEnd--;
        if (leftEnd > 0) next.push(rest.slice(0, leftEnd));
        next.push(special.id);
        let rightStart = at + needle.length;
        if (special.attr & TokenAttr.Rstrip) while (rightStart < rest.length && isAsciiSpace(rest.charCodeAt(rightStart))) rightStart++;
        rest = rest.slice(rightStart);
        if (rest.length === 0) break;
      }
    }
    fragments = next;
  }
  return fragments;
}
