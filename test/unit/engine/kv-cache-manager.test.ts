// KvCacheManager on its own: allocation as a return value, block tables, prefix hits,
// copy-on-write forks, release order and eviction.
import { describe, expect, it } from 'vitest';
import { KvCacheManager, type KvSequence } from '../../../src/engine/kv/kv-cache-manager';
import { hashSalt } from '../../../src/engine/kv/block-hash';

let nextId = 1;
function seq(tokenIds: number[], salt?: string): KvSequence & { numComputedTokens: number; tokenIds: number[] } {
  return { seqId: nextId++, tokenIds, numComputedTokens: 0, cacheSalt: salt === undefined ? -1 : hashSalt(salt), blockHashes: [] };
}
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe('KvCacheManager', () => {
  it('allocates ceil(tokens / 16) blocks, grows append-only, and returns null without side effects when out of blocks', () => {
    const kv = new KvCacheManager(6); // 5 usable
    const a = seq(range(40));
    expect(kv.allocateSlots(a, 40)).toEqual({ blockCopies: [], numNewBlocks: 3 });
    const table = Array.from(kv.blockTable(a));
    expect(table).toHaveLength(3);
    a.numComputedTokens = 40;
    a.tokenIds.push(1);
    expect(kv.allocateSlots(a, 1)!.numNewBlocks).toBe(0); // position 40 still in block 2
    a.tokenIds.push(...range(8));
    a.numComputedTokens = 41;
    expect(kv.allocateSlots(a, 8)!.numNewBlocks).toBe(1); // positions 41..48 → block 3
    expect(Array.from(kv.blockTable(a)).slice(0, 3)).toEqual(table);
    const b = seq(range(40, 500));
    const free = kv.numFreeBlocks;
    expect(kv.allocateSlots(b, 40)).toBeNull();
    expect(kv.numFreeBlocks).toBe(free);
    expect(kv.hasBlocks(b)).toBe(false);
    expect(kv.checkInvariants()).toEqual([]);
    kv.free(a);
    expect(kv.numFreeBlocks).toBe(5);
  });

  it('frees tails first so a prefix outlives its tail in the LRU queue', () => {
    const kv = new KvCacheManager(10);
    const a = seq(range(48));
    kv.allocateSlots(a, 48);
    const table = Array.from(kv.blockTable(a));
    kv.free(a);
    const order = kv.pool.freeBlocksInOrder().map((b) => b.id);
    expect(order.slice(-3)).toEqual([...table].reverse());
  });

  it('caches full computed blocks and hits them for a sequence with the same prefix (never the last token)', () => {
    const kv = new KvCacheManager(20);
    const a = seq(range(50));
    kv.allocateSlots(a, 50);
    // Not cached before the step that computes them.
    expect(kv.getComputedBlocks(seq(range(50))).numComputedTokens).toBe(0);
    a.numComputedTokens = 50;
    kv.cacheComputedBlocks(a);
    expect(kv.pool.numCachedBlocks).toBe(3);
    const b = seq([...range(48), 7, 7, 7]);
    const hit = kv.getComputedBlocks(b);
    expect(hit.numComputedTokens).toBe(48);
    expect(hit.blocks.map((x) => x.id)).toEqual(Array.from(kv.blockTable(a)).slice(0, 3));
    // Exactly 48 tokens: only 32 can be reused, the last token must be computed.
    expect(kv.getComputedBlocks(seq(range(48))).numComputedTokens).toBe(32);
    // A difference inside block 1 stops the hit after block 0.
    const c = seq(range(50));
    c.tokenIds[20] = 999;
    expect(kv.getComputedBlocks(c).numComputedTokens).toBe(16);
    // Salt separates caches.
    expect(kv.getComputedBlocks(seq(range(50), 's')).numComputedTokens).toBe(0);
    // Adopting the hit shares the blocks.
    expect(kv.allocateSlots(b, 3, hit.blocks)).toEqual({ blockCopies: [], numNewBlocks: 1 });
    expect(hit.blocks.every((x) => x.refCount === 2)).toBe(true);
    expect(kv.checkInvariants()).toEqual([]);
  });

  it('reuses a freed cached block (taking it out of the free queue) until allocation evicts it', () => {
    const kv = new KvCacheManager(4); // 3 usable
    const a = seq(range(33));
    kv.allocateSlots(a, 33);
    a.numComputedTokens = 33;
    kv.cacheComputedBlocks(a);
    kv.free(a);
    expect(kv.numFreeBlocks).toBe(3);
    const b = seq(range(40));
    const hit = kv.getComputedBlocks(b);
    expect(hit.numComputedTokens).toBe(32);
    // Two free hits + one new block = all 3 free blocks.
    expect(kv.allocateSlots(b, 8, hit.blocks)!.numNewBlocks).toBe(1);
    expect(kv.numFreeBlocks).toBe(0);
    kv.free(b);
    // A different 48-token sequence needs all 3 blocks: the cache is evicted.
    const c = seq(range(48, 300));
    expect(kv.allocateSlots(c, 48)!.numNewBlocks).toBe(3);
    expect(kv.pool.numCachedBlocks).toBe(0);
    expect(kv.getComputedBlocks(seq(range(40))).numComputedTokens).toBe(0);
  });

  it('counts free cached hits against the free pool when deciding that allocation fails', () => {
    const kv = new KvCacheManager(4); // 3 usable
    const a = seq(range(33));
    kv.allocateSlots(a, 33);
    a.numComputedTokens = 33;
    kv.cacheComputedBlocks(a);
    kv.free(a);
    const b = seq(range(70));
    const hit = kv.getComputedBlocks(b); // 2 blocks, both free
    expect(kv.allocateSlots(b, 70 - 32, hit.blocks)).toBeNull(); // needs 5 blocks in all
    expect(kv.numFreeBlocks).toBe(3);
    expect(kv.checkInvariants()).toEqual([]);
  });

  it('forks share every block; the first writer into a shared partial block gets a copy', () => {
    const kv = new KvCacheManager(10);
    const parent = seq(range(20));
    kv.allocateSlots(parent, 20);
    parent.numComputedTokens = 20;
    const [full, partial] = Array.from(kv.blockTable(parent));
    const kids = [seq([...range(20), 1]), seq([...range(20), 2]), seq([...range(20), 3])];
    for (const k of kids) {
      kv.fork(parent, k);
      k.numComputedTokens = 20;
    }
    kv.free(parent);
    expect(kv.pool.blocks[partial].refCount).toBe(3);
    const first = kv.allocateSlots(kids[0], 1)!;
    expect(first.blockCopies).toHaveLength(1);
    expect(first.blockCopies[0][0]).toBe(partial);
    const copy = first.blockCopies[0][1];
    expect(Array.from(kv.blockTable(kids[0]))).toEqual([full, copy]);
    expect(kv.allocateSlots(kids[1], 1)!.blockCopies).toEqual([[partial, expect.any(Number)]]);
    // The last holder writes in place.
    expect(kv.allocateSlots(kids[2], 1)!.blockCopies).toEqual([]);
    expect(Array.from(kv.blockTable(kids[2]))).toEqual([full, partial]);
    expect(kv.pool.blocks[full].refCount).toBe(3);
    expect(kv.checkInvariants()).toEqual([]);
    kids.forEach((k) => kv.free(k));
    expect(kv.numFreeBlocks).toBe(kv.numUsableBlocks);
  });

  it('a copy-on-write that cannot get a block fails the allocation cleanly', () => {
    const kv = new KvCacheManager(3); // 2 usable
    const parent = seq(range(20));
    kv.allocateSlots(parent, 20);
    parent.numComputedTokens = 20;
    const kid = seq([...range(20), 5]);
    kv.fork(parent, kid);
    kid.numComputedTokens = 20;
    expect(kv.allocateSlots(kid, 1)).toBeNull();
    expect(kv.checkInvariants()).toEqual([]);
  });

  it('checkInvariants reports a ref count that tables do not explain', () => {
    const kv = new KvCacheManager(5);
    const a = seq(range(10));
    kv.allocateSlots(a, 10);
    kv.pool.blocks[kv.blockTable(a)[0]].refCount = 2;
    expect(kv.checkInvariants()[0]).toMatch(/refCount 2, named 1 times/);
  });
});
