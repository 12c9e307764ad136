// An open-addressing hash table from a pair of token ids to a merge rank, in one typed array.
// A 128k vocabulary has 280k merges; a JS Map keyed by leftId * vocabSize + rightId (beyond
// 31 bits, so heap numbers) costs several times more to build and to probe.

const EMPTY = -1;

export class PairTable {
  /** [capacity, 3] per slot: (left id, right id, rank or EMPTY); one cache line per probe */
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(expectedSize: number) {
    // Load factor <= 2/3 keeps linear-probe chains short.
    let capacity = 16;
    while (capacity < expectedSize * 1.5) capacity *= 2;
    this.slots = new Int32Array(capacity * 3);
    for (let i = 2; i < this.slots.length; i += 3) this.slots[i] = EMPTY;
    this.mask = capacity - 1;
  }

  // murmur3's 32-bit finalizer over a combination of both ids: every output bit depends on
  // every input bit, so structured ids (runs of neighbours) do not cluster.
  private slot(left: number, right: number): number {
    let h = (Math.imul(left, 0x9e3779b1) + right) | 0;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h & this.mask;
  }

  /** Inserts unless the pair is present (the first, lowest rank wins). */
  setIfAbsent(left: number, right: number, value: number): void {
    const { slots, mask } = this;
    for (let i = this.slot(left, right); ; i = (i + 1) & mask) {
      const at = 3 * i;
      if (slots[at + 2] === EMPTY) {
        slots[at] = left;
        slots[at + 1] = right;
        slots[at + 2] = value;
        return;
      }
      if (slots[at] === left && slots[at + 1] === right) return;
    }
  }

  /** The rank of (left, right), or -1. */
  get(left: number, right: number): number {
    const { slots, mask } = this;
    for (let i = this.slot(left, right); ; i = (i + 1) & mask) {
      const at = 3 * i;
      const v = slots[at + 2];
      if (v === EMPTY) return EMPTY;
      if (slots[at] === left && slots[at + 1] === right) return v;
    }
  }
}
