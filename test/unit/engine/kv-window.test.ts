// Sliding window in the paged KV cache: a sequence longer than the window keeps only the
// blocks its window reads (KvCacheManager stats), dropped blocks stay in the prefix cache
// and are only ever hit at their own index, and the engine over a windowed fake model
// (every layer attends to the last W positions) generates what that model generates, with
// several sequences sharing a pool too small to hold their whole contexts.
import { describe, expect, it } from 'vitest';
import { KvCacheManager, kvSlidingWindow, type KvSequence } from '../../../src/engine/kv/kv-cache-manager';
import { KV_BLOCK_SIZE } from '../../../src/engine/types';
import { fakeNextToken } from '../../../src/testing/fake-runner';
import { collect, makeEngine, makePrompt, VOCAB } from './helpers';

let nextId = 1;
function seq(tokenIds: number[]): KvSequence & { numComputedTokens: number; tokenIds: number[] } {
  return { seqId: nextId++, tokenIds, numComputedTokens: 0, cacheSalt: -1, blockHashes: [] };
}
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

/** Blocks a sequence about to write position `writeStart` needs under window `w`: from the window's first block to the write block. */
const blocksInWindow = (writeStart: number, w: number) =>
  Math.floor(writeStart / KV_BLOCK_SIZE) - Math.floor(Math.max(0, writeStart - w + 1) / KV_BLOCK_SIZE) + 1;

/** Runs `s` one token per step (prefill of `prompt` tokens first) to `total` tokens, checking the table after each allocation. */
function decode(kv: KvCacheManager, s: ReturnType<typeof seq>, total: number, onStep: (writeStart: number) => void) {
  while (s.numComputedTokens < total) {
    const n = s.numComputedTokens === 0 ? Math.min(s.tokenIds.length, total) : 1;
    if (s.tokenIds.length < s.numComputedTokens + n) s.tokenIds.push((s.numComputedTokens * 7) % 50);
    expect(kv.allocateSlots(s, n)).not.toBeNull();
    onStep(s.numComputedTokens + n - 1);
    s.numComputedTokens += n;
    kv.cacheComputedBlocks(s);
    expect(kv.checkInvariants()).toEqual([]);
  }
}

describe('kvSlidingWindow', () => {
  const window = (localLayers: boolean[]) => ({ slidingWindow: { size: 512, localLayers, ropeTheta: 1e4, ropeScaled: false } });
  it('is the window size only when every layer is local (a global layer reads every position)', () => {
    expect(kvSlidingWindow(window([true, true, true]))).toBe(512);
    expect(kvSlidingWindow(window([true, false, true]))).toBeUndefined(); // gemma2 / gemma3 patterns
    expect(kvSlidingWindow({})).toBeUndefined();
  });
});

describe('KvCacheManager with a sliding window', () => {
  it('a sequence longer than the window keeps only its window blocks', () => {
    const W = 20;
    const kv = new KvCacheManager(64, true, W);
    const s = seq(range(10));
    decode(kv, s, 150, (lastWritten) => {
      // While a step runs, the blocks from the first query's window to the last written position are held.
      expect(kv.numUsedBlocks).toBeLessThanOrEqual(blocksInWindow(lastWritten, W) + 1);
    });
    // After the last step, the next allocation drops down to the window of position 150.
    s.tokenIds.push(1);
    kv.allocateSlots(s, 1);
    expect(kv.numUsedBlocks).toBe(blocksInWindow(150, W));
    const table = Array.from(kv.blockTable(s));
    expect(table).toHaveLength(Math.ceil(151 / KV_BLOCK_SIZE));
    const firstKept = Math.floor((150 - W + 1) / KV_BLOCK_SIZE);
    expect(table.slice(0, firstKept).every((id) => id === 0)).toBe(true); // the null block below the window
    expect(table.slice(firstKept).every((id) => id > 0)).toBe(true);
    kv.free(s);
    expect(kv.numFreeBlocks).toBe(kv.numUsableBlocks);
    expect(kv.checkInvariants()).toEqual([]);
  });

  it('without a window the same sequence holds every block', () => {
    const kv = new KvCacheManager(64, true);
    const s = seq(range(10));
    decode(kv, s, 150, () => {});
    expect(kv.numUsedBlocks).toBe(Math.ceil(150 / KV_BLOCK_SIZE));
  });

  it('dropped blocks stay cached and a later request with that prefix hits them at their own index only', () => {
    const W = 20;
    const kv = new KvCacheManager(64, true, W);
    const a = seq(range(70));
    decode(kv, a, 70, () => {});
    a.tokenIds.push(3);
    kv.allocateSlots(a, 1); // drops blocks 0..2 (positions 0..47; the window of 70 starts at 51)
    expect(Array.from(kv.blockTable(a)).slice(0, 3)).toEqual([0, 0, 0]);
    expect(kv.pool.numCachedBlocks).toBe(4); // blocks 0..3 are full and cached, dropped or not

    // Same first 64 tokens: the whole prefix is a hit, and b's window (from position 64 - 20 + 1 = 45)
    // adopts only the blocks it reads — index 2 (32..47) and 3 (48..63) — the null block below.
    const b = seq([...range(64), 900, 901]);
    const hit = kv.getComputedBlocks(b);
    expect(hit.numComputedTokens).toBe(64);
    expect(kv.allocateSlots(b, 2, hit.blocks)).not.toBeNull();
    const bTable = Array.from(kv.blockTable(b));
    expect(bTable.slice(0, 2)).toEqual([0, 0]);
    expect(bTable.slice(2, 4)).toEqual(hit.blocks.slice(2, 4).map((x) => x.id));
    expect(kv.checkInvariants()).toEqual([]);

    // a's block 1 holds tokens 16..31 after tokens 0..15. The same 16 tokens at position 0
    // (a different prefix, so different K/V) must not hit it.
    const c = seq([...range(16, 16), 5, 5]);
    expect(kv.getComputedBlocks(c).numComputedTokens).toBe(0);
  });

  it('a fork shares the kept blocks; the null entries stay null and free() returns everything', () => {
    const kv = new KvCacheManager(32, true, 20);
    const a = seq(range(50));
    decode(kv, a, 50, () => {});
    a.tokenIds.push(1);
    kv.allocateSlots(a, 1);
    const child = seq([...a.tokenIds]);
    child.numComputedTokens = a.numComputedTokens;
    kv.fork(a, child);
    expect(Array.from(kv.blockTable(child))).toEqual(Array.from(kv.blockTable(a)));
    expect(kv.checkInvariants()).toEqual([]);
    kv.free(a);
    kv.free(child);
    expect(kv.numFreeBlocks).toBe(kv.numUsableBlocks);
    expect(kv.checkInvariants()).toEqual([]);
  });
});

/** The windowed fake model's greedy ids: each next token hashes the last W tokens. */
function windowedReference(prompt: readonly number[], maxTokens: number, W: number): number[] {
  const tokens = [...prompt];
  const out: number[] = [];
  for (let k = 0; k < maxTokens; k++) {
    const t = fakeNextToken(tokens.slice(Math.max(0, tokens.length - W)), VOCAB);
    out.push(t);
    tokens.push(t);
  }
  return out;
}

describe('EngineCore over a windowed model', () => {
  it('generates the windowed model ids for 4 concurrent sequences in a pool too small for their full contexts', async () => {
    const W = 24;
    // 4 sequences of 40 + 120 tokens would need 4 * 10 = 40 blocks in full; 15 usable hold their windows.
    const { core, runner } = makeEngine({ slidingWindow: W, numKvBlocks: 16 }, { maxBatchTokens: 64 });
    const prompts = [0, 1, 2, 3].map((i) => makePrompt(40, 50 + i));
    const outs = await Promise.all(prompts.map((p) => collect(core.addRequest({ promptIds: p, maxTokens: 120 }))));
    outs.forEach((out, i) => expect(out.ids[0]).toEqual(windowedReference(prompts[i], 120, W)));
    // Some step ran all four at once past 100 tokens each: their full contexts (4 x 7 blocks) could never have fit in 15.
    expect(runner.inputs.some((input) => input.sequences.length === 4 && input.sequences.every((s) => s.contextLength > 100))).toBe(true);
    expect(core.kv.numFreeBlocks).toBe(core.kv.numUsableBlocks);
    expect(core.kv.checkInvariants()).toEqual([]);
  });

  it('a windowed model without dropping (a pool that holds everything) gives the same ids', async () => {
    const W = 24;
    const { core } = makeEngine({ slidingWindow: W, numKvBlocks: 64 });
    const prompt = makePrompt(40, 7);
    const out = await collect(core.addRequest({ promptIds: prompt, maxTokens: 60 }));
    expect(out.ids[0]).toEqual(windowedReference(prompt, 60, W));
  });
});
