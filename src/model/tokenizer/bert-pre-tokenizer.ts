// BERT's pre-tokenization as llama.cpp's llm_tokenizer_wpm_session::preprocess does it
// (llama-vocab.cpp), on code points:
//
//   strip accents (default on with lowercase): each code point is replaced by the FIRST code
//              point of its NFD form (llama.cpp's one-to-one NFD table), and marks (\p{M}) dropped
//   split      at whitespace (llama.cpp's White_Space list), dropping it
//   drop       U+0000, U+FFFD and \p{C} code points (Cc, Cf, Co, Cs; unassigned Cn is kept, as there)
//   lowercase  (default on) with the simple one-code-point mapping
//   isolate    punctuation (\p{P}), ASCII symbols (\p{S} below U+007F) and CJK ideographs as
//              one-character words
//
// Options come from `tokenizer.ggml.normalizer.lowercase` / `.strip_accents` (both default
// true; strip_accents defaults to lowercase), as llama.cpp reads them.

export interface BertNormalizer {
  lowercase: boolean;
  stripAccents: boolean;
}

// llama.cpp's unicode_set_whitespace (Unicode White_Space).
const WHITESPACE = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
  0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);
const CONTROL = /[\p{Cc}\p{Cf}\p{Co}\p{Cs}]/u;
const MARK = /\p{M}/u;
const PUNCTUATION = /\p{P}/u;
const SYMBOL = /\p{S}/u;

// llama.cpp's is_chinese_char (HF's _is_chinese_char, with its 0x2B920 quirk).
function isChineseChar(cpt: number): boolean {
  return (
    (cpt >= 0x4e00 && cpt <= 0x9fff) || (cpt >= 0x3400 && cpt <= 0x4dbf) || (cpt >= 0x20000 && cpt <= 0x2a6df) ||
    (cpt >= 0x2a700 && cpt <= 0x2b73f) || (cpt >= 0x2b740 && cpt <= 0x2b81f) || (cpt >= 0x2b920 && cpt <= 0x2ceaf) ||
    (cpt >= 0xf900 && cpt <= 0xfaff) || (cpt >= 0x2f800 && cpt <= 0x2fa1f)
  );
}

/** The first code point of the NFD form (llama.cpp maps each code point to exactly one). */
function nfdFirst(ch: string): string {
  const nfd = ch.normalize('NFD');
  return String.fromCodePoint(nfd.codePointAt(0)!);
}

/** Simple (one code point) lowercase: the full mapping's first code point (U+0130 → "i"). */
function lowerOne(ch: string): string {
  const lower = ch.toLowerCase();
  return lower === ch ? ch : String.fromCodePoint(lower.codePointAt(0)!);
}

/** The words WordPiece matches, in order (never empty strings). */
export function bertPreTokenize(text: string, opts: BertNormalizer): string[] {
  const words: string[] = [];
  let word = '';
  const finish = () => {
    if (word.length > 0) words.push(word);
    word = '';
  };
  for (const original of text) {
    const ch = opts.stripAccents ? nfdFirst(original) : original;
    const cpt = ch.codePointAt(0)!;
    if (WHITESPACE.has(cpt)) {
      finish();
      continue;
    }
    if (cpt === 0 || cpt === 0xfffd || CONTROL.test(ch)) continue;
    if (opts.stripAccents && MARK.test(ch)) continue;
    const out = opts.lowercase ? lowerOne(ch) : ch;
    if (PUNCTUATION.test(ch) || (cpt < 0x7f && SYMBOL.test(ch)) || isChineseChar(cpt)) {
      finish();
      words.push(out);
    } else {
      word += out;
    }
  }
  finish();
  return words;
}
