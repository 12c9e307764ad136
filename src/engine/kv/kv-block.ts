// One KV block's bookkeeping (the K/V data itself lives on the GPU, in the runner's pool).

import type { BlockHash } from './block-hash';
import { KV_BLOCK_SIZE } from '../types';

export class KvBlock {
  /** Sequences whose block tables name this block. 0 = free (in the free queue). */
  refCount = 0;
  /** Set while this full block is in the prefix cache. */
  hash: BlockHash | null = null;
  /** Prefix-cache identity checked on every hit (the hash alone is not trusted). */
  parentHash: BlockHash | null = null;
  /** [KV_BLOCK_SIZE] the token ids whose K/V this block holds, while cached. */
  cachedTokenIds: Int32Array | null = null;
  /** `hashSalt` of the cache salt of the request that filled it; -1 = no salt. */
  cachedSalt = -1;
  /** Free-queue links; both null while the block is not in the queue. */
  prevFree: KvBlock | null = null;
  nextFree: KvBlock | null = null;

  constructor(readonly id: number) {}

  /** True when this cached block holds `tokenIds[start..start+16)` after a parent hashed `parentHash`. */
  matches(parentHash: BlockHash | null, tokenIds: ArrayLike<number>, start: number, salt = -1): boolean {
    const cached = this.cachedTokenIds;
    if (cached === null || this.parentHash !== parentHash || this.cachedSalt !== salt) return false;
    for (let i = 0; i < KV_BLOCK_SIZE; i++) if (cached[i] !== tokenIds[start + i]) return false;
    return true;
  }
}
