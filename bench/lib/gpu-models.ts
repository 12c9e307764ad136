// The models of `npm run bench:gpu`: generated (test/helpers/test-model.ts) with the exact
// shapes of Qwen2.5-0.5B-Instruct and Llama-3.2-1B and a Q4_K_M-style type mix (Q4_K,
// Q6_K for attn_v / ffn_down of some layers; Qwen's 896-wide rows fall back to Q8_0, as
// llama.cpp does), and the small shapes of --quick. Generated once per machine into the
// temp directory (bench/lib/node-bench.ts benchModelFile) and reused by both hosts.
import type { TestModelOptions } from '../../test/helpers/test-model';
import type { GpuBenchOptions, KernelSetChoice } from './gpu-measure';

export interface BenchModelSpec {
  name: string;
  options: TestModelOptions;
}

export const QWEN_05B: BenchModelSpec = {
  name: 'Qwen2.5-0.5B shape (Q4_K_M mix)',
  options: { arch: 'qwen2', vocab: 151_936, dim: 896, layers: 24, heads: 14, kvHeads: 2, headDim: 64, ffn: 4864, quant: 'Q4_K_M', seed: 1 },
};

export const LLAMA_1B: BenchModelSpec = {
  name: 'Llama-3.2-1B shape (Q4_K_M mix)',
  options: {
    arch: 'llama', vocab: 128_256, dim: 2048, layers: 16, heads: 32, kvHeads: 8, headDim: 64, ffn: 8192, quant: 'Q4_K_M', seed: 2,
    ropeTheta: 500_000, tiedEmbeddings: true,
  },
};

/** --quick: the two architectures at small sizes (K-quant rows of 256), a few layers. */
export const QWEN_QUICK: BenchModelSpec = {
  name: 'qwen2 quick (256 wide, 4 layers)',
  options: { arch: 'qwen2', vocab: 4096, dim: 256, layers: 4, heads: 4, kvHeads: 2, headDim: 64, ffn: 768, quant: 'Q4_K_M', seed: 3 },
};

export const LLAMA_QUICK: BenchModelSpec = {
  name: 'llama quick (512 wide, 4 layers)',
  options: { arch: 'llama', vocab: 4096, dim: 512, layers: 4, heads: 8, kvHeads: 2, headDim: 64, ffn: 1024, quant: 'Q4_K_M', seed: 4 },
};

export interface GpuBenchPlan {
  quick: boolean;
  models: Array<{ spec: BenchModelSpec; recordOnly?: boolean; kernels?: KernelSetChoice }>;
  options: GpuBenchOptions;
  /** The line under the host that says what ran. */
  label(software: boolean): string;
}

/**
 * Full (a real GPU) or --quick (SwiftShader; with `fullShapeRecord`, the Qwen shape for
 * recording only: first with the GPU kernel set forced, as a real GPU records it — the
 * summary line's R — then with the software set SwiftShader runs, for comparison).
 */
export function gpuBenchPlan(quick: boolean, fullShapeRecord: boolean): GpuBenchPlan {
  if (!quick) {
    return {
      quick,
      models: [{ spec: QWEN_05B }, { spec: LLAMA_1B }],
      options: { batches: [1, 16, 64], decodeSteps: 16, prefillTokens: 512, attentionContexts: [128, 1024, 4096], copyBytes: 256 << 20 },
      label: (software) => `Full shapes, decode ${16} steps per batch size, prefill 512 tokens.${software ? ' (A software adapter: expect this to take long.)' : ''}`,
    };
  }
  return {
    quick,
    models: [
      ...(fullShapeRecord ? [{ spec: QWEN_05B, recordOnly: true, kernels: 'gpu' as const }, { spec: QWEN_05B, recordOnly: true, kernels: 'software' as const }] : []),
      { spec: QWEN_QUICK },
      { spec: LLAMA_QUICK },
    ],
    options: { batches: [1, 16], decodeSteps: 4, prefillTokens: 128, attentionContexts: [128, 1024, 4096], copyBytes: 16 << 20 },
    label: (software) => `--quick: small shapes, decode 4 steps per batch size, prefill 128 tokens${fullShapeRecord ? '; the Qwen2.5-0.5B shape for recording only' : ''}.${software ? ' SwiftShader (smoke values).' : ''}`,
  };
}
