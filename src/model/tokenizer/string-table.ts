// Token text -> id lookup: an open-addressing hash table over the vocabulary's own strings.
// Unlike a Map<string, number>, it can look up a substring (a merge line's halves, a span of
// the text being merged) without allocating it, and it builds 128k entries several times
// faster — the two costs that dominate building a large BPE tokenizer.

const EMPTY = -1;
// FNV-1a over UTF-16 code units: h = imul(h ^ code, PRIME), starting from SEED.
export const HASH_SEED = 0x811c9dc5 | 0;
export const HASH_PRIME = 0x01000193;

export class StringTable {
  private readonly strings: readonly string[];
  /**
   * [capacity, 2] per slot: (id or EMPTY, full 32-bit hash). Interleaved so a probe touches
   * one cache line; the hash skips most string compares.
   */
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** Ids whose text contains a UTF-16 surrogate (found while hashing; checked by the caller). */
  readonly idsWithSurrogates: number[] = [];

  /**
   * Indexes `strings` by content. `onDuplicate(firstId, id)` is called for a string seen
   * before (the first id stays).
   */
  constructor(strings: readonly string[], onDuplicate: (firstId: number, id: number) => void) {
    this.strings = strings;
    let capacity = 16;
    while (capacity < strings.length * 2) capacity *= 2;
    this.slots = new Int32Array(capacity * 2).fill(EMPTY);
    this.mask = capacity - 1;
    for (let id = 0; id < strings.length; id++) {
      const s = strings[id];
      // FNV-1a over UTF-16 code units.
      let h = HASH_SEED;
      let surrogates = 0;
      for (let i = 0; i < s.length; i++) {
        const c = s.charCodeAt(i);
        surrogates |= (c & 0xf800) === 0xd800 ? 1 : 0;
        h = Math.imul(h ^ c, HASH_PRIME);
      }
      if (surrogates) this.idsWithSurrogates.push(id);
      for (let i = h & this.mask; ; i = (i + 1) & this.mask) {
        const other = this.slots[2 * i];
        if (other === EMPTY) {
          this.slots[2 * i] = id;
          this.slots[2 * i + 1] = h;
          break;
        }
        if (this.slots[2 * i + 1] === h && strings[other] === s) {
          onDuplicate(other, id);
          break;
        }
      }
    }
  }

  /** The id of `s`, or -1. */
  get(s: string): number {
    return this.getRange(s, 0, s.length);
  }

  /** The id of the substring s[start, end), or -1, without creating the substring. */
  getRange(s: string, start: number, end: number): number {
    let h = HASH_SEED;
    for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), HASH_PRIME);
    return this.getHashed(s, start, end, h);
  }

  /** getRange with the substring's hash already computed (see hashStep). */
  getHashed(s: string, start: number, end: number, h: number): number {
    const { slots, strings, mask } = this;
    const length = end - start;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const id = slots[2 * i];
      if (id === EMPTY) return EMPTY;
      if (slots[2 * i + 1] !== h) continue;
      const candidate = strings[id];
      if (candidate.length !== length) continue;
      let j = 0;
      while (j < length && candidate.charCodeAt(j) === s.charCodeAt(start + j)) j++;
      if (j === length) return id;
    }
  }
}
