// The improvement over WebLLM: concurrent chat.completions.create calls on one engine are
// batched by the engine core, not serialized behind a per-model lock. Each step of the fake
// runner takes `STEP_MS`, so wall time counts steps: four batched requests take about as many
// steps as one, four sequential ones four times as many. Outputs must not depend on batching.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMLCEngine, type MLCEngine } from '../../../src/compat/webllm';
import { MODEL_ID, startFixture, type Fixture } from './fixture';

const STEP_MS = 8;
const PROMPTS = ['Name a color.', 'Count to three, please.', 'What is a cat?', 'Write one word.'];

let fx: Fixture;
let engine: MLCEngine;
beforeAll(async () => {
  fx = await startFixture();
  fx.setReplyLength(16);
  engine = await CreateMLCEngine(MODEL_ID, fx.engineConfig);
});
afterAll(async () => {
  await engine.unload();
  await fx.close();
});

const ask = (content: string) => engine.chat.completions.create({ messages: [{ role: 'user', content }], temperature: 0 });

describe('concurrent chat.completions.create on one engine', () => {
  it('four in flight finish faster than four in a row, each with its solo output', async () => {
    fx.setStepMs(STEP_MS);
    try {
      const soloStart = performance.now();
      const solo: string[] = [];
      for (const p of PROMPTS) solo.push((await ask(p)).choices[0]!.message.content!);
      const sequentialMs = performance.now() - soloStart;

      const stepsBefore = fx.steps();
      const batchStart = performance.now();
      const batched = await Promise.all(PROMPTS.map((p) => ask(p)));
      const concurrentMs = performance.now() - batchStart;
      const batchSteps = fx.steps() - stepsBefore;

      console.info(`webllm compat, ${PROMPTS.length} requests x 17 tokens at ${STEP_MS} ms/step: sequential ${sequentialMs.toFixed(0)} ms, concurrent ${concurrentMs.toFixed(0)} ms (${batchSteps} steps)`);
      expect(batched.map((r) => r.choices[0]!.message.content)).toEqual(solo);
      for (const r of batched) expect(r.choices[0]!.finish_reason).toBe('stop');
      // Distinct prompts, distinct replies: the equality above is not trivially true.
      expect(new Set(solo).size).toBe(PROMPTS.length);
      // 16 tokens + EOS per request: batched they share steps (~17-18), in a row they cannot (~68).
      expect(batchSteps).toBeLessThan(2 * 18);
      expect(concurrentMs).toBeLessThan(sequentialMs * 0.6);
    } finally {
      fx.setStepMs(0);
    }
  });

  it('interruptGenerate ends every request in flight with "abort"; later requests are unaffected', async () => {
    fx.setStepMs(2);
    fx.setReplyLength(400);
    try {
      const pending = PROMPTS.slice(0, 3).map((content) => engine.chat.completions.create({ messages: [{ role: 'user', content }] }));
      await new Promise((r) => setTimeout(r, 50));
      await engine.interruptGenerate();
      const results = await Promise.all(pending);
      expect(results.map((r) => r.choices[0]!.finish_reason)).toEqual(['abort', 'abort', 'abort']);
      for (const r of results) expect(r.usage!.completion_tokens).toBeLessThan(400);
      fx.setReplyLength(3);
      const after = await ask(PROMPTS[0]!);
      expect(after.choices[0]!.finish_reason).toBe('stop');
    } finally {
      fx.setStepMs(0);
      fx.setReplyLength(16);
    }
  });

  it('streams in flight together interleave their chunks', async () => {
    fx.setStepMs(2);
    try {
      const streams = await Promise.all(PROMPTS.slice(0, 2).map((content) => engine.chat.completions.create({ messages: [{ role: 'user', content }], temperature: 0, stream: true })));
      const order: number[] = [];
      const texts = ['', ''];
      await Promise.all(
        streams.map(async (s, i) => {
          for await (const c of s) {
            if (c.choices[0]?.delta.content) {
              texts[i] += c.choices[0].delta.content;
              order.push(i);
            }
          }
        }),
      );
      // Serialized requests would give 0,0,…,0,1,1,…,1; batched ones alternate.
      const switches = order.filter((v, k) => k > 0 && v !== order[k - 1]).length;
      expect(switches).toBeGreaterThan(4);
      const solo = await Promise.all(PROMPTS.slice(0, 2).map(async (p) => (await ask(p)).choices[0]!.message.content));
      expect(texts).toEqual(solo);
    } finally {
      fx.setStepMs(0);
    }
  });
});
