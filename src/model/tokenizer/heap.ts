// A binary min-heap of merge candidates (bigrams), ordered by (priority, left position):
// the lowest priority pops first, and among equals the leftmost pair — the order both
// llama.cpp tokenizers use (BPE: lowest merge rank; SPM: highest score, stored negated).
// Parallel typed arrays, reused across words, so a merge loop allocates nothing.

export class BigramHeap {
  private priority = new Float64Array(64);
  private left = new Int32Array(64);
  private right = new Int32Array(64);
  /** Length of the merged pair when it was pushed; a changed length marks it stale. */
  private size = new Int32Array(64);
  /** Extra payload (the BPE merge rank, to find the merged id). */
  private payload = new Int32Array(64);
  length = 0;

  clear(): void {
    this.length = 0;
  }

  push(priority: number, left: number, right: number, size: number, payload: number): void {
    if (this.length === this.priority.length) this.grow();
    let i = this.length++;
    // Sift up.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(priority, left, parent)) break;
      this.move(parent, i);
      i = parent;
    }
    this.priority[i] = priority;
    this.left[i] = left;
    this.right[i] = right;
    this.size[i] = size;
    this.payload[i] = payload;
  }

  /** Pops the top into `out` ([left, right, size, payload]); false when empty. */
  pop(out: Int32Array): boolean {
    if (this.length === 0) return false;
    out[0] = this.left[0];
    out[1] = this.right[0];
    out[2] = this.size[0];
    out[3] = this.payload[0];
    const last = --this.length;
    if (last > 0) {
      const p = this.priority[last];
      const l = this.left[last];
      const r = this.right[last];
      const s = this.size[last];
      const pl = this.payload[last];
      let i = 0;
      // Sift down.
      for (;;) {
        let child = 2 * i + 1;
        if (child >= last) break;
        if (child + 1 < last && this.lessAt(child + 1, child)) child++;
        if (!this.lessThanItem(child, p, l)) break;
        this.move(child, i);
        i = child;
      }
      this.priority[i] = p;
      this.left[i] = l;
      this.right[i] = r;
      this.size[i] = s;
      this.payload[i] = pl;
    }
    return true;
  }

  /** (priority, left) < item at index j */
  private less(priority: number, left: number, j: number): boolean {
    const pj = this.priority[j];
    return priority < pj || (priority === pj && left < this.left[j]);
  }

  private lessAt(i: number, j: number): boolean {
    return this.less(this.priority[i], this.left[i], j);
  }

  /** item at index i < (priority, left) */
  private lessThanItem(i: number, priority: number, left: number): boolean {
    const pi = this.priority[i];
    return pi < priority || (pi === priority && this.left[i] < left);
  }

  private move(from: number, to: number): void {
    this.priority[to] = this.priority[from];
    this.left[to] = this.left[from];
    this.right[to] = this.right[from];
    this.size[to] = this.size[from];
    this.payload[to] = this.payload[from];
  }

  private grow(): void {
    const n = this.priority.length * 2;
    const grow = <T extends Float64Array | Int32Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.priority = grow(this.priority, (k) => new Float64Array(k));
    this.left = grow(this.left, (k) => new Int32Array(k));
    this.right = grow(this.right, (k) => new Int32Array(k));
    this.size = grow(this.size, (k) => new Int32Array(k));
    this.payload = grow(this.payload, (k) => new Int32Array(k));
  }
}
