// The float64 reference with its KV cache rounded to f16 (RefModel { kvCache: 'f16' }), the
// oracle of the GPU's f16 path (test/gpu/runner-f16.test.ts). Pins the facts that test
// relies on for stories260K: the f16 cache still gives llama2.c's 256 greedy ids, moves the
// logits visibly but by less than its 5e-2 tolerance, and the first position from BOS where
// the top-2 logits are within 2 x 5e-2 is 61.
import { describe, expect, it } from 'vitest';
import { referenceIds, STORIES_GGUF } from '../../helpers/stories-reference';
import { argmax, RefModel } from '../../ref/ref-model';

describe('RefModel with an f16 KV cache (stories260K)', () => {
  it("reproduces llama2.c's 256 greedy ids; logits move by (0, 5e-2); first near-tie at position 61", async () => {
    const expected = referenceIds();
    const exact = await RefModel.fromGGUF(STORIES_GGUF, 512);
    const f16 = await RefModel.fromGGUF(STORIES_GGUF, 512, { kvCache: 'f16' });
    let token = 1, worst = 0, firstNearTie = -1;
    const ids: number[] = [];
    for (let pos = 0; pos < 256; pos++) {
      const a = exact.forward(token, pos), b = f16.forward(token, pos);
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      const sorted = Array.from(b).sort((x, y) => y - x);
      if (firstNearTie < 0 && sorted[0] - sorted[1] < 2 * 5e-2) firstNearTie = pos;
      token = argmax(b);
      ids.push(token);
    }
    expect(ids).toEqual(expected);
    expect(worst).toBeGreaterThan(1e-4); // the rounding happens
    expect(worst).toBeLessThan(5e-2);
    expect(firstNearTie).toBe(61);
  });
});
