// The GPU encoder path against the float64 reference encoder (test/ref/ref-encoder.ts) at tiny
// shapes, ragged batch: every pooled value within 2e-6 of the reference, relative to the
// vector's largest |value| (f32 matmuls, LayerNorms and attention over 2 layers).
import { describe, expect, it } from 'vitest';
import { makeEmbedModel } from '../helpers/test-embed-model';
import { RefEncoder } from '../ref/ref-encoder';
import { maxAbsDiff } from './kernels/harness';
import { loadEmbedRunner } from './embed-harness';

const INPUTS = [[101, 7592, 2088, 102], [101, ...Array.from({ length: 29 }, (_, i) => 2000 + i * 97), 102], [101, 102]];

describe('GPU encoder vs float64 reference', () => {
  for (const [arch, pooling] of [['bert', 1], ['nomic-bert', 3], ['bert', 2]] as const) {
    it(`${arch}, pooling ${pooling}`, async () => {
      const bytes = await makeEmbedModel({ arch, dim: 48, layers: 2, heads: 3, ffn: 80, quant: 'F32', seed: 702, pooling });
      const ref = await RefEncoder.fromGGUF(bytes);
      const runner = await loadEmbedRunner(bytes);
      try {
        const got = await runner.embed({ sequences: INPUTS.map((ids) => Int32Array.from(ids)) });
        INPUTS.forEach((ids, s) => {
          const want = ref.embed(ids);
          const scale = Math.max(...Array.from(want, Math.abs));
          const err = maxAbsDiff(got[s], want) / scale;
          console.info(`${arch} pooling ${pooling} sequence ${s}: max error ${err.toExponential(2)} of the largest value`);
          expect(err).toBeLessThan(2e-6);
        });
      } finally {
        runner.destroy();
      }
    });
  }
});
