// tabllm's embeddings against llama.cpp (node-llama-cpp's CPU build, unnormalised pooled
// vectors: test/helpers/llama-cpp-embed-oracle.ts) on generated bert, nomic-bert and
// Qwen3-Embedding-style (qwen3, last-token pooling) models in F32, F16 and Q8_0.
//
// Each case embeds several texts of different lengths in ONE ragged batch and compares each
// vector with llama.cpp's for that text alone: cosine >= 0.9999. Quantized files are compared
// with llama.cpp on their F32 dequantized copy (ggml rounds activations to Q8 before a
// quantized matmul; tabllm keeps f32). The residual difference is f32 rounding plus ggml's
// GELU, which reads a table of f16 values (GGML_GELU_FP16) where tabllm computes the same
// tanh formula in f32.
//
// For the WordPiece models the ids come from tabllm's tokenizer ([CLS] ... [SEP]) and must
// equal llama.cpp's tokenization of the same text.
import { afterAll, describe, expect, it } from 'vitest';
import { Tokenizer } from '../../src/model/tokenizer';
import { readGGUF } from '../../src/model/gguf/reader';
import { cosine, openLlamaCppEmbedder, type LlamaCppEmbedder } from '../helpers/llama-cpp-embed-oracle';
import { dequantizedF32Copy } from '../helpers/llama-cpp-oracle';
import { makeEmbedModel } from '../helpers/test-embed-model';
import { makeTestModel, type TestQuant } from '../helpers/test-model';
import { loadEmbedRunner } from './embed-harness';

const MIN_COSINE = 0.9999;

const TEXTS = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog, twice; then it sleeps.',
  'naïve café — 你好 (unaffable) tokenization!',
  'a',
  'Embeddings map text to vectors: similar meanings land close together, so search, clustering and retrieval can compare them by cosine.',
];

/** Qwen3-style decoder inputs: BOS (1) then ids spread over the 300-token test vocabulary. */
const DECODER_INPUTS = [7, 20, 1, 33].map((n, k) => [1, ...Array.from({ length: n - 1 }, (_, i) => 3 + ((i * 37 + k * 11) % 290))]);

interface Case {
  name: string;
  quant: TestQuant;
  model: () => Promise<Uint8Array>;
  /** WordPiece models: embed TEXTS through the tokenizer; decoders: DECODER_INPUTS. */
  texts: boolean;
}

const bert = (quant: TestQuant, pooling: number, seed: number) => () =>
  makeEmbedModel({ arch: 'bert', dim: 64, layers: 2, heads: 4, ffn: 96, quant, seed, pooling });
const nomic = (quant: TestQuant, seed: number) => () =>
  makeEmbedModel({ arch: 'nomic-bert', dim: 64, layers: 2, heads: 4, ffn: 96, quant, seed, pooling: 1 });
const qwen3 = (quant: TestQuant, seed: number) => async () =>
  makeTestModel({
    arch: 'qwen3', vocab: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 24, ffn: 96, quant, seed, pooling: 3,
    contextLength: 128, name: 'tabllm-test-qwen3-embedding',
  });

const CASES: Case[] = [
  { name: 'bert F32, mean pooling', quant: 'F32', model: bert('F32', 1, 501), texts: true },
  { name: 'bert F16, cls pooling', quant: 'F16', model: bert('F16', 2, 502), texts: true },
  { name: 'bert Q8_0, mean pooling', quant: 'Q8_0', model: bert('Q8_0', 1, 503), texts: true },
  { name: 'nomic-bert F32 (fused qkv, RoPE, SwiGLU), mean pooling', quant: 'F32', model: nomic('F32', 504), texts: true },
  { name: 'nomic-bert F16', quant: 'F16', model: nomic('F16', 505), texts: true },
  { name: 'nomic-bert Q8_0', quant: 'Q8_0', model: nomic('Q8_0', 506), texts: true },
  { name: 'qwen3 embedding F32, last-token pooling', quant: 'F32', model: qwen3('F32', 507), texts: false },
  { name: 'qwen3 embedding F16', quant: 'F16', model: qwen3('F16', 508), texts: false },
  { name: 'qwen3 embedding Q8_0', quant: 'Q8_0', model: qwen3('Q8_0', 509), texts: false },
];

const disposers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of disposers) await d();
});

async function oracleFor(c: Case, bytes: Uint8Array): Promise<LlamaCppEmbedder> {
  const oracle = await openLlamaCppEmbedder(c.quant === 'F32' || c.quant === 'F16' ? bytes : await dequantizedF32Copy(bytes));
  disposers.push(() => oracle.dispose());
  return oracle;
}

describe('ModelRunner.embed vs llama.cpp on generated embedding models', () => {
  for (const c of CASES) {
    it(`${c.name}: every vector of a ragged batch has cosine >= ${MIN_COSINE} with llama.cpp's`, async () => {
      const bytes = await c.model();
      const oracle = await oracleFor(c, bytes);
      let inputs: number[][];
      if (c.texts) {
        const tok = Tokenizer.fromMetadata((await readGGUF(bytes)).metadata);
        inputs = TEXTS.map((text) => tok.encode(text));
        TEXTS.forEach((text, i) => expect(inputs[i], `tokenization of ${JSON.stringify(text)}`).toEqual([101, ...oracle.tokenize(text), 102]));
      } else {
        inputs = DECODER_INPUTS;
      }
      const runner = await loadEmbedRunner(bytes);
      try {
        const got = await runner.embed({ sequences: inputs.map((ids) => Int32Array.from(ids)) });
        expect(got).toHaveLength(inputs.length);
        for (let i = 0; i < inputs.length; i++) {
          const expected = await oracle.embed(inputs[i]);
          expect(got[i]).toHaveLength(expected.length);
          expect(cosine(got[i], expected), `${c.name}, input ${i}`).toBeGreaterThanOrEqual(MIN_COSINE);
        }
        // Vectors are distinct per input (pooling did not mix sequences or repeat one row).
        expect(cosine(got[0], got[1])).toBeLessThan(0.999);
      } finally {
        runner.destroy();
      }
    });
  }
});
