// A word-level EngineTokenizer for API tests: one token per whitespace-led word (` world`)
// or run of spaces, ids assigned on first sight from 100 up (1 = BOS, 2 = EOS), so every
// output a test reads is whole words and every id round-trips. Browser-safe (the e2e pages
// bundle it).
import type { EngineTokenizer } from '../../src/openai/local-engine';
import type { Detokenizer } from '../../src/engine/stop';

export const BOS = 1;
export const EOS = 2;
const FIRST_WORD_ID = 100;

/** `\s*\S+` (a word with the spaces before it) or `\s+` (trailing spaces). */
const WORD = /\s*\S+|\s+/g;

export class WordTokenizer implements EngineTokenizer {
  readonly bos = BOS;
  private readonly ids = new Map<string, number>();
  private readonly words: string[] = [];

  constructor(readonly vocabSize: number) {}

  /** The id of one word (assigned now if new). */
  idOf(word: string): number {
    let id = this.ids.get(word);
    if (id === undefined) {
      id = FIRST_WORD_ID + this.words.length;
      if (id >= this.vocabSize) throw new Error(`WordTokenizer: more than ${this.vocabSize - FIRST_WORD_ID} distinct words`);
      this.ids.set(word, id);
      this.words.push(word);
    }
    return id;
  }

  encode(text: string, options: { addSpecial?: boolean } = {}): number[] {
    const ids = (text.match(WORD) ?? []).map((w) => this.idOf(w));
    return options.addSpecial === false ? ids : [BOS, ...ids];
  }

  /** A word's text; '' for BOS, EOS and ids never assigned (the facade checks ids against vocabSize only). */
  text(id: number): string {
    return this.words[id - FIRST_WORD_ID] ?? '';
  }

  decode(ids: ArrayLike<number>, options: { skipSpecial?: boolean } = {}): string {
    const special = (id: number) => (id === BOS ? '<s>' : id === EOS ? '</s>' : '');
    return Array.from(ids, (id) => (id < FIRST_WORD_ID ? (options.skipSpecial ? '' : special(id)) : this.text(id))).join('');
  }

  createDetokenizer(): Detokenizer {
    return { push: (id) => this.text(id), flush: () => '' };
  }

  /** Logprobs name special tokens as the GGUF vocabulary spells them (`</s>`), like the real tokenizer. */
  readonly tokenText = (id: number): { text: string; bytes: number[] } => {
    const text = id === BOS ? '<s>' : id === EOS ? '</s>' : this.text(id);
    return { text, bytes: [...new TextEncoder().encode(text)] };
  };
}
