// The float64 reference encoder (test/ref/ref-encoder.ts) against llama.cpp on generated
// bert and nomic-bert models: pooled vectors agree to cosine >= 0.99999 (llama.cpp computes in
// f32 and reads GELU from an f16 table; the reference is float64 throughout).
import { describe, expect, it } from 'vitest';
import { cosine, openLlamaCppEmbedder } from '../../helpers/llama-cpp-embed-oracle';
import { makeEmbedModel } from '../../helpers/test-embed-model';
import { RefEncoder } from '../../ref/ref-encoder';

const INPUTS = [[101, 7592, 2088, 102], [101, 1996, 4248, 2829, 4419, 14523, 2058, 1996, 13971, 3899, 1012, 102], [101, 102]];

describe('RefEncoder vs llama.cpp', () => {
  for (const [arch, pooling] of [['bert', 1], ['nomic-bert', 2]] as const) {
    it(`${arch} (pooling ${pooling})`, async () => {
      const bytes = await makeEmbedModel({ arch, dim: 32, layers: 2, heads: 4, ffn: 64, quant: 'F32', seed: 701, pooling });
      const ref = await RefEncoder.fromGGUF(bytes);
      const oracle = await openLlamaCppEmbedder(bytes);
      try {
        for (const ids of INPUTS) expect(cosine(ref.embed(ids), await oracle.embed(ids)), `${ids.length} tokens`).toBeGreaterThanOrEqual(0.99999);
      } finally {
        await oracle.dispose();
      }
    }, 120_000);
  }
});
