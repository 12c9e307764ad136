import { describe, expect, it } from 'vitest';
import { makeTestModel, Rng, testModelPlan, type TestModelOptions } from '../../helpers/test-model';
import { writeGGUF } from '../../../src/model/gguf/writer';
import { quantize } from '../../../src/model/gguf/quantize';

describe('test model plan (tensors drawn apart, as scripts/gen-bench-models.ts does)', () => {
  it('Rng.skipNormals(n) lands where n normal() calls land, past 2^31 draws too', () => {
    for (const n of [0, 1, 2, 7, 1000]) {
      const walked = new Rng(42);
      for (let i = 0; i < n; i++) walked.normal();
      expect(new Rng(42).skipNormals(n).normal()).toBe(walked.normal());
    }
    // 2n·golden wraps modulo 2^32: compare with the exact integer sum.
    for (const n of [1_073_741_824, 1_500_000_001, 3_000_000_000]) {
      const exact = Number((BigInt(42) + BigInt(2 * n) * 0x9e3779b9n) % 2n ** 32n);
      const expected = new Rng(exact | 0);
      expect(new Rng(42).skipNormals(n).next()).toBe(expected.next());
    }
  });

  it('a tensor drawn in pieces of whole rows and encoded piece by piece gives its bytes', () => {
    const plan = testModelPlan({ arch: 'llama', vocab: 300, dim: 256, layers: 1, heads: 4, kvHeads: 2, ffn: 512, quant: 'Q4_K_M', seed: 3 });
    for (const t of plan.tensors.filter((x) => x.shape.length === 2)) {
      const all = t.values();
      const rows = t.shape[1]!, row = t.shape[0]!;
      const cut = Math.floor(rows / 3) * row;
      expect(Buffer.from(t.values(cut, 2 * row).buffer).equals(Buffer.from(all.subarray(cut, cut + 2 * row).slice().buffer))).toBe(true);
      const pieces = [quantize(t.type, t.values(0, cut)), quantize(t.type, t.values(cut))];
      expect(Buffer.concat(pieces).equals(Buffer.from(quantize(t.type, all)))).toBe(true);
    }
  });

  it('tensors drawn in any order and encoded apart give makeTestModel bytes', () => {
    const options: TestModelOptions = { arch: 'llama', vocab: 300, dim: 256, layers: 3, heads: 4, kvHeads: 2, ffn: 512, quant: 'Q4_K_M', seed: 9, ropeFreqFactors: true, tiedEmbeddings: false };
    const plan = testModelPlan(options);
    const order = plan.tensors.map((_, i) => i).reverse();
    const data = new Array<Uint8Array>(plan.tensors.length);
    for (const i of order) data[i] = quantize(plan.tensors[i]!.type, plan.tensors[i]!.values());
    const apart = writeGGUF({ metadata: plan.metadata, tensors: plan.tensors.map((t, i) => ({ name: t.name, type: t.type, shape: t.shape, data: data[i]! })) });
    expect(Buffer.from(apart).equals(Buffer.from(makeTestModel(options)))).toBe(true);
  });
});
