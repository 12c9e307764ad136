// The generated models and prompts the llama.cpp agreement tests run (GPU runner in
// test/gpu/llama-cpp-agreement.test.ts, float64 reference in test/unit/ref/ref-llama-cpp.test.ts),
// and their tolerance: where ids part, llama.cpp's own top-2 logit margin at that step must be
// under MARGIN_TOLERANCE (a near-tie that f32 rounding may flip).
import type { Arch } from '../../src/model/config';
import { makeTestModel, type TestModelOptions, type TestQuant } from './test-model';

export const MARGIN_TOLERANCE = 1e-2;
export const DECODE_STEPS = 32;
/**
 * The architecture x type matrix decodes fewer ids: a wrong dequantization parts within a
 * few steps (the F32 and feature cases run the full 32), and the matrix is most of the suite.
 */
export const MATRIX_DECODE_STEPS = 8;
export const SHORT_PROMPT = [1, 5, 9, 13, 17, 21, 25];
/** 44 ids spread over the vocabulary: positions 0..43 pass an original context of 32. */
export const LONG_PROMPT = Array.from({ length: 44 }, (_, i) => 3 + ((i * 37) % 290));

/** 20 ids: longer than the gemma cases' window of 8, so local layers see only part of the context. */
export const WINDOW_PROMPT = Array.from({ length: 20 }, (_, i) => 4 + ((i * 53) % 290));

export interface AgreementCase {
  name: string;
  arch: Arch;
  quant: TestQuant;
  prompt: number[];
  ropeScaling?: TestModelOptions['ropeScaling'];
  gemma?: TestModelOptions['gemma'];
  ropeTheta?: number;
  headDim?: number;
  /** Partial rotary: dims of each head that rotate (phi3 Phi-4-mini: 3/4). */
  ropeDim?: number;
  longRope?: TestModelOptions['longRope'];
  /** Tied LM head; default: tied for gemma (always tied there), untied otherwise. */
  tied?: boolean;
  /** Greedy ids compared (default DECODE_STEPS). */
  decodeSteps?: number;
  /** Hidden and FFN size (default 64 / 96; 256 / 256 for the 256-value block types, so every matrix row is whole blocks). */
  dim?: number;
  ffn?: number;
  /** Default 2; smollm3 needs 4 for a layer without RoPE (layer 3). */
  layers?: number;
  /** `<arch>.context_length` (default 128). */
  contextLength?: number;
  /**
   * llama.cpp's context size (default 256, its smallest: n_ctx is padded to 256). LongRoPE
   * picks its factor table by comparing it with the original context, as tabllm does with
   * `context_length`.
   */
  oracleContext?: number;
}

/** gemma2: window 8 on layer 0 (period 2), soft-caps small enough to bend the scores and logits. */
const GEMMA2: TestModelOptions['gemma'] = { slidingWindow: 8, attnSoftcap: 2, finalSoftcap: 4 };
/** gemma3: window 8 on layer 0 (period 2), global base 1e6, local base 10000 (llama.cpp's default). */
const GEMMA3: TestModelOptions['gemma'] = { slidingWindow: 8, swaPattern: 2 };

/** Only the RoPE scaling cases (prompts past the original context). */
export const scalingCases = (): AgreementCase[] => AGREEMENT_CASES.filter((c) => c.ropeScaling);

export const AGREEMENT_CASES: AgreementCase[] = [
  ...(['llama', 'qwen2', 'qwen3', 'phi3'] as const).map((arch) => ({ name: `${arch} F32`, arch, quant: 'F32' as const, prompt: SHORT_PROMPT })),
  { name: 'llama Q8_0', arch: 'llama', quant: 'Q8_0', prompt: SHORT_PROMPT },
  { name: 'qwen2 Q4_0', arch: 'qwen2', quant: 'Q4_0', prompt: SHORT_PROMPT },
  { name: 'llama linear x4', arch: 'llama', quant: 'F32', prompt: LONG_PROMPT, ropeScaling: { type: 'linear', factor: 4 } },
  { name: 'phi3 linear x2, attn_factor 1.1', arch: 'phi3', quant: 'F32', prompt: LONG_PROMPT, ropeScaling: { type: 'linear', factor: 2, attnFactor: 1.1 } },
  { name: 'qwen2 yarn x4, original context 32', arch: 'qwen2', quant: 'F32', prompt: LONG_PROMPT, ropeScaling: { type: 'yarn', factor: 4, originalContextLength: 32 } },
  { name: 'qwen3 yarn x8, original context 32, attn_factor 0.9', arch: 'qwen3', quant: 'F32', prompt: LONG_PROMPT, ropeScaling: { type: 'yarn', factor: 8, originalContextLength: 32, attnFactor: 0.9 } },
  // Types of common downloads (rows of 64/96 values: the 32-value block types; the 256-value ones
  // are checked against the float64 reference in runner-models and ggml's dequant in quant.test).
  { name: 'llama Q5_0', arch: 'llama', quant: 'Q5_0', prompt: SHORT_PROMPT },
  { name: 'phi3 IQ4_NL', arch: 'phi3', quant: 'IQ4_NL', prompt: SHORT_PROMPT },
  // Gemma: prompts past the sliding window (a kernel that ignored it parts at once).
  { name: 'gemma2 F32, window 8', arch: 'gemma2', quant: 'F32', prompt: WINDOW_PROMPT, gemma: GEMMA2 },
  { name: 'gemma2 Q8_0, window 8', arch: 'gemma2', quant: 'Q8_0', prompt: WINDOW_PROMPT, gemma: GEMMA2 },
  { name: 'gemma3 F32, window 8, q/k norms, local/global RoPE bases', arch: 'gemma3', quant: 'F32', prompt: WINDOW_PROMPT, gemma: GEMMA3, ropeTheta: 1e6, headDim: 24 },
  { name: 'gemma3 Q4_0, window 8', arch: 'gemma3', quant: 'Q4_0', prompt: WINDOW_PROMPT, gemma: GEMMA3, ropeTheta: 1e6 },
  { name: 'gemma (v1) F32', arch: 'gemma', quant: 'F32', prompt: SHORT_PROMPT, gemma: {} },
  // phi3 LongRoPE (Phi-3.5-mini, Phi-4-mini): context 128 > original 32 picks the long
  // factors, positions 0..43 run past the original context; attn_factor as the converter
  // computes it (sqrt(1 + ln 4 / ln 32)); partial rotary 12 of 16 dims as Phi-4-mini's 3/4.
  {
    name: 'phi3 LongRoPE long factors, original context 32, partial rotary 12/16', arch: 'phi3', quant: 'F32', prompt: LONG_PROMPT,
    longRope: { originalContextLength: 32 }, ropeScaling: { attnFactor: Math.sqrt(1 + Math.log(4) / Math.log(32)) }, ropeDim: 12,
  },
  // Context 256 = original 256 (and llama.cpp's n_ctx 256): the short factors; tied head (Phi-4-mini).
  {
    name: 'phi3 LongRoPE short factors, tied output', arch: 'phi3', quant: 'F32', prompt: LONG_PROMPT,
    longRope: { originalContextLength: 256 }, ropeScaling: { attnFactor: 1.1 }, contextLength: 256, oracleContext: 256, tied: true,
  },
  // Head size 24 with dim 64 / 4 heads (attention.key_length, Mistral-Nemo style): q is 96 wide, wo maps 96 -> 64.
  { name: 'llama F32, key_length 24 != dim / heads', arch: 'llama', quant: 'F32', prompt: SHORT_PROMPT, headDim: 24 },
  { name: 'llama Q8_0, key_length 24 != dim / heads', arch: 'llama', quant: 'Q8_0', prompt: SHORT_PROMPT, headDim: 24 },
  // smollm3: 4 layers, layer 3 without RoPE (llama.cpp's n_no_rope_layer_step 4); the long
  // prompt, so an unrotated layer that rotated anyway would part.
  { name: 'smollm3 F32, no RoPE on layer 3', arch: 'smollm3', quant: 'F32', prompt: LONG_PROMPT, layers: 4 },
];

/** Every supported architecture, as the matrix below runs it. */
export const MATRIX_ARCHS: readonly Arch[] = ['llama', 'qwen2', 'qwen3', 'phi3', 'gemma', 'gemma2', 'gemma3', 'smollm3'];
/** The tensor types every architecture is checked in: the common downloads and the types added for them. */
export const MATRIX_QUANTS: readonly TestQuant[] = [
  'F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_1', 'Q5_0', 'Q5_1', 'IQ4_NL', 'Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_XS',
];
/** Types in 256-value blocks: their cases use dim = ffn = 256 and 4 heads of 64, so no tensor falls back to another type. */
const SUPER_BLOCK_QUANTS: ReadonlySet<TestQuant> = new Set(['Q2_K', 'Q3_K', 'Q4_K', 'Q5_K', 'Q6_K', 'IQ4_XS']);

/** The architecture's own features in a matrix case (window, soft-caps, RoPE bases, NoPE layer). */
function archCase(arch: Arch): Partial<AgreementCase> {
  if (arch === 'gemma') return { gemma: {} };
  if (arch === 'gemma2') return { gemma: GEMMA2, prompt: WINDOW_PROMPT };
  if (arch === 'gemma3') return { gemma: GEMMA3, prompt: WINDOW_PROMPT, ropeTheta: 1e6 };
  if (arch === 'smollm3') return { layers: 4 };
  return {};
}

/**
 * Architecture x type: every pair the hand-written cases above do not already cover. A
 * quantized file is compared with llama.cpp on its F32 dequantized copy (see the test).
 */
function matrixCases(handWritten: readonly AgreementCase[]): AgreementCase[] {
  const covered = new Set(handWritten.filter((c) => !c.ropeScaling && !c.longRope && !c.headDim).map((c) => `${c.arch} ${c.quant}`));
  const out: AgreementCase[] = [];
  for (const arch of MATRIX_ARCHS) {
    for (const quant of MATRIX_QUANTS) {
      if (covered.has(`${arch} ${quant}`)) continue;
      const big = SUPER_BLOCK_QUANTS.has(quant);
      out.push({
        name: `matrix: ${arch} ${quant}`, arch, quant, prompt: SHORT_PROMPT, decodeSteps: MATRIX_DECODE_STEPS, ...archCase(arch),
        ...(big ? { dim: 256, ffn: 256, headDim: 64 } : {}),
      });
    }
  }
  return out;
}
AGREEMENT_CASES.push(...matrixCases(AGREEMENT_CASES));

/** Only the gemma cases (all have a `gemma` field, {} for gemma v1). */
export const gemmaCases = (): AgreementCase[] => AGREEMENT_CASES.filter((c) => c.gemma);

/** The case's GGUF bytes (seeded by its index, so every test tier gets the same model). */
export function agreementModel(c: AgreementCase): Uint8Array {
  const seed = 300 + AGREEMENT_CASES.indexOf(c);
  return makeTestModel({
    arch: c.arch, vocab: 300, dim: c.dim ?? 64, layers: c.layers ?? 2, heads: 4, kvHeads: 2, ffn: c.ffn ?? 96, quant: c.quant, seed, contextLength: c.contextLength ?? 128,
    // Untied heads: a tied LM head favours repeating the last token, which makes dull, easy ids
    // (gemma2 is always tied in llama.cpp; gemma keeps its usual tied head).
    tiedEmbeddings: c.tied ?? c.gemma !== undefined,
    ...(c.tied && !c.gemma ? { embedStd: 2 / Math.sqrt(c.dim ?? 64) } : {}),
    // Every matrix of a 256-block case must really be in that type (no per-tensor fallback).
    quantFallback: c.dim === 256 ? 'error' : 'fallback',
    // llama.cpp's vocab loader special-cases names containing "phi3" (it expects phi3's real special tokens).
    name: 'tabllm-test-model',
    ...(c.arch === 'qwen3' ? { headDim: 24 } : {}),
    ...(c.headDim ? { headDim: c.headDim } : {}),
    ...(c.gemma ? { gemma: c.gemma } : {}),
    ...(c.ropeTheta ? { ropeTheta: c.ropeTheta } : {}),
    ...(c.ropeScaling ? { ropeScaling: c.ropeScaling } : {}),
    ...(c.ropeDim ? { ropeDim: c.ropeDim } : {}),
    ...(c.longRope ? { longRope: c.longRope } : {}),
  });
}
