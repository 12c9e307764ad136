// The model's vocabulary as XGrammar's TokenizerInfo takes it: one string per token id that
// XGrammar's decoder for the vocab type turns back into the token's bytes, '' for tokens a
// grammar may never produce (control, unknown, unused), and the end-of-generation ids as its
// stop tokens (allowed only where the grammar may end).
//
//   byte-level BPE (tokenizer.ggml.model 'gpt2') → 'byte_level': every rendered byte through
//     GPT-2's bytes_to_unicode ("Ġhi"), so any byte string round-trips;
//   SentencePiece ('llama') → 'byte_fallback': the rendered text with ' ' as '▁', and a byte
//     token that is not UTF-8 on its own as "<0xNN>" (upper-case hex: XGrammar reads only that).
//
// The bytes are the ones the detokenizer streams (Tokenizer.tokenBytes), so what the grammar
// checks is what the user reads. User-defined tokens ("<think>") count as their text.
import { bytesToByteLevel } from '../model/tokenizer/byte-level';
import type { Tokenizer } from '../model/tokenizer';
import { Utf8Filter } from './utf8-filter';

export type GrammarVocabType = 'byte_level' | 'byte_fallback';

export interface GrammarVocab {
  /** [numTokens] each token as XGrammar's decoder reads it; '' = never allowed (special). */
  encodedVocab: string[];
  vocabType: GrammarVocabType;
  /** Rows of the model's logits (>= encodedVocab.length: padding rows are special too). */
  vocabSize: number;
  /** End-of-generation ids: allowed only where the grammar can end. */
  stopTokenIds: number[];
  /** Keeps outputs valid UTF-8 (XGrammar alone does not). */
  utf8: Utf8Filter;
}

const EMPTY = new Uint8Array(0);
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function hexByte(byte: number): string {
  return `<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** One token for 'byte_fallback': its UTF-8 text with '▁' for ' ', else its single byte as <0xNN>. */
function spmPiece(bytes: Uint8Array): string {
  if (bytes.length === 1 && bytes[0] >= 0x80) return hexByte(bytes[0]);
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    // Not UTF-8 and longer than a byte: no SentencePiece vocabulary has one; XGrammar
    // could not spell it either, so a grammar never picks it.
    return '';
  }
  return text.replaceAll(' ', '\u2581');
}

/**
 * GrammarVocab as it crosses to a grammar worker (structured clone keeps no class instance):
 * the token bytes packed, so the worker builds its own Utf8Filter from the same bytes.
 */
export interface WireGrammarVocab {
  encodedVocab: string[];
  vocabType: GrammarVocabType;
  vocabSize: number;
  stopTokenIds: number[];
  /** The bytes of every token id < numTokens, back to back ('' tokens: none). */
  tokenBytes: Uint8Array;
  /** [numTokens + 1] token id's bytes are tokenBytes[offsets[id], offsets[id + 1]). */
  tokenOffsets: Uint32Array;
}

/** The grammar engine's view of `tokenizer`'s vocabulary; `vocabSize` is the model's logit rows. */
export function grammarVocab(tokenizer: Tokenizer, vocabSize = tokenizer.vocabSize): GrammarVocab {
  return grammarVocabFromWire(wireGrammarVocab(tokenizer, vocabSize));
}

/** What grammarVocab builds, in the form a grammar worker is sent (it walks every token once). */
export function wireGrammarVocab(tokenizer: Tokenizer, vocabSize = tokenizer.vocabSize): WireGrammarVocab {
  const numTokens = tokenizer.vocabSize;
  const byteLevel = tokenizer.model === 'gpt2';
  const eog = new Set(tokenizer.eogIds);
  const encodedVocab: string[] = new Array(numTokens);
  const pieces: Uint8Array[] = new Array(numTokens);
  const tokenOffsets = new Uint32Array(numTokens + 1);
  for (let id = 0; id < numTokens; id++) {
    const bytes = tokenizer.tokenBytes(id);
    if (eog.has(id) || tokenizer.isControlLike(id) || bytes.length === 0) encodedVocab[id] = '';
    else encodedVocab[id] = byteLevel ? bytesToByteLevel(bytes) : spmPiece(bytes);
    pieces[id] = encodedVocab[id] === '' ? EMPTY : bytes;
    tokenOffsets[id + 1] = tokenOffsets[id] + pieces[id].length;
  }
  const tokenBytes = new Uint8Array(tokenOffsets[numTokens]);
  for (let id = 0; id < numTokens; id++) tokenBytes.set(pieces[id], tokenOffsets[id]);
  const size = Math.max(vocabSize, numTokens);
  return {
    encodedVocab,
    vocabType: byteLevel ? 'byte_level' : 'byte_fallback',
    vocabSize: size,
    stopTokenIds: tokenizer.eogIds.filter((id) => id < size),
    tokenBytes,
    tokenOffsets,
  };
}

export function grammarVocabFromWire(w: WireGrammarVocab): GrammarVocab {
  const numTokens = w.tokenOffsets.length - 1;
  const bytesOf = (id: number) => w.tokenBytes.subarray(w.tokenOffsets[id], w.tokenOffsets[id + 1]);
  return {
    utf8: new Utf8Filter(w.vocabSize, bytesOf, numTokens),
    encodedVocab: w.encodedVocab,
    vocabType: w.vocabType,
    vocabSize: w.vocabSize,
    stopTokenIds: w.stopTokenIds,
  };
}
