// The vocabulary as llama.cpp's vocab loader sees it: token texts, scores and attributes
// from `tokenizer.ggml.*` metadata, the special ids (BOS, EOS, EOT, …), the end-of-generation
// set, and the add-BOS/EOS and space-prefix flags with llama.cpp's per-model defaults.
// Pure data, no encoding logic (that lives in spm.ts / bpe.ts / tokenizer.ts).
import type { GGUFMetadata, GGUFValue } from '../gguf/types';
import { CHAR_TO_BYTE } from './byte-level';
import type { BertNormalizer } from './bert-pre-tokenizer';
import { TokenizerError } from './errors';
import { resolvePreTokenizer, type PreTokenizerSpec } from './pre-tokenizer';
import { StringTable } from './string-table';

/** GGUF `tokenizer.ggml.token_type` values. */
export const enum TokenType {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

/** Token attribute bits (llama.cpp's llama_token_attr). */
export const enum TokenAttr {
  Undefined = 0,
  Unknown = 1 << 0,
  Unused = 1 << 1,
  Normal = 1 << 2,
  Control = 1 << 3,
  UserDefined = 1 << 4,
  Byte = 1 << 5,
  Lstrip = 1 << 7,
  Rstrip = 1 << 8,
}

/** 'llama': SentencePiece-style; 'gpt2': byte-level BPE; 'bert': WordPiece. */
export type VocabModel = 'llama' | 'gpt2' | 'bert';

export interface Vocab {
  model: VocabModel;
  /** The pre-tokenizer spec (gpt2 only); `tokenizer.ggml.pre` name in `preName`. */
  pre: PreTokenizerSpec | undefined;
  preName: string;
  /** [vocabSize] token texts as stored (SPM: "▁" for space; BPE: byte-level chars). */
  tokens: string[];
  /** [vocabSize] f32 scores (SPM merge priority). */
  scores: Float32Array;
  /** [vocabSize] TokenAttr bits. */
  attrs: Uint16Array;
  /** token text -> id (-1 when absent) */
  tokenToId: StringTable;
  bos: number;
  eos: number;
  eot: number;
  eom: number;
  unk: number;
  pad: number;
  /** All ids that end generation, ascending. */
  eogIds: number[];
  /** bert: [SEP] (`tokenizer.ggml.seperator_token_id`, default 102), appended with the special tokens; else -1. */
  sep: number;
  /** bert: BertNormalizer options (`tokenizer.ggml.normalizer.*`). */
  normalizer: BertNormalizer;
  addBos: boolean;
  addEos: boolean;
  addSpacePrefix: boolean;
  /** Look a whole pre-token up in the vocab before merging (HF `ignore_merges`). */
  ignoreMerges: boolean;
}

// In a /u regex a surrogate class matches only unpaired halves.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** No token (llama.cpp's LLAMA_TOKEN_NULL). */
export const NO_TOKEN = -1;

// Texts llama.cpp treats as EOT candidates and as end-of-generation tokens (llama-vocab.cpp).
const EOT_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>', '<EOT>', '_<EOT>', '[EOT]', '<｜end▁of▁sentence｜>', '<end_of_utterance>'];
const EOM_TEXTS = ['<|eom_id|>'];
const FIM_PAD_TEXTS = ['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>', '[PAD]'];
const FIM_REP_TEXTS = ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>'];
const FIM_SEP_TEXTS = ['<|file_sep|>'];
const EOG_TEXTS = new Set([
  '<|eot_id|>', '<|im_end|>', '<|end|>', '<|return|>', '<|call|>', '<|flush|>', '<|calls|>', '<end_of_turn>', '<|endoftext|>', '</s>',
  '<|eom_id|>', '<EOT>', '_<EOT>', '[EOT]', '[EOS]', '<|end_of_text|>', '<end_of_utterance>', '<eos>', '<turn|>', '<|tool_response>',
  '<｜end▁of▁sentence｜>', '[e~[',
]);
// gpt-oss renders these even when special tokens are skipped.
const ALWAYS_RENDERED_TEXTS = ['<|channel|>', '<|message|>', '<|start|>', '<|constrain|>'];

function typeToAttr(type: number): number {
  switch (type) {
    case TokenType.Unknown: return TokenAttr.Unknown;
    case TokenType.Unused: return TokenAttr.Unused;
    case TokenType.Normal: return TokenAttr.Normal;
    case TokenType.Control: return TokenAttr.Control;
    case TokenType.UserDefined: return TokenAttr.UserDefined;
    case TokenType.Byte: return TokenAttr.Byte;
    default: return TokenAttr.Undefined;
  }
}

function numericArray(md: GGUFMetadata, key: string): ArrayLike<number> | undefined {
  const v = md[key];
  if (v === undefined) return undefined;
  if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint32Array) return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return v as number[];
  throw new TokenizerError('bad_metadata', `${key} must be an array of numbers`);
}

function optionalId(md: GGUFMetadata, key: string): number | undefined {
  const v: GGUFValue | undefined = md[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TokenizerError('bad_metadata', `${key} must be an integer`);
  return v;
}

function optionalBool(md: GGUFMetadata, key: string): boolean | undefined {
  const v = md[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new TokenizerError('bad_metadata', `${key} must be a boolean`);
  return v;
}

function optionalString(md: GGUFMetadata, key: string): string | undefined {
  const v = md[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new TokenizerError('bad_metadata', `${key} must be a string`);
  return v;
}

export function vocabFromMetadata(md: GGUFMetadata): Vocab {
  const modelName = optionalString(md, 'tokenizer.ggml.model');
  if (modelName !== 'llama' && modelName !== 'gpt2' && modelName !== 'bert') {
    throw new TokenizerError('unsupported_model', `tokenizer.ggml.model = ${JSON.stringify(modelName)}; supported: "llama" (SentencePiece), "gpt2" (byte-level BPE) and "bert" (WordPiece)`);
  }
  const model: VocabModel = modelName;
  const preName = optionalString(md, 'tokenizer.ggml.pre') ?? '';

  const rawTokens = md['tokenizer.ggml.tokens'];
  if (!Array.isArray(rawTokens) || rawTokens.length === 0 || !rawTokens.every((t) => typeof t === 'string')) {
    throw new TokenizerError('missing_vocab', 'tokenizer.ggml.tokens must be a non-empty array of strings');
  }
  // Copied: empty tokens are renamed, as llama.cpp does.
  const tokens = (rawTokens as string[]).slice();
  const vocabSize = tokens.length;

  const scoresIn = numericArray(md, 'tokenizer.ggml.scores');
  const typesIn = numericArray(md, 'tokenizer.ggml.token_type');
  // llama.cpp accepts longer arrays; a different length is a broken file either way.
  if (scoresIn && scoresIn.length !== vocabSize) {
    throw new TokenizerError('vocab_length_mismatch', `tokenizer.ggml.scores has ${scoresIn.length} entries for ${vocabSize} tokens`);
  }
  if (typesIn && typesIn.length !== vocabSize) {
    throw new TokenizerError('vocab_length_mismatch', `tokenizer.ggml.token_type has ${typesIn.length} entries for ${vocabSize} tokens`);
  }

  // [vocabSize] f32
  const scores = new Float32Array(vocabSize);
  if (scoresIn) scores.set(scoresIn);
  // [vocabSize] TokenAttr bits
  const attrs = new Uint16Array(vocabSize);
  for (let id = 0; id < vocabSize; id++) {
    const text = tokens[id];
    if (text.length === 0) tokens[id] = `[EMPTY_${id}]`;
    attrs[id] = typesIn ? typeToAttr(typesIn[id]) : TokenAttr.Normal;
  }
  const tokenToId = new StringTable(tokens, (first, id) => {
    throw new TokenizerError('duplicate_token', `token text ${JSON.stringify(tokens[id])} has ids ${first} and ${id}`);
  });
  for (const id of tokenToId.idsWithSurrogates) {
    if (LONE_SURROGATE.test(tokens[id])) throw new TokenizerError('invalid_utf8', `token ${id} is not well-formed Unicode`);
  }

  // Per-model defaults, then metadata overrides (llama_vocab::impl::load). bert: [CLS] 101 is
  // the BOS, [UNK] 100, [SEP] 102, no EOS; llama.cpp adds [CLS] ... [SEP] whenever special
  // tokens are asked for, whatever add_bos_token says.
  const bert = model === 'bert';
  let bos = model === 'llama' ? 1 : bert ? 101 : 11;
  let eos = model === 'llama' ? 2 : bert ? NO_TOKEN : 11;
  let unk = model === 'llama' ? 0 : bert ? 100 : NO_TOKEN;
  let sep = bert ? 102 : NO_TOKEN;
  let eot = NO_TOKEN;
  let eom = NO_TOKEN;
  let pad = NO_TOKEN;
  let fimPad = NO_TOKEN;
  let fimRep = NO_TOKEN;
  let fimSep = NO_TOKEN;
  let addBos = model === 'llama';
  let addEos = false;
  let addSpacePrefix = model === 'llama';
  let ignoreMerges = false;
  let pre: PreTokenizerSpec | undefined;
  if (model === 'gpt2') {
    pre = resolvePreTokenizer(preName);
    ignoreMerges = pre.ignoreMerges;
    if (pre.addBos) addBos = true;
    if (pre.noBos) bos = NO_TOKEN;
  }
  addSpacePrefix = optionalBool(md, 'tokenizer.ggml.add_space_prefix') ?? addSpacePrefix;

  const inRange = (id: number) => id >= 0 && id < vocabSize;
  const fromMd = (key: string, current: number): number => {
    const checked = inRange(current) ? current : NO_TOKEN;
    const v = optionalId(md, key);
    // Out-of-range ids (e.g. 0xFFFFFFFF for "none") keep the default, as llama.cpp does.
    return v !== undefined && inRange(v) ? v : checked;
  };
  bos = fromMd('tokenizer.ggml.bos_token_id', bos);
  eos = fromMd('tokenizer.ggml.eos_token_id', eos);
  eot = fromMd('tokenizer.ggml.eot_token_id', eot);
  eom = fromMd('tokenizer.ggml.eom_token_id', eom);
  unk = fromMd('tokenizer.ggml.unknown_token_id', unk);
  pad = fromMd('tokenizer.ggml.padding_token_id', pad);
  if (bert) sep = fromMd('tokenizer.ggml.seperator_token_id', sep); // sic: llama.cpp's key spelling
  fimPad = fromMd('tokenizer.ggml.fim_pad_token_id', fimPad);
  fimRep = fromMd('tokenizer.ggml.fim_rep_token_id', fimRep);
  fimSep = fromMd('tokenizer.ggml.fim_sep_token_id', fimSep);

  addBos = optionalBool(md, 'tokenizer.ggml.add_bos_token') ?? addBos;
  addEos = optionalBool(md, 'tokenizer.ggml.add_eos_token') ?? addEos;
  if (addBos && bos === NO_TOKEN) throw new TokenizerError('bad_metadata', 'tokenizer.ggml.add_bos_token is true, but there is no BOS token id');
  if (addEos && eos === NO_TOKEN) throw new TokenizerError('bad_metadata', 'tokenizer.ggml.add_eos_token is true, but there is no EOS token id');
  if (bert) {
    // llama.cpp asserts these when it adds special tokens or meets an unknown word.
    if (bos === NO_TOKEN || sep === NO_TOKEN || unk === NO_TOKEN) {
      throw new TokenizerError('bad_metadata', 'a "bert" vocabulary needs [CLS] (bos), [SEP] and [UNK] token ids inside the vocabulary');
    }
    addBos = true;
    addEos = false;
    addSpacePrefix = false;
  }
  const lowercase = optionalBool(md, 'tokenizer.ggml.normalizer.lowercase') ?? true;
  const normalizer: BertNormalizer = { lowercase, stripAccents: optionalBool(md, 'tokenizer.ggml.normalizer.strip_accents') ?? lowercase };

  // Special tokens found by their text; each found token is forced to be a control token.
  const markControl = (id: number) => {
    attrs[id] |= TokenAttr.Control;
  };
  // llama.cpp takes whichever candidate its hash map yields first; the list order here
  // (e.g. "<|eot_id|>" before "<|end_of_text|>") makes the choice deterministic.
  const findFirst = (texts: readonly string[]): number => {
    for (const t of texts) {
      const id = tokenToId.get(t);
      if (id >= 0) {
        markControl(id);
        return id;
      }
    }
    return NO_TOKEN;
  };
  if (eot === NO_TOKEN) eot = findFirst(EOT_TEXTS);
  if (eom === NO_TOKEN) eom = findFirst(EOM_TEXTS);
  if (fimPad === NO_TOKEN) fimPad = findFirst(FIM_PAD_TEXTS);
  if (fimRep === NO_TOKEN) fimRep = findFirst(FIM_REP_TEXTS);
  if (fimSep === NO_TOKEN) fimSep = findFirst(FIM_SEP_TEXTS);

  const eog = new Set<number>();
  for (const id of [fimPad, fimRep, fimSep]) if (id !== NO_TOKEN) eog.add(id);
  for (const text of EOG_TEXTS) {
    const id = tokenToId.get(text);
    if (id >= 0) {
      eog.add(id);
      markControl(id);
    }
  }
  for (const text of ALWAYS_RENDERED_TEXTS) {
    const id = tokenToId.get(text);
    if (id >= 0) attrs[id] = TokenAttr.UserDefined;
  }
  for (const id of [eos, eot, eom]) if (id !== NO_TOKEN) eog.add(id);

  // Per-model token attributes that GGUF does not store (llama.cpp keys them on general.name).
  const generalName = (optionalString(md, 'general.name') ?? '').toLowerCase();
  if (generalName.includes('phi-3') || generalName.includes('phi3')) {
    for (let id = 0; id < vocabSize; id++) {
      if (attrs[id] & (TokenAttr.Control | TokenAttr.UserDefined | TokenAttr.Unknown)) attrs[id] |= TokenAttr.Rstrip;
    }
    const setRstrip = (text: string, on: boolean) => {
      const id = tokenToId.get(text);
      if (id >= 0) attrs[id] = on ? attrs[id] | TokenAttr.Rstrip : attrs[id] & ~TokenAttr.Rstrip;
    };
    setRstrip('</s>', true);
    for (const t of ['<unk>', '<s>', '<|endoftext|>']) setRstrip(t, false);
  }

  if (model === 'gpt2') validateByteLevelTokens(tokens, attrs);

  return {
    model, pre, preName, tokens, scores, attrs, tokenToId, bos, eos, eot, eom, unk, pad,
    eogIds: [...eog].sort((a, b) => a - b), sep, normalizer, addBos, addEos, addSpacePrefix, ignoreMerges,
  };
}

/** Normal tokens of a byte-level vocabulary must be spelled in the 256-char byte alphabet. */
function validateByteLevelTokens(tokens: string[], attrs: Uint16Array): void {
  for (let id = 0; id < tokens.length; id++) {
    if (!(attrs[id] & TokenAttr.Normal)) continue;
    const text = tokens[id];
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code >= CHAR_TO_BYTE.length || CHAR_TO_BYTE[code] < 0) {
        throw new TokenizerError('invalid_utf8', `byte-level token ${id} ${JSON.stringify(text)} has a char outside the byte alphabet (U+${code.toString(16).toUpperCase().padStart(4, '0')})`);
      }
    }
  }
}
