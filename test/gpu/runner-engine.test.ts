// The whole stack on the GPU runner: createEngine on stories260K in Node (Dawn) answers a
// greedy completion from BOS with llama2.c's reference text (reference-greedy.txt, case 1:
// the text between the `-----8<-----` lines, without run.c's final newline).
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import { referenceStdout, STORIES_GGUF } from '../helpers/stories-reference';

/** Case 1's stdout without run.c's final newline. */
function case1Text(): string {
  return referenceStdout(0).replace(/\n$/, '');
}

describe('createEngine on the WebGPU runner', () => {
  it('completes from BOS with llama2.c\'s greedy text (stories260K, 256 tokens)', async () => {
    const engine = await createEngine({ model: STORIES_GGUF, gpu: await createNodeGPU(), kvCacheBytes: 2 << 20, precision: 'f32' }); // the f32 path: llama2.c's ids exactly (f16 KV: test/gpu/runner-f16.test.ts)
    try {
      const r = await engine.completions.create({ prompt: '', max_tokens: 256, temperature: 0 });
      const expected = case1Text();
      expect(expected.length).toBeGreaterThan(500);
      expect(r.choices[0]!.text).toBe(expected);
      expect(r.choices[0]!.finish_reason).toBe('length');
      expect(r.usage!.completion_tokens).toBe(256);
    } finally {
      await engine.destroy();
    }
  }, 1_500_000);
});
