// The KV block pool: every block's ref count, the LRU free queue, and the prefix cache
// (block hash → cached full block). Block 0 is the null block: never handed out, so a
// runner may use it as padding in block tables.
//
// A free block may still be cached: it keeps its hash until allocation pops it from the
// front of the free queue ("evict from the LRU end only when allocating"); a prefix hit
// on it before then takes it back out of the queue (`touch`).

import type { ModelConfig } from '../../model/config';
import { KV_BLOCK_SIZE } from '../types';
import type { BlockHash } from './block-hash';
import { FreeBlockQueue } from './free-block-queue';
import { KvBlock } from './kv-block';

/**
 * Number of KV blocks that fit in `kvCacheBytes`: each block holds K and V for 16 tokens
 * of every layer, `2 · numLayers · 16 · numKvHeads · headDim · bytesPerElement` bytes.
 */
export function numBlocksForBudget(
  config: Pick<ModelConfig, 'numLayers' | 'numKvHeads' | 'headDim'>,
  kvCacheBytes: number,
  bytesPerElement = 4,
): number {
  const bytesPerBlock = 2 * config.numLayers * KV_BLOCK_SIZE * config.numKvHeads * config.headDim * bytesPerElement;
  return Math.floor(kvCacheBytes / bytesPerBlock);
}

export class BlockPool {
  readonly blocks: KvBlock[];
  readonly nullBlock: KvBlock;
  private readonly freeQueue: FreeBlockQueue;
  private readonly cached = new Map<BlockHash, KvBlock>();

  constructor(
    readonly numBlocks: number,
    readonly enableCaching = true,
  ) {
    if (!Number.isInteger(numBlocks) || numBlocks < 2) throw new Error(`BlockPool: need at least 2 blocks, got ${numBlocks}`);
    this.blocks = Array.from({ length: numBlocks }, (_, id) => new KvBlock(id));
    this.nullBlock = this.blocks[0];
    this.freeQueue = new FreeBlockQueue(this.blocks.slice(1));
  }

  /** Blocks that can ever be allocated (all but the null block). */
  get numUsableBlocks(): number {
    return this.numBlocks - 1;
  }

  /** Free blocks, cached or not: all of them can be allocated. */
  get numFreeBlocks(): number {
    return this.freeQueue.numFreeBlocks;
  }

  get numCachedBlocks(): number {
    return this.cached.size;
  }

  /** Free blocks front (evicted first) to back. */
  freeBlocksInOrder(): KvBlock[] {
    return this.freeQueue.toArray();
  }

  /**
   * Takes `count` blocks from the LRU end, evicting their cache entries; each comes back
   * with refCount 1. The caller checks `numFreeBlocks` first: running out here is a bug.
   */
  allocate(count: number): KvBlock[] {
    if (count > this.freeQueue.numFreeBlocks) {
      throw new Error(`BlockPool: asked for ${count} blocks with ${this.freeQueue.numFreeBlocks} free`);
    }
    const out: KvBlock[] = [];
    for (let i = 0; i < count; i++) {
      const block = this.freeQueue.popFront();
      this.evict(block);
      block.refCount = 1;
      out.push(block);
    }
    return out;
  }

  /** The cached block for this hash and identity, or null (a miss). Does not take a reference. */
  lookup(hash: BlockHash, parentHash: BlockHash | null, tokenIds: ArrayLike<number>, start: number, salt = -1): KvBlock | null {
    if (!this.enableCaching) return null;
    const block = this.cached.get(hash);
    return block !== undefined && block.matches(parentHash, tokenIds, start, salt) ? block : null;
  }

  /** Takes a reference on each block (prefix hits, forks); a free one leaves the free queue. */
  touch(blocks: Iterable<KvBlock>): void {
    for (const block of blocks) {
      if (block === this.nullBlock) continue;
      if (block.refCount === 0) this.freeQueue.remove(block);
      block.refCount++;
    }
  }

  /**
   * Drops one reference on each block; blocks reaching 0 go to the back of the free queue
   * in the order given, so pass a table's blocks tail first to have tails evicted first.
   */
  release(blocksInEvictionOrder: Iterable<KvBlock>): void {
    for (const block of blocksInEvictionOrder) {
      if (block === this.nullBlock) continue;
      if (block.refCount <= 0) throw new Error(`BlockPool: release of free block ${block.id}`);
      if (--block.refCount === 0) this.freeQueue.pushBack(block);
    }
  }

  /**
   * Puts a full block into the prefix cache. A block already cached keeps its entry; when
   * another block already holds this hash (two requests computed the same prefix at once),
   * this one stays uncached and is simply reused when freed.
   */
  cacheFullBlock(block: KvBlock, hash: BlockHash, parentHash: BlockHash | null, tokenIds: ArrayLike<number>, start: number, salt = -1): void {
    if (!this.enableCaching || block.hash !== null || this.cached.has(hash)) return;
    block.hash = hash;
    block.parentHash = parentHash;
    block.cachedSalt = salt;
    block.cachedTokenIds = Int32Array.from({ length: KV_BLOCK_SIZE }, (_, i) => tokenIds[start + i]);
    this.cached.set(hash, block);
  }

  /** Forgets every cached prefix (e.g. after a runner failure left the K/V contents unknown). */
  resetPrefixCache(): void {
    for (const block of this.cached.values()) this.clearCacheFields(block);
    this.cached.clear();
  }

  private evict(block: KvBlock): void {
    if (block.hash === null) return;
    if (this.cached.get(block.hash) === block) this.cached.delete(block.hash);
    this.clearCacheFields(block);
  }

  private clearCacheFields(block: KvBlock): void {
    block.hash = null;
    block.parentHash = null;
    block.cachedTokenIds = null;
    block.cachedSalt = -1;
  }
}
