// The penalty token set a sequence hands the runner (Sequence.penaltyTokens): OpenAI/vLLM
// semantics without a window, llama.cpp's penalty_last_n (Ollama's repeat_last_n) with
// one — the last N tokens of prompt + output, counts within the window.
import { describe, expect, it } from 'vitest';
import { normalizeSampling, Sequence } from '../../../src/engine/request';
import { GREEDY, type SamplingParams } from '../../../src/engine/types';

// prompt 5 6 7 5 | output 8 5 9
const PROMPT = [5, 6, 7, 5];
const OUTPUT = [8, 5, 9];

function sequence(sampling: Partial<SamplingParams>): Sequence {
  return new Sequence('r', 0, PROMPT, PROMPT.length, { ...GREEDY, repetitionPenalty: 1.3, ...sampling }, null, undefined);
}

/** token id → count, from the runner's view. */
function counts(seq: Sequence): Record<number, number> {
  const { tokenIds, outputCounts } = seq.penaltyTokens();
  return Object.fromEntries(Array.from(tokenIds, (id, i) => [id, outputCounts[i]!]));
}

describe('penalty token set', () => {
  it('no window (OpenAI/vLLM): prompt ∪ output, counts from the output only', () => {
    const seq = sequence({});
    for (const id of OUTPUT) seq.appendToken(id);
    expect(seq.usesPenalties).toBe(true);
    expect(counts(seq)).toEqual({ 5: 1, 6: 0, 7: 0, 8: 1, 9: 1 });
  });

  it('window -1: every token, prompt occurrences counted too', () => {
    const seq = sequence({ penaltyWindow: -1 });
    for (const id of OUTPUT) seq.appendToken(id);
    expect(counts(seq)).toEqual({ 5: 3, 6: 1, 7: 1, 8: 1, 9: 1 });
  });

  it('window N: the last N tokens only', () => {
    const seq = sequence({ penaltyWindow: 3 });
    for (const id of OUTPUT) seq.appendToken(id);
    // ... 8 5 9
    expect(counts(seq)).toEqual({ 8: 1, 5: 1, 9: 1 });
    const longer = sequence({ penaltyWindow: 5 });
    for (const id of OUTPUT) longer.appendToken(id);
    // 7 5 8 5 9
    expect(counts(longer)).toEqual({ 7: 1, 5: 2, 8: 1, 9: 1 });
  });

  it('window N slides as tokens are appended after the set was built', () => {
    const seq = sequence({ penaltyWindow: 3 });
    expect(counts(seq)).toEqual({ 6: 1, 7: 1, 5: 1 });
    seq.appendToken(8); // 7 5 8
    expect(counts(seq)).toEqual({ 7: 1, 5: 1, 8: 1 });
    seq.appendToken(8); // 5 8 8
    expect(counts(seq)).toEqual({ 5: 1, 8: 2 });
    seq.appendToken(9); // 8 8 9
    expect(counts(seq)).toEqual({ 8: 2, 9: 1 });
    // Built from scratch, the same sequence gives the same set.
    const fresh = sequence({ penaltyWindow: 3 });
    for (const id of [8, 8, 9]) fresh.appendToken(id);
    expect(counts(fresh)).toEqual(counts(seq));
  });

  it('a window longer than the sequence holds all of it', () => {
    const seq = sequence({ penaltyWindow: 64 });
    for (const id of OUTPUT) seq.appendToken(id);
    expect(counts(seq)).toEqual({ 5: 3, 6: 1, 7: 1, 8: 1, 9: 1 });
  });

  it('window 0: no penalties (the runner gets no set, and normalized params are neutral)', () => {
    expect(sequence({ penaltyWindow: 0 }).usesPenalties).toBe(false);
    const s = normalizeSampling({ penaltyWindow: 0, repetitionPenalty: 1.3, presencePenalty: 1, frequencyPenalty: 1 });
    expect(s).toMatchObject({ repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0 });
    const kept = normalizeSampling({ penaltyWindow: 3, repetitionPenalty: 1.3 });
    expect(kept).toMatchObject({ repetitionPenalty: 1.3, penaltyWindow: 3 });
  });

  it('a bad window is an invalid_request naming repeat_last_n', () => {
    expect(() => normalizeSampling({ penaltyWindow: -2 })).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'repeat_last_n' }));
    expect(() => normalizeSampling({ penaltyWindow: 1.5 })).toThrow(expect.objectContaining({ code: 'invalid_request', param: 'repeat_last_n' }));
  });
});
