// WordPiece (tokenizer.ggml.model = "bert"), as llama.cpp's llm_tokenizer_wpm_session: each
// pre-tokenized word (bert-pre-tokenizer.ts) gets the phantom space "▁" in front, then the
// longest vocabulary entry at each point is taken, left to right. The GGUF converter already
// rewrote the vocabulary that way: word-initial pieces carry "▁", "##" continuations lost
// their "##". A word with any unmatched point becomes one [UNK].
//
// Lengths are compared in UTF-8 bytes against the longest token, as llama.cpp does on bytes;
// a match always ends on a character boundary, so walking code points is the same search.
import { bertPreTokenize, type BertNormalizer } from './bert-pre-tokenizer';
import type { Vocab } from './vocab';

const PHANTOM_SPACE = '\u2581';
const utf8 = new TextEncoder();

export class WordPieceModel {
  private readonly maxTokenBytes: number;

  constructor(
    private readonly vocab: Vocab,
    private readonly normalizer: BertNormalizer,
  ) {
    let max = 0;
    for (const t of vocab.tokens) max = Math.max(max, utf8.encode(t).length);
    this.maxTokenBytes = max;
  }

  /** Appends the ids of `text` (one raw fragment, special tokens already split out) to `out`. */
  encode(text: string, out: number[]): void {
    for (const word of bertPreTokenize(text, this.normalizer)) this.encodeWord(PHANTOM_SPACE + word, out);
  }

  private encodeWord(word: string, out: number[]): void {
    const chars = Array.from(word);
    const bytes = chars.map((c) => utf8.encode(c).length);
    const start = out.length;
    for (let i = 0; i < chars.length; ) {
      // Longest candidate first: chars i..j-1 within maxTokenBytes.
      let j = i;
      let len = 0;
      while (j < chars.length && len + bytes[j] <= this.maxTokenBytes) len += bytes[j++];
      let matched = false;
      for (; j > i; j--) {
        const id = this.vocab.tokenToId.get(chars.slice(i, j).join(''));
        if (id >= 0) {
          out.push(id);
          i = j;
          matched = true;
          break;
        }
      }
      if (!matched) {
        out.length = start; // llama.cpp discards the word's pieces
        break;
      }
    }
    if (out.length === start) out.push(this.vocab.unk);
  }
}
