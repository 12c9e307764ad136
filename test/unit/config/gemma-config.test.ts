// gemma, gemma2, gemma3 headers (generated GGUF files, test/helpers/test-model.ts) through
// modelConfigFromGGUF: llama.cpp's defaults (soft-caps, window, pattern, local RoPE base,
// q scale) and a coded error naming the key or tensor for each inconsistent file.
import { describe, expect, it } from 'vitest';
import { ModelConfigError, modelConfigFromGGUF, type ModelConfig } from '../../../src/model/config';
import { readGGUF } from '../../../src/model/gguf/reader';
import { makeTestModel, type TestModelOptions } from '../../helpers/test-model';

const BASE: TestModelOptions = { arch: 'gemma2', vocab: 40, dim: 32, layers: 4, heads: 4, kvHeads: 2, ffn: 48, quant: 'F32', seed: 1 };

async function configOf(options: Partial<TestModelOptions>): Promise<ModelConfig> {
  return modelConfigFromGGUF(await readGGUF(makeTestModel({ ...BASE, ...options })));
}

async function refusal(options: Partial<TestModelOptions>): Promise<ModelConfigError> {
  const e = await configOf(options).then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ModelConfigError);
  return e as ModelConfigError;
}

describe('gemma2 config', () => {
  it("applies llama.cpp's defaults: soft-caps 50 / 30, window 4096 on even layers, sqrt(dim) embedding scale, GeGLU, post-norms", async () => {
    const c = await configOf({});
    expect(c).toMatchObject({
      arch: 'gemma2', ropeStyle: 'neox', tiedEmbeddings: true, ffnAct: 'gelu', postNorms: true,
      attnSoftcap: 50, finalSoftcap: 30, embedScale: Math.fround(Math.sqrt(32)), attnScale: Math.fround(1 / Math.sqrt(8)),
    });
    expect(c.slidingWindow).toEqual({ size: 4096, localLayers: [true, false, true, false], ropeTheta: 10000, ropeScaled: true });
  });
  it('reads the window, pattern, soft-caps and local RoPE base from the file', async () => {
    const c = await configOf({ gemma: { slidingWindow: 8, swaPattern: 3, attnSoftcap: 2, finalSoftcap: 4, ropeThetaSwa: 500 } });
    expect(c).toMatchObject({ attnSoftcap: 2, finalSoftcap: 4 });
    expect(c.slidingWindow).toEqual({ size: 8, localLayers: [true, true, false, true], ropeTheta: 500, ropeScaled: true });
  });
  it('takes a per-layer bool pattern', async () => {
    const c = await configOf({ gemma: { swaPattern: [false, true, true, false] } });
    expect(c.slidingWindow!.localLayers).toEqual([false, true, true, false]);
  });
  it('scales q by 1/sqrt(dim / heads) at the 27B layer count, as llama.cpp does', async () => {
    const c = await configOf({ layers: 46, headDim: 16 });
    expect(c.attnScale).toBe(Math.fround(1 / Math.sqrt(32 / 4)));
  });
  it('refuses a missing post-norm tensor, naming it', async () => {
    const e = await refusal({ omitTensors: ['blk.1.post_ffw_norm.weight'] });
    expect(e).toMatchObject({ code: 'bad_model_config', key: 'blk.1.post_ffw_norm.weight' });
    expect((await refusal({ omitTensors: ['blk.0.post_attention_norm.weight'] })).key).toBe('blk.0.post_attention_norm.weight');
  });
  it('reads pattern 0 as every layer local (llama.cpp: n_pattern == 0 → all SWA)', async () => {
    expect((await configOf({ gemma: { swaPattern: 0 } })).slidingWindow!.localLayers).toEqual([true, true, true, true]);
  });
  it('refuses a window of 0, a negative or fractional pattern, and a pattern array of the wrong length', async () => {
    expect(await refusal({ gemma: { slidingWindow: 0 } })).toMatchObject({ code: 'bad_model_config', key: 'gemma2.attention.sliding_window' });
    const fractional = await readGGUF(makeTestModel({ ...BASE, gemma: { swaPattern: 2 } }));
    fractional.metadata['gemma2.attention.sliding_window_pattern'] = 1.5;
    expect(() => modelConfigFromGGUF(fractional)).toThrow(expect.objectContaining({ code: 'bad_model_config', key: 'gemma2.attention.sliding_window_pattern' }));
    expect(await refusal({ gemma: { swaPattern: [true, false] } })).toMatchObject({ code: 'bad_model_config', key: 'gemma2.attention.sliding_window_pattern' });
  });
  it('refuses non-positive soft-caps', async () => {
    expect(await refusal({ gemma: { attnSoftcap: 0 } })).toMatchObject({ code: 'bad_model_config', key: 'gemma2.attn_logit_softcapping' });
    expect(await refusal({ gemma: { finalSoftcap: -1 } })).toMatchObject({ code: 'bad_model_config', key: 'gemma2.final_logit_softcapping' });
  });
  it('refuses an untied output.weight, which llama.cpp would ignore', async () => {
    expect(await refusal({ tiedEmbeddings: false })).toMatchObject({ code: 'bad_model_config', key: 'output.weight' });
  });
});

describe('gemma3 config', () => {
  it('has no window without the key, and no soft-caps by default', async () => {
    const c = await configOf({ arch: 'gemma3' });
    expect(c.slidingWindow).toBeUndefined();
    expect(c.attnSoftcap).toBeUndefined();
    expect(c.finalSoftcap).toBeUndefined();
    expect(c).toMatchObject({ qkNorm: true, postNorms: true, ffnAct: 'gelu' });
  });
  it('windows 5 of every 6 layers with a local RoPE base of 10000 and unscaled local layers by default', async () => {
    const c = await configOf({ arch: 'gemma3', layers: 7, ropeTheta: 1e6, gemma: { slidingWindow: 512 } });
    expect(c.ropeTheta).toBe(1e6);
    expect(c.slidingWindow).toEqual({ size: 512, localLayers: [true, true, true, true, true, false, true], ropeTheta: 10000, ropeScaled: false });
  });
  it('refuses a file without q/k norms', async () => {
    const e = await refusal({ arch: 'gemma3', omitTensors: ['blk.0.attn_q_norm.weight', 'blk.0.attn_k_norm.weight'] });
    expect(e).toMatchObject({ code: 'bad_model_config', key: 'blk.0.attn_q_norm.weight' });
  });
});

describe('gemma (v1) config', () => {
  it('scales the embedding, uses GeGLU and a tied head, nothing of gemma2', async () => {
    const c = await configOf({ arch: 'gemma' });
    expect(c).toMatchObject({ arch: 'gemma', ropeStyle: 'neox', tiedEmbeddings: true, ffnAct: 'gelu', embedScale: Math.fround(Math.sqrt(32)) });
    expect([c.postNorms, c.attnSoftcap, c.finalSoftcap, c.slidingWindow, c.attnScale]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(await refusal({ arch: 'gemma', tiedEmbeddings: false })).toMatchObject({ code: 'bad_model_config', key: 'output.weight' });
  });
});
