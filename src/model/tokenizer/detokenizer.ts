// Streaming detokenization: feed ids one at a time, get back only text made of complete
// UTF-8 characters. Bytes of a character split across tokens (byte-fallback <0xE2><0x82><0xAC>,
// or a byte-level BPE piece holding half an emoji) wait until the character is complete.
// The concatenation of every push() and the final flush() equals tokenizer.decode(ids).
import type { DecodeOptions, Tokenizer } from './tokenizer';

export interface IncrementalDetokenizerOptions extends DecodeOptions {
  /**
   * The first id pushed starts the sequence (default true): a SentencePiece model's leading
   * dummy-prefix space is dropped from the first text piece, as decode() does. Pass false when
   * continuing after a prompt whose text was already shown.
   */
  sequenceStart?: boolean;
}

// ignoreBOM: a U+FEFF token is text like any other (the default would drop it at the start of a piece).
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export class IncrementalDetokenizer {
  private readonly tokenizer: Tokenizer;
  private readonly skipSpecial: boolean;
  private stripLeadingSpace: boolean;
  /** Bytes of an incomplete trailing character (at most 3), then room to append a piece. */
  private pending = new Uint8Array(64);
  private pendingLength = 0;

  constructor(tokenizer: Tokenizer, options: IncrementalDetokenizerOptions = {}) {
    this.tokenizer = tokenizer;
    this.skipSpecial = options.skipSpecial ?? false;
    this.stripLeadingSpace = (options.sequenceStart ?? true) && tokenizer.stripsLeadingSpace;
  }

  /** Adds one token; returns the newly completed text ("" while a character is incomplete). */
  push(id: number): string {
    const tok = this.tokenizer;
    tok.checkId(id);
    const special = tok.isControlLike(id);
    if (special && this.skipSpecial) return '';
    let strip = false;
    if (!special && this.stripLeadingSpace) {
      this.stripLeadingSpace = false;
      strip = true;
    }
    if (this.pendingLength === 0) {
      // Fast path: nothing held back and the piece is whole characters.
      const s = tok.pieceString(id);
      if (s !== null) return strip && s.charCodeAt(0) === 0x20 ? s.slice(1) : s;
    }
    let piece = tok.pieceBytes(id);
    if (strip && piece[0] === 0x20) piece = piece.subarray(1);
    return this.append(piece);
  }

  /** Ends the sequence: held-back bytes of an incomplete character come out as U+FFFD. */
  flush(): string {
    if (this.pendingLength === 0) return '';
    const text = decoder.decode(this.pending.subarray(0, this.pendingLength));
    this.pendingLength = 0;
    return text;
  }

  private append(piece: Uint8Array): string {
    const needed = this.pendingLength + piece.length;
    if (needed > this.pending.length) {
      const grown = new Uint8Array(Math.max(needed, this.pending.length * 2));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(piece, this.pendingLength);
    this.pendingLength = needed;
    const cut = completePrefixLength(this.pending, needed);
    if (cut === 0) return '';
    const text = decoder.decode(this.pending.subarray(0, cut));
    this.pending.copyWithin(0, cut, needed);
    this.pendingLength = needed - cut;
    return text;
  }
}

/**
 * A factory for the engine: one detokenizer per request, told the prompt so the leading-space
 * rule applies only when the output starts the text (the prompt is empty or only control
 * tokens such as BOS).
 */
export function detokenizerFactory(tokenizer: Tokenizer, options: DecodeOptions = {}): (promptIds?: readonly number[]) => IncrementalDetokenizer {
  return (promptIds) => {
    const sequenceStart = !promptIds || promptIds.every((id) => tokenizer.isControlLike(id));
    return new IncrementalDetokenizer(tokenizer, { ...options, sequenceStart });
  };
}

/**
 * Length of the longest prefix of bytes[0, length) that does not end inside a character:
 * everything except a trailing lead byte whose continuation bytes have not all arrived.
 * Invalid bytes count as complete (they decode to U+FFFD and can never be completed).
 */
export function completePrefixLength(bytes: Uint8Array, length: number): number {
  let i = length - 1;
  while (i >= 0 && i > length - 4 && (bytes[i] & 0xc0) === 0x80) i--;
  if (i < 0) return length;
  const lead = bytes[i];
  const expected = lead >= 0xf0 && lead <= 0xf4 ? 4 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xc2 && lead < 0xe0 ? 2 : 1;
  return length - i < expected ? i : length;
}
