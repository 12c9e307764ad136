// Prefix-cache identity of a full KV block: a hash of (parent block's hash, the block's
// 16 token ids, and — on the first block only — an optional cache salt), so a block's hash
// names its whole prefix.
//
// The hash is two independent 32-bit murmur3-style lanes folded into a 53-bit integer
// (a plain JS number: Map keys stay cheap). It is not cryptographic, so the pool never
// trusts it alone: a hit also compares the block's token ids and its parent's hash
// (`KvBlock.matches`). A false hit would need two different prefixes whose parent hashes
// collide in 53 bits *and* whose last blocks hold the same tokens.

export type BlockHash = number;

const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_21 = 0x20_0000;

function mixLane(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finalizeLane(h: number, length: number): number {
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of a string (the cache salt), so it can be mixed in like a token id. */
export function hashSalt(salt: string): number {
  let h = 0x2545f491;
  for (let i = 0; i < salt.length; i++) h = mixLane(h, salt.charCodeAt(i));
  return finalizeLane(h, salt.length);
}

/**
 * Hash of the block holding `tokenIds[start..end)` whose parent block hashed to `parent`
 * (null for the first block). `salt` (from `hashSalt`) separates caches of e.g. different users.
 */
export function hashBlock(
  parent: BlockHash | null,
  tokenIds: ArrayLike<number>,
  start: number,
  end: number,
  salt?: number,
): BlockHash {
  let a = 0x9e3779b9 | 0;
  let b = 0x7f4a7c15 | 0;
  // A parent marker keeps "no parent" distinct from a parent whose hash is 0.
  const parentLo = parent === null ? 0 : parent >>> 0;
  const parentHi = parent === null ? 0 : Math.floor(parent / TWO_POW_32);
  const header = [parent === null ? 1 : 2, parentLo, parentHi, salt === undefined ? 0 : 1, salt ?? 0];
  for (const word of header) {
    a = mixLane(a, word);
    b = mixLane(b, word ^ 0x5bd1e995);
  }
  for (let i = start; i < end; i++) {
    const t = tokenIds[i];
    a = mixLane(a, t);
    b = mixLane(b, Math.imul(t, 0x27d4eb2d) ^ (i - start));
  }
  const hiLane = finalizeLane(a, end - start);
  const loLane = finalizeLane(b, end - start);
  // 32 + 21 bits = 53: exactly representable as a double.
  return hiLane * TWO_POW_21 + (loLane >>> 11);
}
