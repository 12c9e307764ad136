// SentencePiece-style BPE (tokenizer.ggml.model = "llama"), as llama.cpp's
// llm_tokenizer_spm_session: the text (spaces already escaped to "▁") starts as one symbol
// per code point; the adjacent pair whose concatenation is the highest-scoring token merges
// first (leftmost among equal scores), until no adjacent pair forms a token. A final symbol
// that is not a token falls back to its UTF-8 bytes as <0xXX> tokens (or the unknown token).
import { BigramHeap } from './heap';
import type { Vocab } from './vocab';

export class SpmModel {
  private readonly vocab: Vocab;
  /** [256] id of each byte's fallback token, or -1 */
  private readonly byteTokenId: Int32Array;
  private readonly heap = new BigramHeap();
  private readonly popped = new Int32Array(4);
  private readonly encoder = new TextEncoder();

  constructor(vocab: Vocab) {
    this.vocab = vocab;
    this.byteTokenId = new Int32Array(256);
    for (let b = 0; b < 256; b++) {
      const hex = `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`;
      // llama.cpp falls back to the byte itself as a one-char token (expressible for ASCII only).
      const id = vocab.tokenToId.get(hex);
      this.byteTokenId[b] = id >= 0 || b >= 0x80 ? id : vocab.tokenToId.get(String.fromCharCode(b));
    }
  }

  /** Appends the ids of `text` (spaces already "▁") to `out`. */
  encode(text: string, out: number[]): void {
    if (text.length === 0) return;
    const { tokenToId } = this.vocab;
    // [numSymbols] UTF-16 start offset, length (0 = merged away), prev/next links
    const n = countCodePoints(text);
    const symStart = new Int32Array(n);
    const symLen = new Int32Array(n);
    const symPrev = new Int32Array(n);
    const symNext = new Int32Array(n);
    for (let i = 0, offset = 0; i < n; i++) {
      const c = text.charCodeAt(offset);
      const lo = offset + 1 < text.length ? text.charCodeAt(offset + 1) : 0;
      const len = c >= 0xd800 && c <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff ? 2 : 1;
      symStart[i] = offset;
      symLen[i] = len;
      symPrev[i] = i - 1;
      symNext[i] = i + 1 < n ? i + 1 : -1;
      offset += len;
    }
    const heap = this.heap;
    const scores = this.vocab.scores;
    heap.clear();
    const tryAdd = (left: number, right: number) => {
      if (left < 0 || right < 0) return;
      const size = symLen[left] + symLen[right];
      const id = tokenToId.getRange(text, symStart[left], symStart[left] + size);
      if (id < 0) return;
      heap.push(-scores[id], left, right, size, id);
    };
    for (let i = 1; i < n; i++) tryAdd(i - 1, i);
    const popped = this.popped;
    while (heap.pop(popped)) {
      const left = popped[0];
      const right = popped[1];
      if (symLen[left] === 0 || symLen[right] === 0 || symLen[left] + symLen[right] !== popped[2]) continue;
      symLen[left] += symLen[right];
      symLen[right] = 0;
      symNext[left] = symNext[right];
      if (symNext[right] >= 0) symPrev[symNext[right]] = left;
      tryAdd(symPrev[left], left);
      tryAdd(left, symNext[left]);
    }
    for (let i = 0; i !== -1; i = symNext[i]) {
      const id = tokenToId.getRange(text, symStart[i], symStart[i] + symLen[i]);
      if (id >= 0) out.push(id);
      else this.byteFallback(text.slice(symStart[i], symStart[i] + symLen[i]), out);
    }
  }

  private byteFallback(piece: string, out: number[]): void {
    for (const byte of this.encoder.encode(piece)) {
      const id = this.byteTokenId[byte];
      // A SentencePiece vocabulary always has an unknown token (id 0 unless the metadata says otherwise).
      out.push(id >= 0 ? id : this.vocab.unk);
    }
  }
}

function countCodePoints(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}
