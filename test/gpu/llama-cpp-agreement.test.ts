// tabllm against llama.cpp (node-llama-cpp's prebuilt CPU build, test/helpers/llama-cpp-oracle.ts)
// on generated models: the GPU runner's greedy ids must equal llama.cpp's for 32 steps after
// the prompt (8 in the architecture x tensor-type matrix of test/helpers/llama-cpp-cases.ts). Both read the same GGUF bytes, except that a quantized file is compared with
// llama.cpp on its F32 dequantized copy (ggml rounds activations to Q8 before a quantized
// matmul; tabllm keeps f32), so the two compute the same function up to f32 rounding.
//
// Tolerance: where ids part, llama.cpp's own top-2 logit margin at that step must be under
// MARGIN_TOLERANCE (a near-tie that f32 rounding may flip); the comparison stops there, as
// the continuations legitimately differ.
//
// RoPE scaling (`<arch>.rope.scaling.*`, phi3 LongRoPE tables): prompts of 44 tokens run past
// an original context of 32, so a wrong reading of linear, YaRN or LongRoPE parts from llama.cpp at once.
import { afterAll, describe, expect, it } from 'vitest';
import { AGREEMENT_CASES, agreementModel, DECODE_STEPS, MARGIN_TOLERANCE } from '../helpers/llama-cpp-cases';
import { dequantizedF32Copy, openLlamaCpp } from '../helpers/llama-cpp-oracle';
import { greedyRun, loadRunner, scatteredBlocks } from './runner-harness';

const disposers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of disposers) await d();
});

describe('GPU runner vs llama.cpp on generated models', () => {
  AGREEMENT_CASES.forEach((c, i) => {
    const steps = c.decodeSteps ?? DECODE_STEPS;
    it(`${c.name}: ${steps} greedy ids equal llama.cpp's`, async () => {
      const bytes = agreementModel(c);
      const oracle = await openLlamaCpp(c.quant === 'F32' ? bytes : await dequantizedF32Copy(bytes), c.oracleContext);
      disposers.push(() => oracle.dispose());
      const expected = await oracle.greedy(c.prompt, steps);

      const runner = await loadRunner(bytes, 1 << 20);
      try {
        const blockTable = scatteredBlocks(runner.numKvBlocks, Math.ceil((c.prompt.length + steps) / 16), i);
        const got = (await greedyRun(runner, c.prompt, steps, blockTable)).ids;
        const parted = got.findIndex((id, step) => id !== expected.ids[step]);
        if (parted >= 0) {
          console.info(`${c.name}: ids parted at step ${parted} (llama.cpp margin ${expected.margins[parted].toExponential(2)})`);
          expect(expected.margins[parted], `${c.name}: step ${parted} ids ${got[parted]} vs llama.cpp ${expected.ids[parted]} without a near-tie`).toBeLessThan(MARGIN_TOLERANCE);
        } else {
          expect(got).toEqual(expected.ids);
        }
      } finally {
        runner.destroy();
      }
    });
  });
});
