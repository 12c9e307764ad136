// Pointer-level tests of the free block queue and the block pool's LRU / ref-count rules.
import { describe, expect, it } from 'vitest';
import { FreeBlockQueue } from '../../../src/engine/kv/free-block-queue';
import { KvBlock } from '../../../src/engine/kv/kv-block';
import { BlockPool, numBlocksForBudget } from '../../../src/engine/kv/block-pool';
import { hashBlock } from '../../../src/engine/kv/block-hash';

const ids = (q: FreeBlockQueue) => q.toArray().map((b) => b.id);

describe('FreeBlockQueue', () => {
  it('links blocks in order and keeps prev/next pointers consistent', () => {
    const blocks = [0, 1, 2, 3].map((i) => new KvBlock(i));
    const q = new FreeBlockQueue(blocks);
    expect(ids(q)).toEqual([0, 1, 2, 3]);
    expect(q.numFreeBlocks).toBe(4);
    expect(blocks[1].prevFree).toBe(blocks[0]);
    expect(blocks[1].nextFree).toBe(blocks[2]);
    expect(blocks[0].prevFree!.id).toBe(-1); // head sentinel
    expect(blocks[3].nextFree!.id).toBe(-2); // tail sentinel
  });

  it('removes from the middle, front and back in O(1) and relinks neighbours', () => {
    const blocks = [0, 1, 2, 3, 4].map((i) => new KvBlock(i));
    const q = new FreeBlockQueue(blocks);
    q.remove(blocks[2]);
    expect(blocks[2].prevFree).toBeNull();
    expect(blocks[2].nextFree).toBeNull();
    expect(blocks[1].nextFree).toBe(blocks[3]);
    expect(blocks[3].prevFree).toBe(blocks[1]);
    expect(q.popFront()).toBe(blocks[0]);
    q.remove(blocks[4]);
    expect(ids(q)).toEqual([1, 3]);
    expect(q.numFreeBlocks).toBe(2);
    q.pushBack(blocks[2]);
    q.pushBack(blocks[0]);
    expect(ids(q)).toEqual([1, 3, 2, 0]);
    expect(blocks[0].prevFree).toBe(blocks[2]);
  });

  it('rejects double insertion, removal of a non-member and popping an empty queue', () => {
    const a = new KvBlock(7);
    const q = new FreeBlockQueue([a]);
    expect(() => q.pushBack(a)).toThrow(/already in the queue/);
    expect(q.popFront()).toBe(a);
    expect(() => q.remove(a)).toThrow(/not in the queue/);
    expect(() => q.popFront()).toThrow(/empty/);
    expect(q.numFreeBlocks).toBe(0);
  });
});

describe('BlockPool', () => {
  it('sizes the pool from a byte budget', () => {
    // 2 (K,V) · 8 layers · 16 tokens · 4 kv heads · 64 dims · 4 bytes = 262144 bytes per block
    const cfg = { numLayers: 8, numKvHeads: 4, headDim: 64 };
    expect(numBlocksForBudget(cfg, 262144 * 100)).toBe(100);
    expect(numBlocksForBudget(cfg, 262144 * 100 - 1)).toBe(99);
    expect(numBlocksForBudget(cfg, 262144 * 100, 2)).toBe(200);
  });

  it('reserves block 0 as the null block and never hands it out', () => {
    const pool = new BlockPool(4);
    expect(pool.numUsableBlocks).toBe(3);
    const got = pool.allocate(3).map((b) => b.id);
    expect(got).toEqual([1, 2, 3]);
    expect(pool.numFreeBlocks).toBe(0);
    expect(() => pool.allocate(1)).toThrow();
    expect(() => new BlockPool(1)).toThrow();
  });

  it('counts references and frees in the given order, evicting cached blocks only when allocating', () => {
    const pool = new BlockPool(5);
    const [a, b, c] = pool.allocate(3);
    const tokens = Array.from({ length: 16 }, (_, i) => i + 100);
    const h = hashBlock(null, tokens, 0, 16);
    pool.cacheFullBlock(a, h, null, tokens, 0);
    pool.touch([a]);
    expect(a.refCount).toBe(2);
    pool.release([a]);
    expect(a.refCount).toBe(1);
    pool.release([c, b, a]); // tail first
    expect(pool.freeBlocksInOrder().map((x) => x.id)).toEqual([4, 3, 2, 1]);
    // Freed but still cached: a lookup finds it, and touching takes it out of the queue.
    expect(pool.lookup(h, null, tokens, 0)).toBe(a);
    pool.touch([a]);
    expect(pool.numFreeBlocks).toBe(3);
    pool.release([a]);
    // Allocating everything pops the LRU end first and evicts a's cache entry at last.
    const all = pool.allocate(4).map((x) => x.id);
    expect(all).toEqual([4, 3, 2, 1]);
    expect(pool.lookup(h, null, tokens, 0)).toBeNull();
    expect(a.hash).toBeNull();
    expect(() => pool.release([pool.blocks[1], pool.blocks[1]])).toThrow(/free block/);
  });

  it('guards hash hits by token ids, parent hash and salt', () => {
    const pool = new BlockPool(3);
    const [a] = pool.allocate(1);
    const tokens = Array.from({ length: 16 }, (_, i) => i);
    pool.cacheFullBlock(a, 42, null, tokens, 0, 7);
    expect(pool.lookup(42, null, tokens, 0, 7)).toBe(a);
    const other = [...tokens];
    other[15] = 99;
    expect(pool.lookup(42, null, other, 0, 7)).toBeNull(); // forced collision: same hash, other tokens
    expect(pool.lookup(42, 5, tokens, 0, 7)).toBeNull();
    expect(pool.lookup(42, null, tokens, 0)).toBeNull();
    expect(hashBlock(null, tokens, 0, 16)).not.toBe(hashBlock(null, tokens, 0, 16, 7));
    expect(hashBlock(null, tokens, 0, 16)).not.toBe(hashBlock(hashBlock(null, tokens, 0, 16), tokens, 0, 16));
    expect(Number.isSafeInteger(hashBlock(null, other, 0, 16))).toBe(true);
  });
});
