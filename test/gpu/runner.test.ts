// The gold tests of the WebGPU runner on the real stories260K model: llama2.c's greedy ids
// token for token, and the float64 reference logits within 1e-3 absolute (f32 kernels on
// logits of magnitude ~20: accumulated rounding is ~1e-5, so 1e-3 leaves margin and still
// catches any wrong op). KV goes through shuffled block tables, never blocks 0, 1, 2, … .
// The 256 ids run on both kernel sets: the software set (SwiftShader's default) and the GPU
// set forced (what real GPUs run: matmul-vec, split decode attention); the prompt
// continuations on the software set (the GPU set's prefill kernels: runner-batch.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuModelRunner } from '../../src/gpu/runner';
import { greedyRun, loadRunner, scatteredBlocks, type KernelSet } from './runner-harness';
import { greedyCase, referenceIds, STORIES_GGUF } from '../helpers/stories-reference';




function maxAbsDiff(a: Float32Array, b: number[]): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

const runners = new Map<KernelSet, GpuModelRunner>();
beforeAll(async () => {
  for (const kernels of ['software', 'gpu'] as const) runners.set(kernels, await loadRunner(STORIES_GGUF, undefined, { kernels }));
});
afterAll(() => runners.forEach((r) => r.destroy()));

describe('GPU runner on stories260K', () => {
  it.each(['software', 'gpu'] as const)('decodes llama2.c\'s 256 greedy ids from BOS one token per step, logits within 1e-3 (%s kernels)', async (kernels) => {
    const runner = runners.get(kernels)!;
    expect(runner.ctx.software).toBe(kernels === 'software');
    const bos = greedyCase('bos_only_256');
    const expected = referenceIds();
    expect(expected.length).toBe(256);
    const blockTable = scatteredBlocks(runner.numKvBlocks, 17, 11); // 257 positions
    const run = await greedyRun(runner, bos.prompt_ids, 256, blockTable, { returnLogits: true });
    expect(run.ids).toEqual(expected);
    bos.logits_first_positions.forEach((row, pos) => {
      expect(maxAbsDiff(run.logits[pos], row), `position ${pos}`).toBeLessThan(1e-3);
    });
    expect(runner.lastStepStats?.submits).toBe(1);
  }, 600_000); // 257 steps on a software adapter shared with other jobs: a minute or two

  // "Once upon a time": the prompt prefilled in one step, and in chunks of 2 (a chunk
  // boundary inside the prompt, KV of earlier chunks read back through the table).
  for (const chunkSize of [Infinity, 2]) {
    it(`continues "Once upon a time" like llama2.c with the prompt prefilled ${chunkSize === Infinity ? 'in one step' : `in chunks of ${chunkSize}`}`, async () => {
      const runner = runners.get('software')!;
      const c = greedyCase('once_upon_a_time_64');
      const prompt = c.prompt_ids;
      // generated_ids[i] is the argmax at position i; the first prompt.length - 1 are the forced prompt tokens.
      const expected = c.generated_ids.slice(prompt.length - 1);
      const blockTable = scatteredBlocks(runner.numKvBlocks, 5, chunkSize === Infinity ? 21 : 22);
      const run = await greedyRun(runner, prompt, expected.length, blockTable, { chunkSize, returnLogits: true });
      expect(run.ids).toEqual(expected);
      // The step that ends the prompt samples at position prompt.length - 1.
      expect(maxAbsDiff(run.logits[0], c.logits_first_positions[prompt.length - 1])).toBeLessThan(1e-3);
    }, 1_500_000);
  }
});
