// The float64 reference against llama.cpp (test/helpers/llama-cpp-oracle.ts) on the RoPE
// scaling cases of the agreement suite: linear and YaRN, prompts past the original context;
// and on its F32 gemma cases (sliding window, soft-caps, post-norms, GeGLU, local RoPE base).
// The reference once shared tabllm's wrong reading (scaling keys ignored); this pins its
// RoPE to llama.cpp's, so the kernel and runner tests that use it as their oracle inherit that.
import { afterAll, describe, expect, it } from 'vitest';
import { agreementModel, DECODE_STEPS, gemmaCases, MARGIN_TOLERANCE, scalingCases } from '../../helpers/llama-cpp-cases';
import { openLlamaCpp } from '../../helpers/llama-cpp-oracle';
import { RefModel } from '../../ref/ref-model';
import { loadRefWeights } from '../../ref/weights';

const disposers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of disposers) await d();
});

describe('float64 reference vs llama.cpp with RoPE scaling and gemma', () => {
  for (const c of [...scalingCases(), ...gemmaCases().filter((g) => g.quant === 'F32')]) {
    it(`${c.name}: ${DECODE_STEPS} greedy ids equal llama.cpp's`, async () => {
      const bytes = agreementModel(c);
      const oracle = await openLlamaCpp(bytes, c.oracleContext);
      disposers.push(() => oracle.dispose());
      const expected = await oracle.greedy(c.prompt, DECODE_STEPS);
      const got = (await RefModel.fromGGUF(bytes, 128)).greedy(c.prompt, DECODE_STEPS);
      const parted = got.findIndex((id, step) => id !== expected.ids[step]);
      if (parted >= 0) expect(expected.margins[parted], `${c.name}: ids part at step ${parted} without a near-tie`).toBeLessThan(MARGIN_TOLERANCE);
      else expect(got).toEqual(expected.ids);
      if (c.gemma?.slidingWindow !== undefined) {
        // The prompt outruns the window: the same model run with a window wider than the context parts from llama.cpp.
        const { config, weights } = await loadRefWeights(bytes);
        const unwindowed = { ...config, slidingWindow: { ...config.slidingWindow!, size: 1 << 20 } };
        expect(new RefModel(unwindowed, weights, 128).greedy(c.prompt, DECODE_STEPS)).not.toEqual(expected.ids);
        // Greedy ids cannot see the final soft-cap (tanh keeps the order); the top-2 gap of the
        // first new token's logits can (llama.cpp's GELU goes through an f16 table: ~1e-3).
        const logits = new RefModel(config, weights, 128).forwardMany(c.prompt).at(-1)!;
        const sorted = Array.from(logits).sort((a, b) => b - a);
        expect(Math.abs(sorted[0] - sorted[1] - expected.margins[0]), `${c.name}: first top-2 gap`).toBeLessThan(MARGIN_TOLERANCE);
      }
    });
  }
});
