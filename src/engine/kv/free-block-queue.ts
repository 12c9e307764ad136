// The free block queue: a doubly linked list threaded through the blocks themselves, so
// popping the front, appending at the back and unlinking a block from the middle (a
// prefix-cache hit on a free block) are all O(1).
//
//   head ⇄ b7 ⇄ b3 ⇄ b12 ⇄ … ⇄ tail        (head, tail: sentinels, never handed out)
//         ^ evicted first (least recently freed)   ^ freed last
//
// Freed blocks go to the back; allocation takes from the front. A cached block therefore
// survives until every block freed before it has been reused: LRU eviction.

import { KvBlock } from './kv-block';

export class FreeBlockQueue {
  private readonly head = new KvBlock(-1);
  private readonly tail = new KvBlock(-2);
  private count = 0;

  /** Links `blocks` in order (front first). */
  constructor(blocks: Iterable<KvBlock>) {
    this.head.nextFree = this.tail;
    this.tail.prevFree = this.head;
    for (const block of blocks) this.pushBack(block);
  }

  get numFreeBlocks(): number {
    return this.count;
  }

  /** The least recently freed block; the caller must have checked `numFreeBlocks > 0`. */
  popFront(): KvBlock {
    const block = this.head.nextFree!;
    if (block === this.tail) throw new Error('FreeBlockQueue: popFront on an empty queue');
    this.unlink(block);
    return block;
  }

  pushBack(block: KvBlock): void {
    if (block.prevFree !== null || block.nextFree !== null) {
      throw new Error(`FreeBlockQueue: block ${block.id} is already in the queue`);
    }
    const last = this.tail.prevFree!;
    last.nextFree = block;
    block.prevFree = last;
    block.nextFree = this.tail;
    this.tail.prevFree = block;
    this.count++;
  }

  /** Unlinks a block from anywhere in the queue (a cache hit on a free block). */
  remove(block: KvBlock): void {
    if (block.prevFree === null || block.nextFree === null) {
      throw new Error(`FreeBlockQueue: block ${block.id} is not in the queue`);
    }
    this.unlink(block);
  }

  /** Blocks front to back (tests and invariant checks; O(n)). */
  toArray(): KvBlock[] {
    const out: KvBlock[] = [];
    for (let b = this.head.nextFree!; b !== this.tail; b = b.nextFree!) out.push(b);
    return out;
  }

  private unlink(block: KvBlock): void {
    block.prevFree!.nextFree = block.nextFree;
    block.nextFree!.prevFree = block.prevFree;
    block.prevFree = null;
    block.nextFree = null;
    this.count--;
  }
}
