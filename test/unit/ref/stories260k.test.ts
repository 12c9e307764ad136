// The float64 reference model on a real pretrained model: stories260K must reproduce
// llama2.c's greedy ids exactly and the float64 NumPy logits (stored rounded to f32).
import { beforeAll, describe, expect, it } from 'vitest';
import { RefModel, argmax } from '../../ref/ref-model';
import { greedyCase, referenceIds, STORIES_GGUF } from '../../helpers/stories-reference';




/**
 * Tolerance: the fixture logits are float64 values rounded to f32 (relative error ≤ 2^-24 ≈ 6e-8);
 * our float64 pass differs from NumPy's only by summation order (~1e-15). 1e-6 relative to
 * max(|ref|, 1) leaves room for the f32 rounding and nothing more.
 */
function expectLogitsClose(actual: Float64Array, expected: number[], where: string): void {
  expect(actual.length, where).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(Math.abs(expected[i]), 1));
  }
  expect(worst, `${where}: worst relative logit error`).toBeLessThan(1e-6);
}

let model: RefModel;
beforeAll(async () => {
  model = await RefModel.fromGGUF(STORIES_GGUF, 512);
});

describe('RefModel on stories260K', () => {
  it('reads the config the fixture documents', () => {
    expect(model.config).toMatchObject({
      arch: 'llama', dim: 64, ffnDim: 172, numLayers: 5, numHeads: 8, numKvHeads: 4, headDim: 8, vocabSize: 512,
      ropeTheta: 10000, rmsEps: Math.fround(1e-5), ropeStyle: 'adjacent', tiedEmbeddings: false,
    });
  });

  it('reproduces llama2.c greedy ids from BOS for 256 steps, and every position\'s top-5 logits', () => {
    const bosCase = greedyCase('bos_only_256');
    const expectedIds = referenceIds();
    expect(expectedIds.length).toBe(256);
    expect(bosCase.generated_ids).toEqual(expectedIds);

    const ids: number[] = [];
    let token = 1; // BOS
    for (let pos = 0; pos < 256; pos++) {
      const logits = model.forward(token, pos);
      if (pos < bosCase.logits_first_positions.length) {
        expectLogitsClose(logits, bosCase.logits_first_positions[pos], `bos case, position ${pos}`);
      }
      const top5 = bosCase.top5_per_position![pos];
      for (const [id, value] of top5) {
        expect(Math.abs(logits[id] - value) / Math.max(Math.abs(value), 1), `pos ${pos} id ${id}`).toBeLessThan(1e-6);
      }
      token = argmax(logits);
      ids.push(token);
    }
    expect(ids).toEqual(expectedIds);
  });

  it('greedy() reproduces the "Once upon a time" case and its logits', () => {
    const promptCase = greedyCase('once_upon_a_time_64');
    expect(promptCase.prompt_ids).toEqual([1, 403, 407, 261, 378]);
    const numPrompt = promptCase.prompt_ids.length;
    for (let pos = 0; pos < promptCase.logits_first_positions.length; pos++) {
      expectLogitsClose(model.forward(promptCase.prompt_ids[pos], pos), promptCase.logits_first_positions[pos], `prompt position ${pos}`);
    }
    const generated = model.greedy(promptCase.prompt_ids, promptCase.steps - (numPrompt - 1));
    // generated_ids[i] is the token fed at position i + 1: the forced prompt tail, then the argmaxes.
    expect([...promptCase.prompt_ids.slice(1), ...generated]).toEqual(promptCase.generated_ids);
  });

  it('rejects an out-of-range token or position', () => {
    expect(() => model.forward(512, 0)).toThrow(RangeError);
    expect(() => model.forward(1, 512)).toThrow(/pos 512 out of \[0, 512\)/);
  });
});
