// tabllm against llama.cpp (node-llama-cpp's prebuilt CPU build, test/helpers/llama-cpp-oracle.ts)
// on generated models: the GPU runner's greedy ids must equal llama.cpp's for 32 steps after
// the prompt. Both read the same GGUF bytes, except that a quantized file is compared with
// llama.cpp on its F32 dequantized copy (ggml rounds activations to Q8 before a quantized
// matmul; tabllm keeps f32), so the two compute the same function up to f32 rounding.
//
// Tolerance: where ids part, llama.cpp's own top-2 logit margin at that step must be under
// MARGIN_TOLERANCE (a near-tie that f32 rounding may flip); the comparison stops there, as
// the continuations legitimately differ.
//
// RoPE scaling (`<arch>.rope.scaling.*`): prompts of 44 tokens run past an original context
// of 32, so a wrong reading of linear or YaRN scaling parts from llama.cpp at once.
import { afterAll, describe, expect, it } from 'vitest';
import type { Arch } from '../../src/model/config';
import { dequantizedF32Copy, openLlamaCpp } from '../helpers/llama-cpp-oracle';
import { makeTestModel, type TestModelOptions, type TestQuant } from '../helpers/test-model';
import { greedyRun, loadRunner, scatteredBlocks } from './runner-harness';

const MARGIN_TOLERANCE = 1e-2;
const DECODE_STEPS = 32;
const SHORT_PROMPT = [1, 5, 9, 13, 17, 21, 25];
/** 44 ids spread over the vocabulary: positions 0..43 pass an original context of 32. */
const LONG_PROMPT = Array.from({ length: 44 }, (_, i) => 3 + ((i * 37) % 290));

interface AgreementCase {
  name: string;
  arch: Arch;
  quant: TestQuant;
  prompt: number[];
  ropeScaling?: TestModelOptions['ropeScaling'];
}

const CASES: AgreementCase[] = [
  ...(['llama', 'qwen2', 'qwen3', 'phi3'] as const).map((arch) => ({ name: `${arch} F32`, arch, quant: 'F32' as const, prompt: SHORT_PROMPT })),
  { name: 'llama Q8_0', arch: 'llama', quant: 'Q8_0', prompt: SHORT_PROMPT },
  { name: 'qwen2 Q4_0', arch: 'qwen2', quant: 'Q4_0', prompt: SHORT_PROMPT },
  { name: 'llama linear x4', arch: 'llama', quant: 'F32', prompt: LONG_PROMPT, ropeScaling: { type: 'linear', factor: 4 } },
  { name: 'phi3 linear x2, attn_factor 1.1', arch: 'phi3', quant: 'F32', prompt: LONG_PROMPT, ropeScaling: { type: 'linear', factor: 2, attnFactor: 1.1 } },
  { name: 'qwen2 yarn x4, original context 32', arch: 'qwen2', quant: 'F32', prompt: LONG_PROMPT, ropeScaling: { type: 'yarn', factor: 4, originalContextLength: 32 } },
  { name: 'qwen3 yarn x8, original context 32, attn_factor 0.9', arch: 'qwen3', quant: 'F32', prompt: LONG_PROMPT, ropeScaling: { type: 'yarn', factor: 8, originalContextLength: 32, attnFactor: 0.9 } },
];

function modelFor(c: AgreementCase, seed: number): Uint8Array {
  return makeTestModel({
    arch: c.arch, vocab: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, quant: c.quant, seed, contextLength: 128,
    // Untied heads: a tied LM head favours repeating the last token, which makes dull, easy ids.
    tiedEmbeddings: false,
    // llama.cpp's vocab loader special-cases names containing "phi3" (it expects phi3's real special tokens).
    name: 'tabllm-test-model',
    ...(c.arch === 'qwen3' ? { headDim: 24 } : {}),
    ...(c.ropeScaling ? { ropeScaling: c.ropeScaling } : {}),
  });
}

const disposers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of disposers) await d();
});

describe('GPU runner vs llama.cpp on generated models', () => {
  CASES.forEach((c, i) => {
    it(`${c.name}: ${DECODE_STEPS} greedy ids equal llama.cpp's`, async () => {
      const bytes = modelFor(c, 300 + i);
      const oracle = await openLlamaCpp(c.quant === 'F32' ? bytes : await dequantizedF32Copy(bytes));
      disposers.push(() => oracle.dispose());
      const expected = await oracle.greedy(c.prompt, DECODE_STEPS);

      const runner = await loadRunner(bytes, 1 << 20);
      try {
        const blockTable = scatteredBlocks(runner.numKvBlocks, Math.ceil((c.prompt.length + DECODE_STEPS) / 16), i);
        const got = (await greedyRun(runner, c.prompt, DECODE_STEPS, blockTable)).ids;
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
