// The step shapes the runner compiles pipelines for at load, and the step-program keys:
// every small count and every power of two with its neighbours (where kernels switch
// variants), and keys that separate every shape a recording depends on.
import { describe, expect, it } from 'vitest';
import { MAX_PLANNED_TOKENS, plannedTokenCounts } from '../../../src/gpu/step-plan';
import { stepProgramKey } from '../../../src/gpu/step-program';
import type { PackedSampleRows } from '../../../src/kernels/sample';

describe('step plan', () => {
  it('plans 1..16 and 2^k - 1, 2^k, 2^k + 1 up to the largest step', () => {
    const counts = plannedTokenCounts();
    for (let t = 1; t <= 16; t++) expect(counts).toContain(t);
    for (let p = 32; p <= MAX_PLANNED_TOKENS; p *= 2) expect(counts).toEqual(expect.arrayContaining([p - 1, p, ...(p < MAX_PLANNED_TOKENS ? [p + 1] : [])]));
    expect(Math.max(...counts)).toBe(MAX_PLANNED_TOKENS);
    expect(plannedTokenCounts(40)).toEqual([...Array.from({ length: 16 }, (_, i) => i + 1), 31, 32, 33]);
  });

  it('keys programs by tokens, sampled rows, hidden states, attention partitions and the sampling branch', () => {
    const rows = (o: Partial<PackedSampleRows>): PackedSampleRows =>
      ({ numRows: 1, numEntries: 0, numMasked: 0, maskRows: new Uint32Array(0), masks: new Uint32Array(0), anyLogprobs: false, allGreedy: true, rowParams: new Uint32Array(16), entries: new Uint32Array(0), ...o });
    const keys = [
      stepProgramKey(1, 1, false, rows({}), false),
      stepProgramKey(2, 1, false, rows({}), false),
      stepProgramKey(1, 0, false, undefined, false),
      stepProgramKey(1, 1, true, rows({}), false),
      stepProgramKey(1, 1, false, rows({ numEntries: 3 }), false),
      stepProgramKey(1, 1, false, rows({ numEntries: 3 }), true),
      stepProgramKey(1, 1, false, rows({ anyLogprobs: true }), false),
      stepProgramKey(1, 1, false, rows({ allGreedy: false }), false),
      stepProgramKey(1, 1, false, rows({ numMasked: 1 }), false),
      stepProgramKey(1, 1, false, rows({}), false, 2),
      stepProgramKey(1, 1, false, rows({}), false, 3),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    expect(stepProgramKey(1, 1, false, rows({}), false)).toBe(keys[0]);
    expect(stepProgramKey(1, 1, false, rows({}), false, 1)).toBe(keys[0]);
  });
});
