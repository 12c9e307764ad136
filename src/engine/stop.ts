// Stop criteria for one output sequence, and the text it streams.
//
// Text comes from an injected incremental detokenizer. Stop strings may span tokens, so
// text that could still grow into a stop string is held back; nothing streamed is ever
// cut later:
//
//   stop "END", tokens  "ab" "E" "N" "D"  →  streamed "ab", "", "", then finish 'stop'
//   stop "END", tokens  "ab" "E" "x"      →  streamed "ab", "", "Ex"

/** Incremental detokenizer: `push` returns the text that became final with this token. */
export interface Detokenizer {
  push(tokenId: number): string;
  /** Whatever is still buffered (e.g. an incomplete UTF-8 sequence) at the end of the output. */
  flush(): string;
}

/** Gets the prompt so it can decide SentencePiece's leading-space rule (strip after BOS only). */
export type DetokenizerFactory = (promptIds?: readonly number[]) => Detokenizer;

export type FinishReason = 'stop' | 'length' | 'abort';

export interface StopCriteria {
  /** Output tokens allowed (the token that reaches it is kept, finish 'length'). */
  maxTokens: number;
  /** End-of-generation ids (the model's EOS/EOT): finish 'stop' unless `ignoreEos`. */
  eogIds: ReadonlySet<number>;
  ignoreEos: boolean;
  /** Finish 'stop' on these ids even with `ignoreEos`. */
  stopTokenIds: ReadonlySet<number>;
  /** Non-empty strings; the output is cut before the earliest match, which is not included. */
  stopStrings: readonly string[];
  /** The model's context: a sequence of this many tokens cannot grow (finish 'length'). */
  contextLength: number;
}

export interface TokenOutcome {
  /** Text to stream for this token (may be '' while held back). */
  text: string;
  finishReason: FinishReason | null;
}

export class StopChecker {
  /** Streamed-text suffix that is a proper prefix of some stop string. */
  private held = '';
  private finished = false;

  constructor(
    private readonly criteria: StopCriteria,
    private readonly detokenizer: Detokenizer,
  ) {}

  /**
   * Judges a token just appended to the sequence: `numOutputTokens` and `numTokens`
   * (prompt + output) include it. `grammarEnded`: the output's grammar accepted it as its
   * stop token (constrained decoding), which ends the output like an EOS, `ignoreEos` or not.
   */
  onToken(tokenId: number, numOutputTokens: number, numTokens: number, grammarEnded = false): TokenOutcome {
    if (this.finished) throw new Error('StopChecker: token after finish');
    const c = this.criteria;
    // End-of-generation tokens have no text; what was held back was not a stop string.
    if (grammarEnded || c.stopTokenIds.has(tokenId) || (!c.ignoreEos && c.eogIds.has(tokenId))) {
      return this.finish(this.held + this.detokenizer.flush(), 'stop');
    }
    let text = this.held + this.detokenizer.push(tokenId);
    const hitLength = this.endsByLength(numOutputTokens, numTokens);
    if (hitLength) text += this.detokenizer.flush();
    const cut = this.earliestStop(text);
    if (cut >= 0) return this.finish(text.slice(0, cut), 'stop');
    if (hitLength) return this.finish(text, 'length');
    const holdLength = this.stopPrefixSuffixLength(text);
    this.held = text.slice(text.length - holdLength);
    return { text: text.slice(0, text.length - holdLength), finishReason: null };
  }

  /**
   * The output ends ('length') at a token that makes it `numOutputTokens` long and the
   * sequence `numTokens` long, whatever the token is (the step chain asks it ahead).
   */
  endsByLength(numOutputTokens: number, numTokens: number): boolean {
    return numOutputTokens >= this.criteria.maxTokens || numTokens >= this.criteria.contextLength;
  }

  /** Ends the output with 'length' from outside (no room left): releases held-back text. */
  forceFinish(): string {
    if (this.finished) return '';
    return this.finish(this.held + this.detokenizer.flush(), 'length').text;
  }

  /** Ends the output early (abort): held-back text is dropped, it may have been a stop string. */
  abort(): void {
    this.finished = true;
    this.held = '';
  }

  private finish(text: string, finishReason: FinishReason): TokenOutcome {
    this.finished = true;
    this.held = '';
    return { text, finishReason };
  }

  /** Index of the earliest stop-string match in `text`, or -1. */
  private earliestStop(text: string): number {
    let best = -1;
    for (const stop of this.criteria.stopStrings) {
      const at = text.indexOf(stop);
      if (at >= 0 && (best < 0 || at < best)) best = at;
    }
    return best;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of a stop string. */
  private stopPrefixSuffixLength(text: string): number {
    let longest = 0;
    for (const stop of this.criteria.stopStrings) {
      for (let k = Math.min(stop.length - 1, text.length); k > longest; k--) {
        if (text.endsWith(stop.slice(0, k))) {
          longest = k;
          break;
        }
      }
    }
    return longest;
  }
}
