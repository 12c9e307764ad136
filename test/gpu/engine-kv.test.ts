// The paged KV cache under the real WebGPU runner (stories260K):
//  - preemption: a pool of a few blocks and four concurrent requests force the scheduler to
//    preempt and recompute; every request still ends with the ids it gets on a large pool;
//  - prefix caching: a second request sharing a 200-token prefix reports 192 cached tokens
//    (the 12 full 16-token blocks) and produces the ids it produces with caching off.
// After each test every KV block is back in the pool.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createEngine, type CreateEngineOptions } from '../../src/create-engine';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { createNodeGPU } from '../../src/gpu/node-gpu';

const STORIES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/stories260K/stories260K.gguf');
/** stories260K: 2 (K, V) × 5 layers × 16 slots × 4 KV heads × 8 dims × 4 bytes (f32 KV on SwiftShader). */
const STORIES_BYTES_PER_BLOCK = 2 * 5 * 16 * 32 * 4;

async function open(options: Partial<CreateEngineOptions>): Promise<MultiEngine> {
  return createEngine({ model: STORIES, gpu: await createNodeGPU(), kvCacheBytes: 2 << 20, ...options });
}

async function complete(engine: MultiEngine, prompt: string, maxTokens: number) {
  const r = await engine.completions.create({ prompt, max_tokens: maxTokens, temperature: 0, ignore_eos: true, return_token_ids: true });
  expect(r.choices[0]!.finish_reason).toBe('length');
  return { ids: r.choices[0]!.token_ids!, usage: r.usage! };
}

describe('preemption on a tiny KV pool', () => {
  it('four concurrent requests that do not fit together finish with the ids of an unconstrained run', async () => {
    // Each request: ~5 prompt tokens + 20 output = 2 blocks; four need 8, the pool has 4.
    const prompts = ['Lily saw a cat', 'Tom ran to the park', 'The sun was hot', 'Once upon a time'];
    const maxTokens = 20;
    const large = await open({});
    let expected: number[][];
    try {
      expected = (await Promise.all(prompts.map((p) => complete(large, p, maxTokens)))).map((r) => r.ids);
      expect((await large.stats()).numPreemptions).toBe(0);
    } finally {
      await large.destroy();
    }

    // 5 blocks in the pool, one of them the null block: 4 usable (64 slots).
    const tiny = await open({ kvCacheBytes: 5 * STORIES_BYTES_PER_BLOCK });
    try {
      expect((await tiny.stats()).kvBlocksTotal).toBe(4);
      const got = (await Promise.all(prompts.map((p) => complete(tiny, p, maxTokens)))).map((r) => r.ids);
      expect((await tiny.stats()).numPreemptions).toBeGreaterThan(0);
      expect(got).toEqual(expected);
      expect((await tiny.stats()).kvBlocksUsed).toBe(0);
    } finally {
      await tiny.destroy();
    }
  });
});

describe('prefix caching', () => {
  it('a second request sharing a 200-token prefix reports 192 cached tokens and the uncached output', async () => {
    const cached = await open({ enablePrefixCaching: true });
    const uncached = await open({ enablePrefixCaching: false });
    try {
      // A story header long enough to tokenize to 200+ tokens; two different endings.
      const sentences = ['Lily went to the park with her mom.', 'She saw a big red ball.', 'Tom came to play with her.', 'They were very happy.'];
      let header = 'Once upon a time';
      let headerIds = (await cached.tokenize({ prompt: header })).tokens;
      for (let i = 0; headerIds.length < 200; i++) {
        const next = `${header} ${sentences[i % sentences.length]}`;
        const nextIds = (await cached.tokenize({ prompt: next })).tokens;
        // Stop at the exact 200th token when a sentence would overshoot: cut on a word boundary.
        if (nextIds.length > 200) {
          for (const word of sentences[i % sentences.length]!.split(' ')) {
            const longer = `${header} ${word}`;
            const ids = (await cached.tokenize({ prompt: longer })).tokens;
            if (ids.length > 200) break;
            header = longer;
            headerIds = ids;
          }
          break;
        }
        header = next;
        headerIds = nextIds;
      }
      const first = `${header} Tom was sad.`;
      const second = `${header} The dog ran away.`;
      const [a, b] = [(await cached.tokenize({ prompt: first })).tokens, (await cached.tokenize({ prompt: second })).tokens];
      let shared = 0;
      while (a[shared] === b[shared]) shared++;
      // The two prompts share 200 tokens (BOS included), give or take the last word's merge.
      expect(shared).toBeGreaterThanOrEqual(192);
      expect(shared).toBeLessThan(208);

      const firstRun = await complete(cached, first, 4);
      expect(firstRun.usage.prompt_tokens_details.cached_tokens).toBe(0);
      const secondRun = await complete(cached, second, 8);
      expect(secondRun.usage.prompt_tokens).toBe(b.length);
      expect(secondRun.usage.prompt_tokens_details.cached_tokens).toBe(192);
      expect((await cached.stats()).prefixCacheHitRate).toBeGreaterThan(0);

      const reference = await complete(uncached, second, 8);
      expect(reference.usage.prompt_tokens_details.cached_tokens).toBe(0);
      expect(secondRun.ids).toEqual(reference.ids);
      expect((await cached.stats()).kvBlocksUsed).toBe(0);
      expect((await uncached.stats()).kvBlocksUsed).toBe(0);
    } finally {
      await cached.destroy();
      await uncached.destroy();
    }
  });
});
