// The KV cache manager: per-sequence block tables (append-only) over the block pool, with
// prefix caching and copy-on-write forks. Plain data; the scheduler drives it.
//
//   sequence tokens:  [ t0 … t15 | t16 … t31 | t32 … t37 · · · ]    numComputedTokens = 38
//   block table:      [   b4     |    b9     |     b2           ]    (b2 partially filled)
//   slot of token p:  table[p >> 4] * 16 + (p & 15)
//
// Full blocks are hashed (block-hash.ts) and put in the prefix cache once their K/V have
// been computed (`cacheComputedBlocks`, after the step that wrote them), so a hit never
// reads K/V that a step in flight is still writing.
//
// Sliding window (`slidingWindow`: every layer attends to the last W positions only): a
// token at position p reads p - W + 1 .. p, so once the sequence has computed n tokens no
// later step reads a position below n - W + 1. Blocks wholly below it are dropped: the
// table keeps the null block at their index (a runner never reads it) and the pool gets
// the block back, still cached — its K/V are those of its positions under its whole
// prefix (the hash chains every earlier token), so a hit can only adopt it at the same
// index, where it is right; a prefix hit's own blocks below the window are not adopted.
//
//   window 20, n = 50:  [ null | null | b9 | b2 ]   positions 31..49 are read; block 1 (16..31) stays

import type { ModelConfig } from '../../model/config';
import { KV_BLOCK_SIZE } from '../types';
import { hashBlock, type BlockHash } from './block-hash';
import { BlockPool } from './block-pool';
import type { KvBlock } from './kv-block';

/**
 * The window every layer of the model stays within, or undefined when some layer attends to
 * the whole context (gemma2/gemma3's global layers: their K/V of every position are read
 * to the end, and a block holds all layers' K/V, so nothing can be dropped).
 */
export function kvSlidingWindow(config: Pick<ModelConfig, 'slidingWindow'>): number | undefined {
  const w = config.slidingWindow;
  return w !== undefined && w.localLayers.length > 0 && w.localLayers.every(Boolean) ? w.size : undefined;
}

/** What the manager needs to know about a sequence. */
export interface KvSequence {
  readonly seqId: number;
  /** Every known token of the sequence: prompt, then output (append-only). */
  readonly tokenIds: readonly number[];
  /** Tokens whose K/V are in the sequence's blocks. */
  readonly numComputedTokens: number;
  /** `hashSalt(cacheSalt)`, or -1 for none. */
  readonly cacheSalt: number;
  /** Hashes of the sequence's full blocks, filled lazily by the manager (tokens never change). */
  readonly blockHashes: BlockHash[];
}

export interface ComputedBlocks {
  /** Cached blocks covering the sequence's first `numComputedTokens` tokens. */
  blocks: KvBlock[];
  numComputedTokens: number;
}

export interface SlotAllocation {
  /** Copy-on-write copies to run before the step: [src, dst] block ids. */
  blockCopies: Array<[number, number]>;
  numNewBlocks: number;
}

interface SequenceBlocks {
  /** [ceil(numComputed / 16)] the block table. */
  blocks: KvBlock[];
  /** Leading blocks already offered to the prefix cache. */
  numCachedBlocks: number;
  /** Leading entries that are the null block: dropped below the sliding window. */
  numDroppedBlocks: number;
}

export class KvCacheManager {
  readonly pool: BlockPool;
  private readonly tables = new Map<number, SequenceBlocks>();

  /**
   * `slidingWindow`: positions each token attends to (its own included) in every layer;
   * undefined when some layer attends to the whole context (then nothing is ever dropped).
   */
  constructor(numBlocks: number, enableCaching = true, readonly slidingWindow?: number) {
    if (slidingWindow !== undefined && !(Number.isInteger(slidingWindow) && slidingWindow > 0)) {
      throw new Error(`KvCacheManager: slidingWindow must be a positive integer, got ${slidingWindow}`);
    }
    this.pool = new BlockPool(numBlocks, enableCaching);
  }

  get numUsableBlocks(): number {
    return this.pool.numUsableBlocks;
  }

  get numFreeBlocks(): number {
    return this.pool.numFreeBlocks;
  }

  /** Blocks held by some block table. */
  get numUsedBlocks(): number {
    return this.pool.numUsableBlocks - this.pool.numFreeBlocks;
  }

  /**
   * Prefix-cache lookup for a sequence that holds no blocks yet: the longest run of cached
   * full blocks matching its tokens. At least one token is always left to compute, because
   * sampling needs the logits of the last one (so a 200-token shared prefix gives 192).
   */
  getComputedBlocks(seq: KvSequence): ComputedBlocks {
    if (!this.pool.enableCaching || this.tables.has(seq.seqId)) return { blocks: [], numComputedTokens: 0 };
    const maxBlocks = Math.floor((seq.tokenIds.length - 1) / KV_BLOCK_SIZE);
    this.ensureHashes(seq, maxBlocks);
    const blocks: KvBlock[] = [];
    for (let i = 0; i < maxBlocks; i++) {
      const parent = i === 0 ? null : seq.blockHashes[i - 1];
      const block = this.pool.lookup(seq.blockHashes[i], parent, seq.tokenIds, i * KV_BLOCK_SIZE, seq.cacheSalt);
      if (block === null) break;
      blocks.push(block);
    }
    return { blocks, numComputedTokens: blocks.length * KV_BLOCK_SIZE };
  }

  /**
   * Makes room for `numNewTokens` more tokens after the sequence's computed ones (and after
   * `hitBlocks`, a prefix hit from `getComputedBlocks`, which this adopts — those inside the
   * window). Returns null when the pool cannot supply the blocks; the only change then is
   * the dropping of blocks below the window, which no later step reads.
   */
  allocateSlots(seq: KvSequence, numNewTokens: number, hitBlocks: readonly KvBlock[] = []): SlotAllocation | null {
    const state = this.tables.get(seq.seqId) ?? { blocks: [], numCachedBlocks: 0, numDroppedBlocks: 0 };
    if (hitBlocks.length > 0 && state.blocks.length > 0) throw new Error('allocateSlots: prefix hit for a sequence that holds blocks');
    const writeStart = seq.numComputedTokens + hitBlocks.length * KV_BLOCK_SIZE;
    // Blocks no step will read again: dropped now (their K/V stay valid, so this is no
    // change a null return has to undo), and a hit's blocks there are not adopted.
    const numOutOfWindow = this.numBlocksBelowWindow(writeStart);
    if (state.blocks.length > 0) this.dropBlocksBelow(seq, state, numOutOfWindow);
    const computedBlocks = hitBlocks.map((b, i) => (i < numOutOfWindow ? this.pool.nullBlock : b));
    const numRequired = Math.ceil((writeStart + numNewTokens) / KV_BLOCK_SIZE);
    const numNewBlocks = Math.max(0, numRequired - state.blocks.length - computedBlocks.length);

    // Copy-on-write: the first slot written sits in a partially filled block that a fork shares.
    const writeBlock = Math.floor(writeStart / KV_BLOCK_SIZE);
    const needsCopy =
      numNewTokens > 0 && writeStart % KV_BLOCK_SIZE !== 0 && writeBlock < state.blocks.length && state.blocks[writeBlock].refCount > 1;

    // Hits on free cached blocks take those blocks out of the free queue too.
    const numFreeHits = computedBlocks.filter((b) => b.refCount === 0).length;
    if (numNewBlocks + (needsCopy ? 1 : 0) > this.pool.numFreeBlocks - numFreeHits) return null;

    this.pool.touch(computedBlocks);
    state.blocks.push(...computedBlocks);
    state.numCachedBlocks += computedBlocks.length;
    if (hitBlocks.length > 0) state.numDroppedBlocks = Math.min(numOutOfWindow, hitBlocks.length);
    const blockCopies: Array<[number, number]> = [];
    if (needsCopy) {
      const src = state.blocks[writeBlock];
      const [dst] = this.pool.allocate(1);
      this.pool.release([src]);
      state.blocks[writeBlock] = dst;
      blockCopies.push([src.id, dst.id]);
    }
    state.blocks.push(...this.pool.allocate(numNewBlocks));
    this.tables.set(seq.seqId, state);
    return { blockCopies, numNewBlocks };
  }

  /** Offers the sequence's full, computed blocks to the prefix cache (call after each step). */
  cacheComputedBlocks(seq: KvSequence): void {
    const state = this.tables.get(seq.seqId);
    if (state === undefined || !this.pool.enableCaching) return;
    const numFull = Math.min(Math.floor(seq.numComputedTokens / KV_BLOCK_SIZE), state.blocks.length);
    if (numFull <= state.numCachedBlocks) return;
    this.ensureHashes(seq, numFull);
    for (let i = state.numCachedBlocks; i < numFull; i++) {
      if (i < state.numDroppedBlocks) continue; // dropped before it could be offered (its hash is still chained)
      const parent = i === 0 ? null : seq.blockHashes[i - 1];
      this.pool.cacheFullBlock(state.blocks[i], seq.blockHashes[i], parent, seq.tokenIds, i * KV_BLOCK_SIZE, seq.cacheSalt);
    }
    state.numCachedBlocks = numFull;
  }

  /**
   * `child` shares all of `parent`'s blocks (one more reference each). A shared partially
   * filled last block is copied by whichever sequence writes to it first (`allocateSlots`).
   */
  fork(parent: KvSequence, child: KvSequence): void {
    const state = this.tables.get(parent.seqId);
    if (this.tables.has(child.seqId)) throw new Error(`fork: sequence ${child.seqId} already holds blocks`);
    const blocks = state === undefined ? [] : [...state.blocks];
    this.pool.touch(blocks);
    this.tables.set(child.seqId, { blocks, numCachedBlocks: state?.numCachedBlocks ?? 0, numDroppedBlocks: state?.numDroppedBlocks ?? 0 });
  }

  /** Releases the sequence's blocks, tail first, so its tail is evicted before its prefix. */
  free(seq: KvSequence): void {
    const state = this.tables.get(seq.seqId);
    if (state === undefined) return;
    this.tables.delete(seq.seqId);
    this.pool.release([...state.blocks].reverse());
  }

  hasBlocks(seq: KvSequence): boolean {
    return this.tables.has(seq.seqId);
  }

  /** [numBlocks] the sequence's block ids. */
  blockTable(seq: KvSequence): Int32Array {
    const state = this.tables.get(seq.seqId);
    return state === undefined ? new Int32Array(0) : Int32Array.from(state.blocks, (b) => b.id);
  }

  /**
   * PagedAttention's waste measure over `seqs`: slots of their (distinct) blocks, and how
   * many of those hold a computed token. Only each sequence's last block should be partly empty.
   */
  slotUsage(seqs: Iterable<KvSequence>): { filledSlots: number; allocatedSlots: number } {
    const filled = new Map<number, number>(); // block id → slots filled
    for (const seq of seqs) {
      const state = this.tables.get(seq.seqId);
      if (state === undefined) continue;
      state.blocks.forEach((block, i) => {
        if (block === this.pool.nullBlock) return; // dropped below the window: holds nothing
        const n = Math.max(0, Math.min(KV_BLOCK_SIZE, seq.numComputedTokens - i * KV_BLOCK_SIZE));
        filled.set(block.id, Math.max(filled.get(block.id) ?? 0, n));
      });
    }
    let filledSlots = 0;
    for (const n of filled.values()) filledSlots += n;
    return { filledSlots, allocatedSlots: filled.size * KV_BLOCK_SIZE };
  }

  /** Sequences holding blocks. */
  get numSequences(): number {
    return this.tables.size;
  }

  /**
   * Every block is either free (refCount 0, in the free queue) or referenced exactly as
   * many times as block tables name it. Returns the violations (empty when consistent).
   */
  checkInvariants(): string[] {
    const problems: string[] = [];
    const named = new Map<number, number>();
    for (const [seqId, state] of this.tables) {
      state.blocks.forEach((block, i) => {
        const dropped = i < state.numDroppedBlocks;
        if (dropped !== (block === this.pool.nullBlock)) {
          problems.push(`sequence ${seqId}: block table entry ${i} is ${block.id}, ${dropped ? 'dropped below the window' : 'inside the window'}`);
        }
        if (block !== this.pool.nullBlock) named.set(block.id, (named.get(block.id) ?? 0) + 1);
      });
    }
    const free = new Set(this.pool.freeBlocksInOrder().map((b) => b.id));
    for (const block of this.pool.blocks.slice(1)) {
      const n = named.get(block.id) ?? 0;
      if (block.refCount !== n) problems.push(`block ${block.id}: refCount ${block.refCount}, named ${n} times`);
      if ((block.refCount === 0) !== free.has(block.id)) problems.push(`block ${block.id}: refCount ${block.refCount}, in free queue ${free.has(block.id)}`);
    }
    if (free.has(0)) problems.push('the null block is in the free queue');
    if (free.size !== this.pool.numFreeBlocks) problems.push(`free queue holds ${free.size}, count says ${this.pool.numFreeBlocks}`);
    return problems;
  }

  /** Leading blocks whose positions all lie below the window of a token written at `writeStart`. */
  private numBlocksBelowWindow(writeStart: number): number {
    if (this.slidingWindow === undefined) return 0;
    const firstReadPosition = Math.max(0, writeStart - this.slidingWindow + 1);
    return Math.floor(firstReadPosition / KV_BLOCK_SIZE);
  }

  /**
   * Releases the table's blocks below index `count` (tail first, like free), leaving the
   * null block in their place. Full computed blocks are offered to the prefix cache first,
   * so dropping never loses a prefix another request could share.
   */
  private dropBlocksBelow(seq: KvSequence, state: SequenceBlocks, count: number): void {
    if (count <= state.numDroppedBlocks) return;
    this.cacheComputedBlocks(seq);
    const dropped = state.blocks.slice(state.numDroppedBlocks, count);
    for (let i = state.numDroppedBlocks; i < count; i++) state.blocks[i] = this.pool.nullBlock;
    state.numDroppedBlocks = count;
    this.pool.release(dropped.reverse());
  }

  private ensureHashes(seq: KvSequence, numBlocks: number): void {
    const hashes = seq.blockHashes;
    for (let i = hashes.length; i < numBlocks; i++) {
      const parent = i === 0 ? null : hashes[i - 1];
      const salt = i === 0 && seq.cacheSalt !== -1 ? seq.cacheSalt : undefined;
      hashes.push(hashBlock(parent, seq.tokenIds, i * KV_BLOCK_SIZE, (i + 1) * KV_BLOCK_SIZE, salt));
    }
  }
}
