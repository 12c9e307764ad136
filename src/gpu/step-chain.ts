// Tokens fed from the previous step on the GPU. A decode step whose next step's shape is
// known (same sequences, one token each) need not wait for its ids to come back before the
// next step is recorded and submitted: the next step names, for some of its tokens, the
// sampler row of the previous step whose id it takes (StepInput.fromPreviousStep), and
// the runner copies those ids from the sampler's output into its token-id buffer at the
// start of the step's command buffer — after the metadata copy that wrote the host's
// placeholders, before the embedding reads them. Queue order does the rest: the previous
// step's commands (its sampling) run before this step's copies.
//
//   previous step   sampler.out ids [S'] u32:  | r0 | r1 | r2 |
//                                                 │    │
//   this step       fromPreviousStep [[0, 0], [1, 1]]  →  tokenIds [T] i32: | r0 | r1 | t2 |
//
// Consecutive pairs (token t + 1 from row r + 1) become one copy: a decode batch is one.
// Pure checks and a plan here; runner.ts records it.
import type { StepInput } from '../engine/types';
import { RunnerError } from './runner-errors';

/** One copyBufferToBuffer: `count` ids from sampler rows `row`.. into tokens `token`.. */
export interface ChainCopy {
  row: number;
  token: number;
  count: number;
}

/**
 * Checks `input.fromPreviousStep` against this step's token count and the rows the
 * previous step sampled (0 when there is no previous step to take from), and merges
 * the pairs into copies. Empty when the step takes nothing from the previous one.
 */
export function planChain(input: StepInput, numTokens: number, previousRows: number): ChainCopy[] {
  const pairs = input.fromPreviousStep;
  if (pairs === undefined || pairs.length === 0) return [];
  if (!Array.isArray(pairs)) throw bad('fromPreviousStep must be an array of [token, row] pairs');
  if (previousRows === 0) throw bad('fromPreviousStep, but the previous step sampled nothing (or failed, or there was none)');
  const seen = new Set<number>();
  const copies: ChainCopy[] = [];
  for (const pair of pairs) {
    const [token, row] = Array.isArray(pair) ? pair : [NaN, NaN];
    if (!Number.isInteger(token) || token < 0 || token >= numTokens) throw bad(`fromPreviousStep: token ${token} is not a token of this step (0..${numTokens - 1})`);
    if (!Number.isInteger(row) || row < 0 || row >= previousRows) throw bad(`fromPreviousStep: row ${row} is not a row the previous step sampled (0..${previousRows - 1})`);
    if (seen.has(token)) throw bad(`fromPreviousStep: token ${token} is fed twice`);
    seen.add(token);
    const last = copies[copies.length - 1];
    if (last && last.token + last.count === token && last.row + last.count === row) last.count++;
    else copies.push({ row, token, count: 1 });
  }
  return copies;
}

function bad(message: string): RunnerError {
  return new RunnerError('bad_step_input', message);
}
