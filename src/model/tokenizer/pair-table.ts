// An open-addressing hash table from a pair of token ids to a merge rank, in two typed arrays.
// A 128k vocabulary has 280k merges; a JS Map keyed by leftId * vocabSize + rightId (beyond
// 31 bits, so heap numbers) costs several times more to build and to probe.

const EMPTY = -1;

export class PairTable {
  /** [capacity * 2] (left id, right id) per slot */
  private readonly keys: Int32Array;
  /** [capacity] rank per slot, EMPTY when unused */
  private readonly values: Int32Array;
  private readonly mask: number;

  constructor(expectedSize: number) {
    // Load factor <= 2/3 keeps linear-probe chains short at half the memory of <= 1/2.
    let capacity = 16;
    while (capacity < expectedSize * 1.5) capacity *= 2;
    this.keys = new Int32Array(capacity * 2);
    this.values = new Int32Array(capacity).fill(EMPTY);
    this.mask = capacity - 1;
  }

  private slot(left: number, right: number): number {
    let h = Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x7f4a7c15, 0x85ebca77);
    h ^= h >>> 15;
    return h & this.mask;
  }

  /** Inserts unless the pair is present (the first, lowest rank wins). */
  setIfAbsent(left: number, right: number, value: number): void {
    const { keys, values, mask } = this;
    for (let i = this.slot(left, right); ; i = (i + 1) & mask) {
      if (values[i] === EMPTY) {
        keys[2 * i] = left;
        keys[2 * i + 1] = right;
        values[i] = value;
        return;
      }
      if (keys[2 * i] === left && keys[2 * i + 1] === right) return;
    }
  }

  /** The rank of (left, right), or -1. */
  get(left: number, right: number): number {
    const { keys, values, mask } = this;
    for (let i = this.slot(left, right); ; i = (i + 1) & mask) {
      const v = values[i];
      if (v === EMPTY) return EMPTY;
      if (keys[2 * i] === left && keys[2 * i + 1] === right) return v;
    }
  }
}
