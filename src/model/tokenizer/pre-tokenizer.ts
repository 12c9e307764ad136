// Byte-level BPE pre-tokenizers: the regex lists llama.cpp (llama-vocab.cpp) uses for each
// `tokenizer.ggml.pre` name, and the split they drive (unicode.cpp `unicode_regex_split`):
// the regexes run one after another, each splitting every piece the previous one left into
// its matches and the gaps between them, so a regex only ever sees one piece (its `$` and
// lookaheads stop at the piece's end).
//
// Whitespace follows llama.cpp exactly: `\s` is the Unicode White_Space set, and before
// matching every non-ASCII White_Space char is replaced by \x0B (llama.cpp does this so
// std::regex sees them as spaces). That replacement is also visible to literal classes:
// U+3000 no longer matches deepseek-llm's `[　-。]`, just as in llama.cpp. JS's own `\s`
// (which adds U+FEFF) is never used: patterns are written with `\s`/`\S` and rewritten to
// ASCII whitespace classes below.
import { TokenizerError } from './errors';

export interface PreTokenizerSpec {
  /** Canonical name (llama.cpp's pre-tokenizer type). */
  kind: string;
  regexes: RegExp[];
  /** Whole-word vocab lookup before merging (HF `ignore_merges`). */
  ignoreMerges: boolean;
  /** The type forces add_bos (before metadata overrides). */
  addBos: boolean;
  /** The type has no BOS token (chatglm). */
  noBos: boolean;
}

/** Rewrites `\s` / `\S` to ASCII-whitespace classes and compiles with the `u` flag. */
function compile(source: string): RegExp {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[i + 1];
      i++;
      if (next === 's') out += inClass ? '\\t-\\r ' : '[\\t-\\r ]';
      else if (next === 'S') {
        if (inClass) throw new Error(`\\S inside a class is not supported: ${source}`);
        out += '[^\\t-\\r ]';
      } else out += c + next;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return new RegExp(out, 'gu');
}

// llama.cpp's regex strings (C++ escapes resolved).
const GPT2 = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)`;
const LLAMA3 = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN2 = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const QWEN35 = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
// Tekken and GPT-4o split camel case with ASCII-only case classes, as llama.cpp adapts them.
const TEKKEN = String.raw`[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const CONTRACTION = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])`;
const GPT4O = String.raw`[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+${CONTRACTION}?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*${CONTRACTION}?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`;
const SEED_CODER = String.raw`(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+`;
const BAILINGMOE = String.raw`'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+`;
const CJK = '[一-龥ࠀ-一가-퟿]+';
const DEEPSEEK_LLM_LETTERS =
  // Written as escapes: several endpoints (U+1F7D, U+1FBE, U+1FD3, U+1FDB, U+2126, U+212A) are
  // canonical singletons that any NFC-normalizing editor would silently rewrite.
  String.raw`\s?[A-Za-z\u{B5}\u{C0}-\u{D6}\u{D8}-\u{F6}\u{F8}-\u{1BA}\u{1BC}-\u{1BF}\u{1C4}-\u{293}\u{295}-\u{2AF}\u{370}-\u{373}\u{376}\u{377}\u{37B}-\u{37D}\u{37F}\u{386}\u{388}-\u{38A}\u{38C}\u{38E}-\u{3A1}\u{3A3}-\u{3F5}\u{3F7}-\u{481}\u{48A}-\u{52F}\u{531}-\u{556}\u{10A0}-\u{10C5}\u{13A0}-\u{13F5}\u{13F8}-\u{13FD}\u{1C90}-\u{1CBA}\u{1CBD}-\u{1CBF}\u{1D00}-\u{1D2B}\u{1D6B}-\u{1D77}\u{1D79}-\u{1D9A}\u{1E00}-\u{1F15}\u{1F18}-\u{1F1D}\u{1F20}-\u{1F45}\u{1F48}-\u{1F4D}\u{1F50}-\u{1F57}\u{1F59}\u{1F5B}\u{1F5D}\u{1F5F}-\u{1F7D}\u{1F80}-\u{1FB4}\u{1FB6}-\u{1FBC}\u{1FBE}\u{1FC2}-\u{1FC4}\u{1FC6}-\u{1FCC}\u{1FD0}-\u{1FD3}\u{1FD6}-\u{1FDB}\u{1FE0}-\u{1FEC}\u{1FF2}-\u{1FF4}\u{1FF6}-\u{1FFC}\u{2102}\u{2107}\u{210A}-\u{2113}\u{2115}\u{2119}-\u{211D}\u{2124}\u{2126}\u{2128}\u{212A}-\u{212D}\u{212F}-\u{2134}\u{2139}\u{213C}-\u{213F}\u{2145}-\u{2149}\u{214E}\u{2183}\u{2184}\u{2C00}-\u{2C7B}\u{2C7E}-\u{2CE4}\u{2CEB}-\u{2CEE}\u{2CF2}\u{2CF3}\u{A640}-\u{A66D}\u{A680}-\u{A69B}\u{A722}-\u{A76F}\u{A771}-\u{A787}\u{A78B}-\u{A78E}\u{AB70}-\u{ABBF}\u{FB00}-\u{FB06}\u{FB13}-\u{FB17}\u{FF21}-\u{FF3A}\u{FF41}-\u{FF5A}\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+`;

const REGEX_SETS: Record<string, string[]> = {
  default: [String.raw`[\p{P}\$\+<=>\^~\|]+`, GPT2, String.raw`\p{N}+`, '[0-9][0-9][0-9]'],
  gpt2: [GPT2],
  llama3: [LLAMA3],
  qwen2: [QWEN2],
  qwen35: [QWEN35],
  tekken: [TEKKEN],
  gpt4o: [GPT4O],
  'seed-coder': [SEED_CODER],
  bailingmoe: [BAILINGMOE],
  'deepseek-llm': ['[\r\n]', DEEPSEEK_LLM_LETTERS, String.raw`\s?[!-/:-~！-／：-～‘-‟　-。]+`, String.raw`\s+$`, CJK, String.raw`\p{N}+`],
  'deepseek-coder': ['[\r\n]', String.raw`\s?\p{L}+`, String.raw`\s?\p{P}+`, CJK, String.raw`\p{N}`],
  falcon: [String.raw`[\p{P}\$\+<=>\^~\|` + '`' + ']+', GPT2, '[0-9][0-9][0-9]'],
  starcoder: [String.raw`\p{N}`, GPT2],
};

interface PreType {
  regexes: keyof typeof REGEX_SETS;
  ignoreMerges?: boolean;
  addBos?: boolean;
  noBos?: boolean;
}

// `tokenizer.ggml.pre` names -> type, as in llama_vocab::impl::load. Names whose type needs
// a regex or tokenizer this file does not have are left out (and rejected).
const PRE_TYPES: Record<string, PreType> = {
  default: { regexes: 'default' },
  llama3: { regexes: 'llama3', ignoreMerges: true, addBos: true },
  'llama-v3': { regexes: 'llama3', ignoreMerges: true, addBos: true },
  'llama-bpe': { regexes: 'llama3', ignoreMerges: true, addBos: true },
  falcon3: { regexes: 'llama3', ignoreMerges: true, addBos: true },
  'falcon-h1': { regexes: 'llama3', ignoreMerges: true, addBos: true },
  pixtral: { regexes: 'llama3', ignoreMerges: true, addBos: true },
  'midm-2.0': { regexes: 'llama3', ignoreMerges: true, addBos: true },
  lfm2: { regexes: 'llama3', ignoreMerges: true, addBos: true },
  dbrx: { regexes: 'llama3' },
  'smaug-bpe': { regexes: 'llama3' },
  glm4: { regexes: 'llama3', noBos: true },
  'chatglm-bpe': { regexes: 'llama3', noBos: true },
  'deepseek-llm': { regexes: 'deepseek-llm' },
  'deepseek-coder': { regexes: 'deepseek-coder' },
  falcon: { regexes: 'falcon' },
  mpt: { regexes: 'gpt2' },
  starcoder: { regexes: 'starcoder' },
  refact: { regexes: 'starcoder' },
  'command-r': { regexes: 'starcoder' },
  smollm: { regexes: 'starcoder' },
  codeshell: { regexes: 'starcoder' },
  exaone: { regexes: 'starcoder' },
  'minerva-7b': { regexes: 'starcoder' },
  'gpt-2': { regexes: 'gpt2' },
  'phi-2': { regexes: 'gpt2' },
  'jina-es': { regexes: 'gpt2' },
  'jina-de': { regexes: 'gpt2' },
  gigachat: { regexes: 'gpt2' },
  'jina-v2-es': { regexes: 'gpt2' },
  'jina-v2-de': { regexes: 'gpt2' },
  'a.x-4.0': { regexes: 'gpt2' },
  mellum: { regexes: 'gpt2' },
  'modern-bert': { regexes: 'gpt2' },
  exaone4: { regexes: 'gpt2' },
  olmo: { regexes: 'gpt2' },
  jais: { regexes: 'gpt2' },
  trillion: { regexes: 'gpt2' },
  qwen2: { regexes: 'qwen2' },
  'deepseek-r1-qwen': { regexes: 'qwen2' },
  megrez: { regexes: 'qwen2' },
  stablelm2: { regexes: 'qwen2' },
  hunyuan: { regexes: 'qwen2' },
  'grok-2': { regexes: 'qwen2' },
  qwen35: { regexes: 'qwen35' },
  tekken: { regexes: 'tekken', ignoreMerges: true, addBos: true },
  'gpt-4o': { regexes: 'gpt4o' },
  llama4: { regexes: 'gpt4o' },
  'seed-coder': { regexes: 'seed-coder' },
  bailingmoe: { regexes: 'bailingmoe' },
  bailingmoe2: { regexes: 'bailingmoe' },
  'llada-moe': { regexes: 'bailingmoe' },
};

export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = Object.keys(PRE_TYPES);

const compiled = new Map<string, RegExp[]>();

/** The spec for a `tokenizer.ggml.pre` value; a missing value means "default", as in llama.cpp. */
export function resolvePreTokenizer(name: string): PreTokenizerSpec {
  const type = PRE_TYPES[name === '' ? 'default' : name];
  if (!type) {
    throw new TokenizerError('unsupported_pre_tokenizer', `tokenizer.ggml.pre = ${JSON.stringify(name)} is not supported; supported: ${SUPPORTED_PRE_TOKENIZERS.join(', ')}`);
  }
  let regexes = compiled.get(type.regexes);
  if (!regexes) {
    regexes = REGEX_SETS[type.regexes].map(compile);
    compiled.set(type.regexes, regexes);
  }
  return { kind: type.regexes, regexes, ignoreMerges: !!type.ignoreMerges, addBos: !!type.addBos, noBos: !!type.noBos };
}

// Every White_Space char above ASCII (U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
// U+202F, U+205F, U+3000); all are single UTF-16 units, so offsets survive the replacement.
const NON_ASCII_WHITESPACE = /[\x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/g;

/**
 * Splits `text` into pre-tokens (substrings of `text`, in order, covering all of it).
 * Calls `emit(start, end)` with UTF-16 offsets for each piece.
 */
export function preTokenize(text: string, regexes: readonly RegExp[], emit: (start: number, end: number) => void): void {
  if (text.length === 0) return;
  const mapped = text.replace(NON_ASCII_WHITESPACE, '\x0B');
  // [numPieces * 2] start/end offsets into `text`
  let pieces: number[] = [0, text.length];
  for (let r = 0; r < regexes.length; r++) {
    const re = regexes[r];
    const last = r === regexes.length - 1;
    const next: number[] = [];
    const out = last ? (s: number, e: number) => emit(s, e) : (s: number, e: number) => next.push(s, e);
    for (let p = 0; p < pieces.length; p += 2) {
      splitPiece(mapped, pieces[p], pieces[p + 1], re, out);
    }
    pieces = next;
  }
}

function splitPiece(mapped: string, start: number, end: number, re: RegExp, out: (s: number, e: number) => void): void {
  // The regex must see only this piece: slice unless the piece is the whole text.
  const subject = start === 0 && end === mapped.length ? mapped : mapped.slice(start, end);
  re.lastIndex = 0;
  let gapStart = 0;
  for (let m = re.exec(subject); m !== null; m = re.exec(subject)) {
    const matchStart = m.index;
    const matchEnd = matchStart + m[0].length;
    if (matchEnd === matchStart) {
      // No llama.cpp regex matches empty; step over it rather than loop forever.
      re.lastIndex = matchEnd + 1;
      continue;
    }
    if (matchStart > gapStart) out(start + gapStart, start + matchStart);
    out(start + matchStart, start + matchEnd);
    gapStart = matchEnd;
  }
  if (gapStart < subject.length) out(start + gapStart, start + subject.length);
}
