// Byte-level BPE (tokenizer.ggml.model = "gpt2"), as llama.cpp's llm_tokenizer_bpe_session:
// each pre-token is turned into its UTF-8 bytes, one symbol per byte (spelled in the GPT-2
// byte alphabet), then adjacent pairs merge lowest-rank first (leftmost among equal ranks)
// until no pair has a rank. With `ignoreMerges` a pre-token that is itself a token is taken
// whole (Llama 3 needs this: merging would reach a different split for some words).
//
// Symbols are token ids, so a merge is a Map lookup on a packed (left id, right id) key.
import { BYTE_TO_CHAR } from './byte-level';
import { TokenizerError } from './errors';
import { BigramHeap } from './heap';
import { PairTable } from './pair-table';
import { HASH_PRIME, HASH_SEED } from './string-table';
import { preTokenize } from './pre-tokenizer';
import type { Vocab } from './vocab';

const UNRESOLVED = -2;

// Pre-token -> ids cache; cleared when it grows past this many entries.
const CACHE_LIMIT = 200_000;

export class BpeModel {
  private readonly vocab: Vocab;
  /** (left id, right id) -> merge rank */
  private readonly rankOfPair: PairTable;
  /** [numMerges] merge rank -> the id it produces; UNRESOLVED until first used */
  private readonly mergedId: Int32Array;
  private readonly merges: readonly string[];
  /** [256] the token id of each single byte, or -1 */
  private readonly byteTokenId: Int32Array;
  private readonly cache = new Map<string, number[]>();
  // Per-word scratch, grown on demand. [numSymbols] each.
  private symId = new Int32Array(256);
  private symLen = new Int32Array(256);
  private symPrev = new Int32Array(256);
  private symNext = new Int32Array(256);
  private readonly bytes = new Uint8Array(1024);
  private readonly heap = new BigramHeap();
  private readonly popped = new Int32Array(4);

  constructor(vocab: Vocab, merges: readonly string[]) {
    this.vocab = vocab;
    const ids = vocab.tokenToId;
    this.merges = merges;
    this.rankOfPair = new PairTable(merges.length);
    // The merged token is looked up when a merge is first applied: most of a 280k-merge
    // list is never used by a given text, and the lookup is a third of the build cost.
    this.mergedId = new Int32Array(merges.length).fill(UNRESOLVED);
    for (let rank = 0; rank < merges.length; rank++) {
      const line = merges[rank];
      // llama.cpp splits at the first space after position 0. One pass hashes both halves.
      let space = -1;
      let leftHash = HASH_SEED;
      let rightHash = HASH_SEED;
      for (let i = 0; i < line.length; i++) {
        const c = line.charCodeAt(i);
        if (space < 0) {
          if (c === 0x20 && i > 0) space = i;
          else leftHash = Math.imul(leftHash ^ c, HASH_PRIME);
        } else rightHash = Math.imul(rightHash ^ c, HASH_PRIME);
      }
      if (space < 0) throw new TokenizerError('invalid_merge', `merge ${rank} ${JSON.stringify(line)} is not two space-separated tokens`);
      const leftId = ids.getHashed(line, 0, space, leftHash);
      const rightId = ids.getHashed(line, space + 1, line.length, rightHash);
      if (leftId < 0 || rightId < 0) {
        const missing = leftId < 0 ? line.slice(0, space) : line.slice(space + 1);
        throw new TokenizerError('merge_unknown_token', `merge ${rank} ${JSON.stringify(line)} names ${JSON.stringify(missing)}, which is not in the vocabulary`);
      }
      // The first (lowest) rank of a repeated pair wins, as with std::unordered_map::emplace.
      this.rankOfPair.setIfAbsent(leftId, rightId, rank);
    }
    this.byteTokenId = new Int32Array(256);
    for (let b = 0; b < 256; b++) this.byteTokenId[b] = ids.get(BYTE_TO_CHAR[b]);
  }

  /** Appends the ids of a raw-text fragment (no special tokens in it) to `out`. */
  encode(text: string, out: number[]): void {
    const regexes = this.vocab.pre!.regexes;
    preTokenize(text, regexes, (start, end) => {
      const word = text.slice(start, end);
      let ids = this.cache.get(word);
      if (ids === undefined) {
        ids = this.encodeWord(word);
        if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
        this.cache.set(word, ids);
      }
      for (let i = 0; i < ids.length; i++) out.push(ids[i]);
    });
  }

  private encodeWord(word: string): number[] {
    const numBytes = this.utf8(word);
    const bytes = numBytes <= this.bytes.length ? this.bytes : new TextEncoder().encode(word);
    if (this.vocab.ignoreMerges) {
      let spelled = '';
      for (let i = 0; i < numBytes; i++) spelled += BYTE_TO_CHAR[bytes[i]];
      const whole = this.vocab.tokenToId.get(spelled);
      if (whole >= 0) return [whole];
    }
    this.ensureScratch(numBytes);
    const { symId, symLen, symPrev, symNext, heap, popped } = this;
    for (let i = 0; i < numBytes; i++) {
      symId[i] = this.byteTokenId[bytes[i]];
      symLen[i] = 1;
      symPrev[i] = i - 1;
      symNext[i] = i + 1 < numBytes ? i + 1 : -1;
    }
    heap.clear();
    for (let i = 1; i < numBytes; i++) this.pushPair(i - 1, i);
    while (heap.pop(popped)) {
      const left = popped[0];
      const right = popped[1];
      // Stale: one side was merged away or grew since this pair was pushed.
      if (symLen[left] === 0 || symLen[right] === 0 || symLen[left] + symLen[right] !== popped[2]) continue;
      symId[left] = this.resolveMerge(popped[3]);
      symLen[left] += symLen[right];
      symLen[right] = 0;
      symNext[left] = symNext[right];
      if (symNext[right] >= 0) symPrev[symNext[right]] = left;
      this.pushPair(symPrev[left], left);
      this.pushPair(left, symNext[left]);
    }
    const ids: number[] = [];
    for (let i = 0; i !== -1 && i < numBytes; i = symNext[i]) {
      if (symId[i] >= 0) ids.push(symId[i]);
      else this.byteFallback(bytes[i], ids);
    }
    return ids;
  }

  /**
   * A byte whose byte-alphabet char is not a token (only in unusual vocabularies). llama.cpp
   * then looks up each UTF-8 byte of that char as a one-byte string; only ASCII can match.
   */
  private byteFallback(byte: number, ids: number[]): void {
    for (const b of new TextEncoder().encode(BYTE_TO_CHAR[byte])) {
      if (b >= 0x80) continue;
      const id = this.vocab.tokenToId.get(String.fromCharCode(b));
      if (id >= 0) ids.push(id);
    }
  }

  private resolveMerge(rank: number): number {
    let id = this.mergedId[rank];
    if (id === UNRESOLVED) {
      const line = this.merges[rank];
      const space = line.indexOf(' ', 1);
      const merged = line.slice(0, space) + line.slice(space + 1);
      const found = this.vocab.tokenToId.get(merged);
      if (found < 0) {
        throw new TokenizerError('merge_unknown_token', `merge ${rank} ${JSON.stringify(line)} makes ${JSON.stringify(merged)}, which is not in the vocabulary`);
      }
      id = this.mergedId[rank] = found;
    }
    return id;
  }

  private pushPair(left: number, right: number): void {
    if (left < 0 || right < 0) return;
    const l = this.symId[left];
    const r = this.symId[right];
    if (l < 0 || r < 0) return;
    const rank = this.rankOfPair.get(l, r);
    if (rank < 0) return;
    this.heap.push(rank, left, right, this.symLen[left] + this.symLen[right], rank);
  }

  /** UTF-8 encodes `word` into this.bytes when it fits; returns the byte count. */
  private utf8(word: string): number {
    const buf = this.bytes;
    let n = 0;
    for (let i = 0; i < word.length; i++) {
      let c = word.charCodeAt(i);
      if (c < 0x80) {
        if (n < buf.length) buf[n] = c;
        n += 1;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < word.length) {
        const lo = word.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
          i++;
        }
      }
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate encodes as U+FFFD
      const size = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      if (n + size <= buf.length) {
        if (size === 2) {
          buf[n] = 0xc0 | (c >> 6);
          buf[n + 1] = 0x80 | (c & 63);
        } else if (size === 3) {
          buf[n] = 0xe0 | (c >> 12);
          buf[n + 1] = 0x80 | ((c >> 6) & 63);
          buf[n + 2] = 0x80 | (c & 63);
        } else {
          buf[n] = 0xf0 | (c >> 18);
          buf[n + 1] = 0x80 | ((c >> 12) & 63);
          buf[n + 2] = 0x80 | ((c >> 6) & 63);
          buf[n + 3] = 0x80 | (c & 63);
        }
      }
      n += size;
    }
    return n;
  }

  private ensureScratch(numSymbols: number): void {
    if (numSymbols <= this.symId.length) return;
    const size = Math.max(numSymbols, this.symId.length * 2);
    this.symId = new Int32Array(size);
    this.symLen = new Int32Array(size);
    this.symPrev = new Int32Array(size);
    this.symNext = new Int32Array(size);
  }
}
