// modelConfigFromGGUF for embedding models: bert and nomic-bert headers as the test writer
// (llama.cpp-loadable) produces them, decoder pooling (Qwen3-Embedding style), and a coded
// error naming the key or tensor for every missing or inconsistent value.
import { beforeAll, describe, expect, it } from 'vitest';
import { modelConfigFromGGUF, type ModelConfig } from '../../../src/model/config';
import { readGGUF } from '../../../src/model/gguf/reader';
import type { GGUFFile } from '../../../src/model/gguf/types';
import { makeEmbedModel, type EmbedModelOptions } from '../../helpers/test-embed-model';
import { makeTestModel } from '../../helpers/test-model';

const BASE: EmbedModelOptions = { arch: 'bert', dim: 32, layers: 2, heads: 4, ffn: 48, quant: 'F32', seed: 1, pooling: 1, contextLength: 64 };

async function header(o: Partial<EmbedModelOptions> = {}): Promise<GGUFFile> {
  return readGGUF(await makeEmbedModel({ ...BASE, ...o }));
}

function failure(file: Pick<GGUFFile, 'metadata' | 'tensors'>): { code?: string; key?: string } {
  try {
    modelConfigFromGGUF(file);
  } catch (e) {
    return { code: (e as { code?: string }).code, key: (e as { key?: string }).key };
  }
  return {};
}

describe('bert and nomic-bert configs', () => {
  let bert: GGUFFile;
  let nomic: GGUFFile;
  beforeAll(async () => {
    bert = await header();
    nomic = await header({ arch: 'nomic-bert', pooling: 2 });
  });

  it('reads bert: learned positions, GELU, separate q/k/v, LayerNorm epsilon, bidirectional, mean pooling', () => {
    const c: ModelConfig = modelConfigFromGGUF(bert);
    expect(c).toMatchObject({
      arch: 'bert', dim: 32, numLayers: 2, numHeads: 4, numKvHeads: 4, headDim: 8, ffnDim: 48, vocabSize: 30522, contextLength: 64,
      rmsEps: Math.fround(1e-12), pooling: 'mean', bidirectional: true, fusedQkv: false, tiedEmbeddings: true,
      encoder: { positions: 'learned', ffn: 'gelu', numTokenTypes: 2, typeEmbedding: true },
    });
  });

  it('reads nomic-bert: RoPE (neox, rope.freq_base), fused qkv, SwiGLU, cls pooling', () => {
    const c = modelConfigFromGGUF(nomic);
    expect(c).toMatchObject({ arch: 'nomic-bert', fusedQkv: true, ropeStyle: 'neox', ropeTheta: 1000, pooling: 'cls', encoder: { positions: 'rope', ffn: 'swiglu' } });
  });

  it('refuses missing or unknown pooling, pooling none and rank, with the key', async () => {
    const md = (patch: Record<string, unknown>) => ({ ...bert, metadata: { ...bert.metadata, ...patch } as GGUFFile['metadata'] });
    const without = { ...bert, metadata: { ...bert.metadata } };
    delete without.metadata['bert.pooling_type'];
    expect(failure(without)).toEqual({ code: 'bad_model_config', key: 'bert.pooling_type' });
    expect(failure(md({ 'bert.pooling_type': 0 }))).toEqual({ code: 'bad_model_config', key: 'bert.pooling_type' });
    expect(failure(md({ 'bert.pooling_type': 7 }))).toEqual({ code: 'bad_model_config', key: 'bert.pooling_type' });
    expect(failure(md({ 'bert.pooling_type': 'mean' }))).toEqual({ code: 'bad_model_config', key: 'bert.pooling_type' });
    expect(failure(md({ 'bert.pooling_type': 4 }))).toEqual({ code: 'unsupported_architecture', key: 'bert.pooling_type' });
    expect(failure(md({ 'bert.attention.causal': 1 }))).toEqual({ code: 'bad_model_config', key: 'bert.attention.causal' });
    const noEps = { ...bert, metadata: { ...bert.metadata } };
    delete noEps.metadata['bert.attention.layer_norm_epsilon'];
    expect(failure(noEps)).toEqual({ code: 'bad_model_config', key: 'bert.attention.layer_norm_epsilon' });
    const noTypes = { ...bert, metadata: { ...bert.metadata } };
    delete noTypes.metadata['tokenizer.ggml.token_type_count'];
    expect(failure(noTypes)).toEqual({ code: 'bad_model_config', key: 'tokenizer.ggml.token_type_count' });
  });

  it('refuses a missing required tensor and a wrong shape, naming the tensor; optional biases may be absent', () => {
    for (const name of ['position_embd.weight', 'token_embd_norm.bias', 'blk.1.attn_output_norm.weight', 'blk.0.layer_output_norm.bias', 'blk.0.attn_q.weight', 'blk.1.ffn_down.weight']) {
      expect(failure({ ...bert, tensors: bert.tensors.filter((t) => t.name !== name) }), name).toEqual({ code: 'bad_model_config', key: name });
    }
    expect(failure({ ...nomic, tensors: nomic.tensors.filter((t) => t.name !== 'blk.0.ffn_gate.weight') })).toEqual({ code: 'bad_model_config', key: 'blk.0.ffn_gate.weight' });
    const reshaped = bert.tensors.map((t) => (t.name === 'blk.0.ffn_up.bias' ? { ...t, shape: [47] } : t));
    expect(failure({ ...bert, tensors: reshaped })).toEqual({ code: 'bad_model_config', key: 'blk.0.ffn_up.bias' });
    const shortPositions = bert.tensors.map((t) => (t.name === 'position_embd.weight' ? { ...t, shape: [32, 63] } : t));
    expect(failure({ ...bert, tensors: shortPositions })).toEqual({ code: 'bad_model_config', key: 'position_embd.weight' });
    const noBiases = bert.tensors.filter((t) => !/\.(attn_[qkv]|attn_output|ffn_up|ffn_down)\.bias$/.test(t.name));
    expect(modelConfigFromGGUF({ ...bert, tensors: noBiases }).encoder?.ffn).toBe('gelu');
    expect(modelConfigFromGGUF({ ...bert, tensors: bert.tensors.filter((t) => t.name !== 'token_types.weight') }).encoder?.typeEmbedding).toBe(false);
  });
});

describe('decoder pooling (Qwen3-Embedding, gte-Qwen2 style)', () => {
  const qwen3 = (o: { pooling?: number; causal?: boolean } = {}) =>
    readGGUF(makeTestModel({ arch: 'qwen3', vocab: 300, dim: 32, layers: 1, heads: 4, kvHeads: 2, ffn: 48, quant: 'F32', seed: 2, ...o }));

  it('last pooling, causal by default; no pooling key: a generative model', async () => {
    expect(modelConfigFromGGUF(await qwen3({ pooling: 3 }))).toMatchObject({ pooling: 'last', tiedEmbeddings: true });
    expect(modelConfigFromGGUF(await qwen3({ pooling: 3 })).bidirectional).toBeUndefined();
    expect(modelConfigFromGGUF(await qwen3({ pooling: 1, causal: false }))).toMatchObject({ pooling: 'mean', bidirectional: true });
    expect(modelConfigFromGGUF(await qwen3()).pooling).toBeUndefined();
    expect(modelConfigFromGGUF(await qwen3({ pooling: 0 })).pooling).toBeUndefined();
  });

  it('refuses an unknown pooling type on a decoder too', async () => {
    expect(failure(await qwen3({ pooling: 9 }))).toEqual({ code: 'bad_model_config', key: 'qwen3.pooling_type' });
  });
});
