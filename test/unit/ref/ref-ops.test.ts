// The reference model's ops on hand-computed values, and architecture equivalences that
// tie the qwen/phi3 code paths to the llama path that stories260K verifies:
//   - NeoX RoPE on rows permuted (2i → i, 2i+1 → i + half) equals adjacent RoPE;
//   - GQA with kvHeads < heads equals full attention with each K/V head repeated;
//   - phi3's fused qkv / gate-up equal the separate tensors they pack.
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../../src/model/config';
import { makeTestModel } from '../../helpers/test-model';
import { RefModel, headwiseRmsnorm, matmul, rmsnorm, rope, silu, softmax } from '../../ref/ref-model';
import { loadRefWeights, type RefWeights } from '../../ref/weights';

const f64 = (values: number[]) => Float64Array.from(values);

function expectAllClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThanOrEqual(tolerance);
}

describe('reference ops', () => {
  it('rmsnorm', () => {
    const out = new Float64Array(2);
    rmsnorm(out, f64([3, 4]), f64([1, 2]), 0); // rms = sqrt(12.5)
    expectAllClose(out, [3 / Math.sqrt(12.5), 8 / Math.sqrt(12.5)], 1e-15);
  });

  it('headwise rmsnorm normalizes each head separately with one weight', () => {
    const v = f64([3, 4, 1, 1]);
    headwiseRmsnorm(v, 2, 2, f64([1, 1]), 0);
    expectAllClose(v, [3 / Math.sqrt(12.5), 4 / Math.sqrt(12.5), 1, 1], 1e-15);
  });

  it('matmul reads W as [out][in] rows (ggml [ne0 = in, ne1 = out])', () => {
    // W = [[1, 2, 3], [4, 5, 6]] stored as ne1 = 2 rows of ne0 = 3.
    expectAllClose(matmul(f64([1, 2, 3, 4, 5, 6]), f64([1, 0, -1]), 2, 3), [-2, -2], 0);
  });

  it('rope rotates adjacent pairs or half-split pairs by pos * theta^(-2i/ropeDim)', () => {
    const theta = 100;
    const pos = 3;
    const a0 = pos; // i = 0: freq 1
    const a1 = pos * Math.pow(theta, -2 / 4); // i = 1: freq theta^(-1/2)
    const adjacent = f64([1, 0, 1, 0, 7, 7]); // one head of 6 dims, ropeDim 4: dims 4, 5 untouched
    rope(adjacent, 1, 6, 4, pos, theta, 'adjacent');
    expectAllClose(adjacent, [Math.cos(a0), Math.sin(a0), Math.cos(a1), Math.sin(a1), 7, 7], 1e-15);
    const neox = f64([1, 1, 0, 0, 7, 7]); // pairs (0, 2) and (1, 3)
    rope(neox, 1, 6, 4, pos, theta, 'neox');
    expectAllClose(neox, [Math.cos(a0), Math.cos(a1), Math.sin(a0), Math.sin(a1), 7, 7], 1e-15);
  });

  it('rope divides each pair\'s frequency by its Llama 3 factor', () => {
    const v = f64([1, 0, 1, 0]);
    rope(v, 1, 4, 4, 5, 100, 'adjacent', f64([2, 4]));
    const a0 = 5 / 2;
    const a1 = (5 * Math.pow(100, -0.5)) / 4;
    expectAllClose(v, [Math.cos(a0), Math.sin(a0), Math.cos(a1), Math.sin(a1)], 1e-15);
  });

  it('softmax survives extreme logits', () => {
    const x = f64([1000, 1000, -1000, -Infinity]);
    softmax(x);
    expectAllClose(x, [0.5, 0.5, 0, 0], 1e-300);
  });

  it('silu', () => {
    expect(silu(0)).toBe(0);
    expect(silu(2)).toBeCloseTo(2 / (1 + Math.exp(-2)), 15);
    expect(silu(-800)).toBe(-0); // exp overflow → -800 / Infinity
  });
});

/** Runs `steps` tokens from position 0 and returns all logits concatenated. */
function run(model: RefModel, tokens: number[]): number[] {
  return tokens.flatMap((token, pos) => Array.from(model.forward(token, pos)));
}

const TOKENS = [1, 17, 33, 5, 60, 2, 41];

async function load(options: Parameters<typeof makeTestModel>[0]): Promise<{ config: ModelConfig; weights: RefWeights }> {
  return loadRefWeights(makeTestModel(options));
}

/** Rows of a [numHeads * headDim, in] weight reordered within each head: new row r takes old row perm[r]. */
function permuteHeadRows(weight: Float64Array, numHeads: number, headDim: number, inDim: number, perm: number[]): Float64Array {
  const out = new Float64Array(weight.length);
  for (let h = 0; h < numHeads; h++) {
    for (let r = 0; r < headDim; r++) {
      const from = (h * headDim + perm[r]) * inDim;
      out.set(weight.subarray(from, from + inDim), (h * headDim + r) * inDim);
    }
  }
  return out;
}

describe('architecture equivalences', () => {
  it('adjacent RoPE equals NeoX RoPE on permuted q/k rows (full and partial ropeDim)', async () => {
    for (const ropeDim of [16, 8]) {
      const { config, weights } = await load({
        arch: 'llama', vocab: 64, dim: 48, layers: 2, heads: 3, kvHeads: 1, ffn: 40, headDim: 16, ropeDim, quant: 'F32', seed: 5,
      });
      const half = ropeDim / 2;
      // NeoX slot j holds what adjacent slot 2j (j < half) or 2(j - half) + 1 held; unrotated dims stay.
      const perm = Array.from({ length: config.headDim }, (_, j) => (j >= ropeDim ? j : j < half ? 2 * j : 2 * (j - half) + 1));
      const neoxWeights: RefWeights = {
        ...weights,
        layers: weights.layers.map((lw) => ({
          ...lw,
          wq: permuteHeadRows(lw.wq!, config.numHeads, config.headDim, config.dim, perm),
          wk: permuteHeadRows(lw.wk!, config.numKvHeads, config.headDim, config.dim, perm),
        })),
      };
      const adjacent = run(new RefModel(config, weights, 16), TOKENS);
      const neox = run(new RefModel({ ...config, ropeStyle: 'neox' }, neoxWeights, 16), TOKENS);
      expectAllClose(neox, adjacent, 1e-12);
      // And the permutation matters: NeoX on the unpermuted rows is a different model.
      const wrong = run(new RefModel({ ...config, ropeStyle: 'neox' }, weights, 16), TOKENS);
      expect(Math.max(...wrong.map((v, i) => Math.abs(v - adjacent[i])))).toBeGreaterThan(1e-3);
    }
  });

  it('GQA equals full multi-head attention with each K/V head repeated for its query heads', async () => {
    const { config, weights } = await load({
      arch: 'qwen2', vocab: 64, dim: 48, layers: 2, heads: 6, kvHeads: 2, ffn: 40, quant: 'F32', seed: 9,
    });
    const ratio = config.numHeads / config.numKvHeads;
    const kvRow = config.headDim * config.dim;
    // Query head h reads KV head floor(h / ratio): consecutive query heads share one.
    const repeatRows = (w: Float64Array, rowLength: number) => {
      const out = new Float64Array(config.numHeads * rowLength);
      for (let h = 0; h < config.numHeads; h++) {
        const kv = Math.floor(h / ratio);
        out.set(w.subarray(kv * rowLength, (kv + 1) * rowLength), h * rowLength);
      }
      return out;
    };
    const mhaWeights: RefWeights = {
      ...weights,
      layers: weights.layers.map((lw) => ({
        ...lw,
        wk: repeatRows(lw.wk!, kvRow), wv: repeatRows(lw.wv!, kvRow),
        bk: repeatRows(lw.bk!, config.headDim), bv: repeatRows(lw.bv!, config.headDim),
      })),
    };
    const gqa = run(new RefModel(config, weights, 16), TOKENS);
    const mha = run(new RefModel({ ...config, numKvHeads: config.numHeads }, mhaWeights, 16), TOKENS);
    expectAllClose(mha, gqa, 1e-12);
  });

  it('phi3 fused qkv and gate/up equal the separate tensors they pack', async () => {
    const { config, weights } = await load({
      arch: 'phi3', vocab: 64, dim: 48, layers: 2, heads: 4, kvHeads: 2, ffn: 40, quant: 'F32', seed: 13,
    });
    const qRows = config.numHeads * config.headDim * config.dim;
    const kvRows = config.numKvHeads * config.headDim * config.dim;
    const ffnRows = config.ffnDim * config.dim;
    const splitWeights: RefWeights = {
      ...weights,
      layers: weights.layers.map((lw) => ({
        ...lw,
        wqkv: undefined,
        wq: lw.wqkv!.slice(0, qRows),
        wk: lw.wqkv!.slice(qRows, qRows + kvRows),
        wv: lw.wqkv!.slice(qRows + kvRows),
        wGate: lw.wUp.slice(0, ffnRows),
        wUp: lw.wUp.slice(ffnRows),
      })),
    };
    const fused = run(new RefModel(config, weights, 16), TOKENS);
    const split = run(new RefModel({ ...config, fusedQkv: false, fusedGateUp: false }, splitWeights, 16), TOKENS);
    expectAllClose(split, fused, 0);
  });

  it('qwen3 q/k norms change the model (they are applied)', async () => {
    const { config, weights } = await load({
      arch: 'qwen3', vocab: 64, dim: 48, layers: 1, heads: 4, kvHeads: 2, ffn: 40, quant: 'F32', seed: 2,
    });
    const normed = run(new RefModel(config, weights, 16), TOKENS);
    const plain = run(
      new RefModel({ ...config, qkNorm: false }, { ...weights, layers: weights.layers.map((lw) => ({ ...lw, qNorm: undefined, kNorm: undefined })) }, 16),
      TOKENS,
    );
    expect(Math.max(...plain.map((v, i) => Math.abs(v - normed[i])))).toBeGreaterThan(1e-3);
  });
});

describe('RefModel.forwardMany', () => {
  it('equals feeding the tokens one by one, also when continuing a cached prefix', async () => {
    const { config, weights } = await load({
      arch: 'qwen3', vocab: 64, dim: 48, layers: 1, heads: 4, kvHeads: 2, ffn: 40, quant: 'F32', seed: 21,
    });
    const one = new RefModel(config, weights, 16);
    const expected = TOKENS.map((token, pos) => Array.from(one.forward(token, pos)));
    const many = new RefModel(config, weights, 16);
    const head = many.forwardMany(TOKENS.slice(0, 3));
    const tail = many.forwardMany(TOKENS.slice(3), 3);
    expect([...head, ...tail].map((l) => Array.from(l))).toEqual(expected);
  });
});

describe('Llama 3 RoPE frequency factors', () => {
  it('are read from rope_freqs.weight and change every position but 0', async () => {
    const options = {
      arch: 'llama' as const, vocab: 64, dim: 48, layers: 1, heads: 3, kvHeads: 3, ffn: 40, quant: 'F32' as const, seed: 4,
    };
    const scaled = await loadRefWeights(makeTestModel({ ...options, ropeFreqFactors: true }));
    expect(scaled.config.ropeFreqFactors).toBe(true);
    expect(Array.from(scaled.weights.ropeFreqFactors!)).toEqual(Array.from({ length: 8 }, (_, i) => Math.fround(1 + i)));
    const plain = await loadRefWeights(makeTestModel(options));
    const a = new RefModel(scaled.config, scaled.weights, 8);
    const b = new RefModel(plain.config, plain.weights, 8);
    expectAllClose(a.forward(1, 0), b.forward(1, 0), 0); // rotation by angle 0: factors cannot matter
    const later = a.forward(9, 1);
    const laterPlain = b.forward(9, 1);
    expect(Math.max(...later.map((v, i) => Math.abs(v - laterPlain[i])))).toBeGreaterThan(1e-4);
  });
});
