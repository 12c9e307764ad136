// RoPE scaling from `<arch>.rope.scaling.*`: how modelConfigFromGGUF reads the keys
// (llama.cpp's defaults: a bare factor is linear, original context = context_length),
// the coded errors for unsupported types and bad values, and the per-pair frequencies /
// magnitude against hand-computed YaRN values. Agreement with llama.cpp itself is checked
// end to end in test/gpu/llama-cpp-agreement.test.ts.
import { describe, expect, it } from 'vitest';
import { ModelConfigError, modelConfigFromGGUF } from '../../../src/model/config';
import { ropeMagnitude, ropePairFrequencies, yarnCorrectionDims } from '../../../src/model/rope-scaling';
import { readGGUF } from '../../../src/model/gguf/reader';
import { makeTestModel, type TestModelOptions } from '../../helpers/test-model';

async function configWith(ropeScaling: TestModelOptions['ropeScaling'], extra: Partial<TestModelOptions> = {}) {
  const bytes = makeTestModel({
    arch: 'qwen2', vocab: 16, dim: 32, layers: 1, heads: 2, kvHeads: 1, ffn: 32, quant: 'F32', seed: 1, contextLength: 512,
    ...(ropeScaling ? { ropeScaling } : {}), ...extra,
  });
  return modelConfigFromGGUF(await readGGUF(bytes));
}

async function errorOf(p: Promise<unknown>): Promise<ModelConfigError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ModelConfigError) return e;
    throw new Error(`expected a ModelConfigError, got ${String(e)}`);
  }
  throw new Error('expected a ModelConfigError, nothing was thrown');
}

describe('modelConfigFromGGUF RoPE scaling', () => {
  it('has no scaling without the keys, for type none, and for linear factor 1', async () => {
    expect((await configWith(undefined)).ropeScaling).toBeUndefined();
    expect((await configWith({ type: 'none', factor: 4 })).ropeScaling).toBeUndefined();
    expect((await configWith({ type: 'linear', factor: 1 })).ropeScaling).toBeUndefined();
  });

  it('reads linear, and a bare factor as linear (llama.cpp defaults the type to linear)', async () => {
    const linear = { type: 'linear', factor: 4, attnFactor: 1, originalContextLength: 512, betaFast: 32, betaSlow: 1 };
    expect((await configWith({ type: 'linear', factor: 4 })).ropeScaling).toEqual(linear);
    expect((await configWith({ factor: 4 })).ropeScaling).toEqual(linear);
  });

  it('reads yarn with its original context, and attn_factor for any type', async () => {
    expect((await configWith({ type: 'yarn', factor: 4, originalContextLength: 32, attnFactor: 0.5 })).ropeScaling).toEqual({
      type: 'yarn', factor: 4, attnFactor: 0.5, originalContextLength: 32, betaFast: 32, betaSlow: 1,
    });
    expect((await configWith({ type: 'none', attnFactor: 2 })).ropeScaling).toMatchObject({ type: 'none', factor: 1, attnFactor: 2 });
  });

  it('reads longrope as linear angle scaling (ggml: freq_scale without the YaRN ramp); its tables are tensors', async () => {
    expect((await configWith({ type: 'longrope', factor: 4 })).ropeScaling).toMatchObject({ type: 'longrope', factor: 4 });
    expect((await configWith({ type: 'longrope' })).ropeScaling).toBeUndefined();
    const s = { type: 'longrope' as const, factor: 4, attnFactor: 1, originalContextLength: 32, betaFast: 32, betaSlow: 1 };
    const base = { ropeTheta: 10000, ropeDim: 8 };
    expect(Array.from(ropePairFrequencies({ ...base, ropeScaling: s }))).toEqual(Array.from(ropePairFrequencies(base), (f) => f / 4));
  });

  it('refuses unknown types with a coded error naming the type and key', async () => {
    for (const type of ['dynamic', 'su']) {
      const err = await errorOf(configWith({ type, factor: 4 }));
      expect(err.code).toBe('unsupported_architecture');
      expect(err.key).toBe('qwen2.rope.scaling.type');
      expect(err.message).toContain(`'${type}'`);
    }
  });

  it('refuses negative factors and non-positive attn_factor / original context with the key at fault', async () => {
    const cases: [TestModelOptions['ropeScaling'], string][] = [
      [{ type: 'linear', factor: -2 }, 'qwen2.rope.scaling.factor'],
      [{ type: 'yarn', factor: 4, attnFactor: 0 }, 'qwen2.rope.scaling.attn_factor'],
      [{ type: 'yarn', factor: 4, attnFactor: Number.NaN }, 'qwen2.rope.scaling.attn_factor'],
      [{ type: 'yarn', factor: 4, originalContextLength: 0 }, 'qwen2.rope.scaling.original_context_length'],
    ];
    for (const [scaling, key] of cases) {
      const err = await errorOf(configWith(scaling));
      expect(err.code).toBe('bad_model_config');
      expect(err.key).toBe(key);
    }
  });
});

describe('ropePairFrequencies / ropeMagnitude', () => {
  const base = { ropeTheta: 10000, ropeDim: 16 };
  const plain = ropePairFrequencies(base);

  it('divides every frequency by the linear factor; magnitude is attn_factor', () => {
    const s = { type: 'linear' as const, factor: 4, attnFactor: 1.5, originalContextLength: 32, betaFast: 32, betaSlow: 1 };
    const f = ropePairFrequencies({ ...base, ropeScaling: s });
    for (let i = 0; i < 8; i++) expect(f[i]).toBeCloseTo(plain[i] / 4, 15);
    expect(ropeMagnitude({ ...base, ropeScaling: s })).toBe(1.5);
  });

  it('yarn: fast pairs keep their frequency, slow pairs are divided, the ramp between is linear', () => {
    const s = { type: 'yarn' as const, factor: 4, attnFactor: 1, originalContextLength: 32, betaFast: 32, betaSlow: 1 };
    // corr dim for beta: 16 ln(32 / (2 pi beta)) / (2 ln 10000): beta 32 -> -0.32 -> floor -1 -> 0; beta 1 -> 1.41 -> ceil 2.
    expect(yarnCorrectionDims(16, 32, 10000, 32, 1)).toEqual([0, 2]);
    const f = ropePairFrequencies({ ...base, ropeScaling: s });
    expect(f[0]).toBeCloseTo(plain[0], 15); // mix 1
    expect(f[1]).toBeCloseTo(plain[1] * (0.5 / 4 + 0.5), 15); // mix 1 - 1/2
    for (let i = 2; i < 8; i++) expect(f[i]).toBeCloseTo(plain[i] / 4, 15); // mix 0
    expect(ropeMagnitude({ ...base, ropeScaling: s })).toBeCloseTo(1 + 0.1 * Math.log(4), 15);
    expect(ropeMagnitude({ ...base, ropeScaling: { ...s, attnFactor: 0.5 } })).toBeCloseTo(0.5 * (1 + 0.1 * Math.log(4)), 15);
  });

  it('applies Llama 3 divisors before scaling, as ggml does', () => {
    const s = { type: 'linear' as const, factor: 2, attnFactor: 1, originalContextLength: 32, betaFast: 32, betaSlow: 1 };
    const factors = Array.from({ length: 8 }, (_, i) => 1 + i);
    const f = ropePairFrequencies({ ...base, ropeScaling: s }, factors);
    for (let i = 0; i < 8; i++) expect(f[i]).toBeCloseTo(plain[i] / factors[i] / 2, 15);
  });
});
