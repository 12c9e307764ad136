// planChain (src/gpu/step-chain.ts): which token ids a step takes from the previous step's
// sampler rows, checked against the step and the previous step, merged into copies.
import { describe, expect, it } from 'vitest';
import type { StepInput } from '../../../src/engine/types';
import { planChain } from '../../../src/gpu/step-chain';

const input = (fromPreviousStep?: StepInput['fromPreviousStep']): StepInput => ({
  tokenIds: new Int32Array(4), positions: new Int32Array(4), sequences: [], fromPreviousStep,
});

describe('planChain', () => {
  it('takes nothing without pairs', () => {
    expect(planChain(input(), 4, 0)).toEqual([]);
    expect(planChain(input([]), 4, 3)).toEqual([]);
  });

  it('merges consecutive tokens from consecutive rows into one copy', () => {
    expect(planChain(input([[0, 0], [1, 1], [2, 2], [3, 3]]), 4, 4)).toEqual([{ row: 0, token: 0, count: 4 }]);
    expect(planChain(input([[1, 0], [2, 1], [3, 3]]), 4, 4)).toEqual([{ row: 0, token: 1, count: 2 }, { row: 3, token: 3, count: 1 }]);
    expect(planChain(input([[0, 2], [1, 1], [2, 0]]), 4, 3)).toEqual([
      { row: 2, token: 0, count: 1 }, { row: 1, token: 1, count: 1 }, { row: 0, token: 2, count: 1 },
    ]);
  });

  it('refuses pairs that name no token, no row of the previous step, or a token twice (bad_step_input)', () => {
    const cases: Array<[StepInput['fromPreviousStep'], number, RegExp]> = [
      [[[0, 0]], 0, /previous step sampled nothing/],
      [[[4, 0]], 2, /token 4 is not a token of this step/],
      [[[-1, 0]], 2, /token -1/],
      [[[0, 2]], 2, /row 2 is not a row the previous step sampled/],
      [[[0, 0.5]], 2, /row 0.5/],
      [[[1, 0], [1, 1]], 2, /token 1 is fed twice/],
      [[[0] as unknown as [number, number]], 2, /row undefined/],
      [{ length: 1 } as unknown as StepInput['fromPreviousStep'], 2, /must be an array/],
    ];
    for (const [pairs, rows, message] of cases) {
      let error: unknown;
      try {
        planChain(input(pairs), 4, rows);
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toMatchObject({ code: 'bad_step_input', message: expect.stringMatching(message) });
    }
  });
});
