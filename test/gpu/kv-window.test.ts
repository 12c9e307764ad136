// Sliding window in the paged KV cache under the real WebGPU runner, checked against
// llama.cpp: a gemma2 file whose every layer is local (sliding_window_pattern 0, llama.cpp's
// "all SWA"), window 20, two 44-token prompts decoding 32 tokens each through EngineCore in a
// pool of 6 usable blocks. Each sequence's whole context needs 5 blocks (10 for both), so
// they only run side by side — without preemption — because blocks below the window are
// dropped and handed to the other sequence; a dropped block that attention still read
// would then hold the other sequence's K/V and part the ids from llama.cpp's.
import { afterAll, describe, expect, it } from 'vitest';
import { EngineCore } from '../../src/engine/core';
import type { StepInput } from '../../src/engine/types';
import { createFakeDetokenizer } from '../../src/testing/fake-runner';
import { DECODE_STEPS, LONG_PROMPT, MARGIN_TOLERANCE } from '../helpers/llama-cpp-cases';
import { openLlamaCpp, type LlamaCppGreedy } from '../helpers/llama-cpp-oracle';
import { makeTestModel } from '../helpers/test-model';
import { loadRunner } from './runner-harness';

const WINDOW = 20;
/** 2 (K, V) x 2 layers x 16 slots x 2 KV heads x 16 dims x 4 bytes (f32 pool). */
const BYTES_PER_BLOCK = 2 * 2 * 16 * 2 * 16 * 4;
const PROMPTS = [LONG_PROMPT, LONG_PROMPT.map((id) => 3 + ((id * 7) % 290))];

const disposers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of disposers) await d();
});

describe('sliding window in the paged KV cache (WebGPU runner vs llama.cpp)', () => {
  it('two sequences longer than the window share a pool that holds only their windows, with llama.cpp ids', async () => {
    const bytes = makeTestModel({
      arch: 'gemma2', vocab: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, quant: 'F32', seed: 911, contextLength: 128,
      gemma: { slidingWindow: WINDOW, swaPattern: 0, attnSoftcap: 2, finalSoftcap: 4 },
    });
    const oracle = await openLlamaCpp(bytes);
    disposers.push(() => oracle.dispose());
    const expected: LlamaCppGreedy[] = [];
    for (const prompt of PROMPTS) expected.push(await oracle.greedy(prompt, DECODE_STEPS));

    const runner = await loadRunner(bytes, 7 * BYTES_PER_BLOCK);
    try {
      expect(runner.numKvBlocks).toBe(7); // 6 usable + the null block
      const steps: StepInput[] = [];
      const step = runner.step.bind(runner);
      runner.step = (input) => {
        steps.push(input);
        return step(input);
      };
      const core = new EngineCore({ runner, createDetokenizer: createFakeDetokenizer(), eogIds: [] });
      expect(core.kv.slidingWindow).toBe(WINDOW);
      const outs = await Promise.all(PROMPTS.map((promptIds) => core.addRequest({ promptIds, maxTokens: DECODE_STEPS, ignoreEos: true }).collect()));
      const ids = outs.map((events) => events.flatMap((e) => e.tokenIds));

      ids.forEach((got, s) => {
        const parted = got.findIndex((id, i) => id !== expected[s].ids[i]);
        if (parted >= 0) expect(expected[s].margins[parted], `sequence ${s}: ids part at step ${parted} without a near-tie`).toBeLessThan(MARGIN_TOLERANCE);
        else expect(got).toEqual(expected[s].ids);
      });
      expect(core.stats().numPreemptions).toBe(0);
      // The last step: both sequences at 75 positions, side by side, each table naming only
      // the blocks of positions 56..75 (blocks 3 and 4) and the null block below.
      const last = steps[steps.length - 1];
      expect(last.sequences).toHaveLength(2);
      for (const seq of last.sequences) {
        expect(seq.contextLength).toBe(LONG_PROMPT.length + DECODE_STEPS - 1);
        expect(Array.from(seq.blockTable.subarray(0, 3))).toEqual([0, 0, 0]);
        expect(seq.blockTable[3]).toBeGreaterThan(0);
      }
      expect(core.kv.numFreeBlocks).toBe(core.kv.numUsableBlocks);
      expect(core.kv.checkInvariants()).toEqual([]);
    } finally {
      runner.destroy();
    }
  });
});
