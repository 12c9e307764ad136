// Continuous batching on the real WebGPU runner: 16 concurrent greedy requests with
// different prompts and lengths each get exactly the ids they get alone (stories260K and a
// generated qwen2-style model), and seeded sampling with n = 4 is reproducible. After each
// test every KV block is back in the pool.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import { makeTestModel } from '../helpers/test-model';
import { engineCore } from '../helpers/engine-core';

const STORIES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/stories260K/stories260K.gguf');

const WORDS = ['Lily', 'Tom', 'the dog', 'a big red ball', 'the park', 'her mom', 'a little bird', 'the sun', 'happy', 'sad'];

/** 16 different prompts of different lengths (1..12 words) and output lengths (2..4 tokens). */
function requests(): { prompt: string; maxTokens: number }[] {
  return Array.from({ length: 16 }, (_, i) => {
    const words = Array.from({ length: 1 + ((i * 5) % 12) }, (_, j) => WORDS[(i * 3 + j * 7) % WORDS.length]);
    return { prompt: `Once upon a time ${words.join(' ')}`, maxTokens: 2 + (i % 3) };
  });
}

async function greedyIds(engine: MultiEngine, prompt: string, maxTokens: number): Promise<number[]> {
  const r = await engine.completions.create({ prompt, max_tokens: maxTokens, temperature: 0, ignore_eos: true, return_token_ids: true });
  const choice = r.choices[0]!;
  expect(choice.finish_reason).toBe('length');
  return choice.token_ids!;
}

/** Each request alone, then all 16 at once: the ids must match request by request. */
async function checkBatchInvariance(engine: MultiEngine): Promise<void> {
  const reqs = requests();
  const alone: number[][] = [];
  for (const r of reqs) alone.push(await greedyIds(engine, r.prompt, r.maxTokens));
  alone.forEach((ids, i) => expect(ids).toHaveLength(reqs[i]!.maxTokens));
  // Not all the same: the prompts must actually steer the outputs for the check to mean anything.
  expect(new Set(alone.map((ids) => ids.join(','))).size).toBeGreaterThan(4);

  const core = engineCore(engine);
  let widest = 0;
  const poll = setInterval(() => (widest = Math.max(widest, core.stats().lastStepSequences)), 1);
  const together = await Promise.all(reqs.map((r) => greedyIds(engine, r.prompt, r.maxTokens)));
  clearInterval(poll);
  expect(together).toEqual(alone);
  // The 16 really ran in shared steps (prefill of all fits one 512-token step).
  expect(widest).toBeGreaterThanOrEqual(8);
  expect((await engine.stats()).kvBlocksUsed).toBe(0);
}

describe('engine batching on stories260K', () => {
  let engine: MultiEngine;
  beforeAll(async () => {
    engine = await createEngine({ model: STORIES, gpu: await createNodeGPU(), kvCacheBytes: 2 << 20, enablePrefixCaching: false });
  });
  afterAll(async () => engine?.destroy());

  it('16 concurrent greedy requests each produce the ids they produce alone', async () => {
    await checkBatchInvariance(engine);
  });

  it('n = 4 with a seed: the same four outputs on two runs, choice 0 = the n = 1 output', async () => {
    // 'Lily and Tom' leaves the story open enough that seeds 1234..1237 diverge within 8 tokens.
    const params = { prompt: 'Lily and Tom', max_tokens: 8, temperature: 0.8, seed: 1234, n: 4, ignore_eos: true, return_token_ids: true } as const;
    const first = await engine.completions.create(params);
    // A second run with other requests in the batch around it.
    const [second] = await Promise.all([
      engine.completions.create(params),
      engine.completions.create({ prompt: 'Tom had a dog', max_tokens: 6, temperature: 0.8, seed: 7, ignore_eos: true }),
    ]);
    const ids = (r: typeof first) => [...r.choices].sort((a, b) => a.index - b.index).map((c) => c.token_ids!);
    expect(ids(first)).toHaveLength(4);
    ids(first).forEach((c) => expect(c).toHaveLength(8));
    expect(ids(second)).toEqual(ids(first));
    // Seeds seed + i: the choices differ from each other at temperature 0.8.
    expect(new Set(ids(first).map((c) => c.join(','))).size).toBeGreaterThan(2);
    const single = await engine.completions.create({ ...params, n: 1 });
    expect(single.choices[0]!.token_ids).toEqual(ids(first)[0]);
    expect((await engine.stats()).kvBlocksUsed).toBe(0);
  });
});

describe('engine batching on a generated qwen2 model', () => {
  let engine: MultiEngine;
  beforeAll(async () => {
    const bytes = makeTestModel({ arch: 'qwen2', vocab: 512, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, quant: 'Q8_0', seed: 11 });
    engine = await createEngine({ model: bytes, gpu: await createNodeGPU(), kvCacheBytes: 1 << 20, enablePrefixCaching: false });
  });
  afterAll(async () => engine?.destroy());

  it('16 concurrent greedy requests each produce the ids they produce alone', async () => {
    await checkBatchInvariance(engine);
  });
});
