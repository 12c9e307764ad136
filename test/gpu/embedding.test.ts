// Embedding gather vs the CPU dequantization of the same bytes. Exact: every GPU
// dequant step is exact in f32 except one final rounding (f16 d × small ints fit in
// 24 bits), so the GPU row equals fround(float64 dequant) bit for bit.
import { describe, expect, it } from 'vitest';
import { uploadWeightBytes } from '../../src/gpu/weights';
import { embedding } from '../../src/kernels/embedding';
import { KernelArgError } from '../../src/kernels/encoder';
import { GGMLType } from '../../src/model/gguf/types';
import { dequantRef, randomTensorBytes } from './matmul-fixtures';
import { record, runEmbedding, testContext } from './matmul-run';

// [name, type, dim]: vocab 97 rows; dims ragged where the type allows
const CASES: [string, GGMLType, number][] = [
  ['F32', GGMLType.F32, 45],
  ['F16', GGMLType.F16, 45],
  ['Q8_0', GGMLType.Q8_0, 96],
  ['Q4_0', GGMLType.Q4_0, 96],
  ['Q4_K', GGMLType.Q4_K, 256],
  ['Q5_K', GGMLType.Q5_K, 256],
  ['Q6_K', GGMLType.Q6_K, 512],
  ['BF16', GGMLType.BF16, 45],
  ['Q4_1', GGMLType.Q4_1, 96],
  ['Q5_0', GGMLType.Q5_0, 96],
  ['Q5_1', GGMLType.Q5_1, 96],
  ['Q2_K', GGMLType.Q2_K, 256],
  ['Q3_K', GGMLType.Q3_K, 512],
  ['IQ4_NL', GGMLType.IQ4_NL, 96],
  ['IQ4_XS', GGMLType.IQ4_XS, 256],
];
const VOCAB = 97;
const IDS = Int32Array.from([0, 96, 5, 5, 50, 1, 95, 0, 33, 64, 17]);

function expectRows(got: Float32Array, ids: Int32Array, ref: Float64Array, dim: number): void {
  for (let t = 0; t < ids.length; t++) {
    const row = ids[t];
    for (let k = 0; k < dim; k++) {
      const want = row < 0 || row >= VOCAB ? 0 : Math.fround(ref[row * dim + k]);
      if (!Object.is(got[t * dim + k], want) && !(got[t * dim + k] === 0 && want === 0)) {
        throw new Error(`token ${t} (id ${row}) element ${k}: gpu ${got[t * dim + k]} vs cpu ${want}`);
      }
    }
  }
}

describe.each(CASES)('embedding %s', (_name, type, dim) => {
  const bytes = randomTensorBytes(type, VOCAB, dim, 40 + type, { scaleExp: [-3, 6] });
  const ref = dequantRef(type, bytes, VOCAB, dim);

  it('gathers rows exactly (repeats, first and last id)', async () => {
    const ctx = await testContext();
    const w = await uploadWeightBytes(ctx, 'emb', type, [dim, VOCAB], bytes);
    expectRows(await runEmbedding(ctx, w, IDS), IDS, ref, dim);
    w.destroy();
  });

  it('vocab split into parts: same rows; out-of-range ids give zero rows', async () => {
    const ctx = await testContext();
    const rowBytes = bytes.length / VOCAB;
    const w = await uploadWeightBytes(ctx, 'emb-split', type, [dim, VOCAB], bytes, { maxPartBytes: rowBytes * 16 + 8 });
    expect(w.parts.length).toBeGreaterThanOrEqual(6);
    const ids = Int32Array.from([...IDS, -1, VOCAB, 1 << 30]);
    const got = await runEmbedding(ctx, w, ids);
    expectRows(got, ids, ref, dim);
    expect(Array.from(got.subarray(IDS.length * dim)).every((v) => v === 0)).toBe(true);
    w.destroy();
  });
});

describe('embedding guards', () => {
  it('rejects undersized buffers and bad token counts with kernel_bad_args', async () => {
    const ctx = await testContext();
    const w = await uploadWeightBytes(ctx, 'emb', GGMLType.F32, [8, 4], randomTensorBytes(GGMLType.F32, 4, 8, 1));
    const ids = ctx.storage('ids', 3 * 4);
    const out = ctx.storage('out', 3 * 8 * 4);
    for (const args of [
      { tokenIds: ids, out, numTokens: 4 },
      { tokenIds: ids, out: ctx.storage('small', 8), numTokens: 3 },
      { tokenIds: ids, out, numTokens: -1 },
    ]) {
      const err = await record(ctx, (enc) => embedding(enc, { weight: w, ...args })).catch((e) => e);
      expect(err).toBeInstanceOf(KernelArgError);
    }
    w.destroy();
  });
});
