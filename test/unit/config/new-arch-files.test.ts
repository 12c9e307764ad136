// phi3 (LongRoPE), smollm3, gemma2/gemma3 files through modelConfigFromGGUF: what their
// configs read, and a coded error naming the key or tensor for each broken file (missing
// tensors, wrong shapes, inconsistent metadata); and the files no supported architecture
// name makes runnable (mixture of experts, vision towers, mmproj) refused by name.
import { describe, expect, it } from 'vitest';
import { ModelConfigError, modelConfigFromGGUF, type ModelConfig } from '../../../src/model/config';
import { readGGUF } from '../../../src/model/gguf/reader';
import { GGMLType, type GGUFFile } from '../../../src/model/gguf/types';
import { makeTestModel, type TestModelOptions } from '../../helpers/test-model';
import { createEngine } from '../../../src/create-engine';
import type { RunnerFactoryArgs } from '../../../src/engine/types';
import { ropeFactorTensor } from '../../../src/model/rope-scaling';
import { FakeRunner } from '../../../src/testing/fake-runner';

const BASE: TestModelOptions = { arch: 'smollm3', vocab: 40, dim: 32, layers: 8, heads: 4, kvHeads: 2, ffn: 48, quant: 'F32', seed: 3 };

async function fileOf(options: Partial<TestModelOptions>): Promise<GGUFFile> {
  return readGGUF(makeTestModel({ ...BASE, ...options }));
}

async function configOf(options: Partial<TestModelOptions>): Promise<ModelConfig> {
  return modelConfigFromGGUF(await fileOf(options));
}

function refusal(file: Pick<GGUFFile, 'metadata' | 'tensors'>): ModelConfigError {
  try {
    modelConfigFromGGUF(file);
  } catch (e) {
    if (e instanceof ModelConfigError) return e;
    throw e;
  }
  throw new Error('expected a ModelConfigError, nothing was thrown');
}

describe('smollm3 config', () => {
  it("reads llama's layout with adjacent RoPE and no RoPE on every 4th layer (llama.cpp's n_no_rope_layer_step)", async () => {
    const c = await configOf({});
    expect(c).toMatchObject({ arch: 'smollm3', ropeStyle: 'adjacent', fusedQkv: false, fusedGateUp: false, qkNorm: false, ropeDim: 8 });
    expect(c.noRopeLayers).toEqual([false, false, false, true, false, false, false, true]);
  });
  it('refuses a missing projection and a rope.dimension_count below the head size (llama.cpp asserts n_rot == head size)', async () => {
    expect(refusal(await fileOf({ omitTensors: ['blk.5.ffn_gate.weight'] }))).toMatchObject({ code: 'bad_model_config', key: 'blk.5.ffn_gate.weight' });
    expect(refusal(await fileOf({ ropeDim: 4 }))).toMatchObject({ code: 'bad_model_config', key: 'smollm3.rope.dimension_count' });
  });
  it('refuses a feed_forward_length that disagrees with the tensors, naming the first tensor whose shape is wrong', async () => {
    const file = await fileOf({});
    file.metadata['smollm3.feed_forward_length'] = 40;
    const e = refusal(file);
    expect(e).toMatchObject({ code: 'bad_model_config', key: 'blk.0.ffn_gate.weight' });
    expect(e.message).toBe('blk.0.ffn_gate.weight has shape [32, 48], expected [32, 40] from the hyper-parameters');
  });
});

describe('phi3 files', () => {
  const PHI3: Partial<TestModelOptions> = { arch: 'phi3', layers: 2, contextLength: 256, longRope: { originalContextLength: 64 }, ropeDim: 6 };
  it('reads LongRoPE with partial rotary, tied or untied', async () => {
    const untied = await configOf({ ...PHI3, tiedEmbeddings: false });
    expect(untied).toMatchObject({ arch: 'phi3', ropeDim: 6, longRope: { originalContextLength: 64 }, tiedEmbeddings: false, fusedQkv: true });
    expect((await configOf({ ...PHI3, tiedEmbeddings: true })).tiedEmbeddings).toBe(true);
  });
  it('refuses a missing fused qkv, a missing short table, and tables sized for another rope.dimension_count', async () => {
    expect(refusal(await fileOf({ ...PHI3, omitTensors: ['blk.1.attn_qkv.weight'] }))).toMatchObject({ code: 'bad_model_config', key: 'blk.1.attn_qkv.weight' });
    expect(refusal(await fileOf({ ...PHI3, omitTensors: ['rope_factors_short.weight'] }))).toMatchObject({ code: 'bad_model_config', key: 'rope_factors_short.weight' });
    const file = await fileOf(PHI3);
    file.metadata['phi3.rope.dimension_count'] = 8;
    expect(refusal(file)).toMatchObject({ code: 'bad_model_config', key: 'rope_factors_long.weight' });
  });
  it('refuses an original context that is not a positive integer', async () => {
    const file = await fileOf(PHI3);
    file.metadata['phi3.rope.scaling.original_context_length'] = 0;
    expect(refusal(file)).toMatchObject({ code: 'bad_model_config', key: 'phi3.rope.scaling.original_context_length' });
  });
});

describe('phi3 LongRoPE table by the served context', () => {
  it('createEngine hands the runner the context maxModelLength caps, so a context within the original one gets the short table', async () => {
    const bytes = makeTestModel({ ...BASE, arch: 'phi3', layers: 2, vocab: 300, contextLength: 256, longRope: { originalContextLength: 64 } });
    const tables: (string | undefined)[] = [];
    const createRunner = async ({ config }: RunnerFactoryArgs) => {
      tables.push(ropeFactorTensor(config));
      return new FakeRunner({ vocabSize: config.vocabSize, contextLength: config.contextLength, numKvBlocks: 8 });
    };
    for (const maxModelLength of [undefined, 64, 65]) {
      const engine = await createEngine({ model: bytes, createRunner, ...(maxModelLength ? { maxModelLength } : {}) });
      expect((await engine.info()).contextLength).toBe(256); // the model's own context is still reported
      await engine.destroy();
    }
    expect(tables).toEqual(['rope_factors_long.weight', 'rope_factors_short.weight', 'rope_factors_long.weight']);
  });
});

describe('gemma2 / gemma3 files', () => {
  it('refuses a gemma3 key_length that disagrees with the q/k tensors, and a missing q norm', async () => {
    const file = await fileOf({ arch: 'gemma3', layers: 2, gemma: { slidingWindow: 8, swaPattern: 2 } });
    file.metadata['gemma3.attention.key_length'] = 16;
    file.metadata['gemma3.attention.value_length'] = 16;
    expect(refusal(file)).toMatchObject({ code: 'bad_model_config', key: 'blk.0.attn_q.weight' });
    const noNorm = await fileOf({ arch: 'gemma3', layers: 2, omitTensors: ['blk.0.attn_q_norm.weight'] });
    expect(refusal(noNorm)).toMatchObject({ code: 'bad_model_config', key: 'blk.0.attn_q_norm.weight' });
  });
  it('refuses a gemma2 pattern array that is not all bools, and a window that is not an integer', async () => {
    const file = await fileOf({ arch: 'gemma2', layers: 2, gemma: { slidingWindow: 8, swaPattern: [true, false] } });
    file.metadata['gemma2.attention.sliding_window_pattern'] = [true, 1] as never;
    expect(refusal(file)).toMatchObject({ code: 'bad_model_config', key: 'gemma2.attention.sliding_window_pattern' });
    const window = await fileOf({ arch: 'gemma2', layers: 2, gemma: { slidingWindow: 8 } });
    window.metadata['gemma2.attention.sliding_window'] = 7.5;
    expect(refusal(window)).toMatchObject({ code: 'bad_model_config', key: 'gemma2.attention.sliding_window' });
  });
});

describe('files tabllm cannot run are refused by name', () => {
  it('a llama file with experts (Mixtral) names the expert count, not a missing ffn_gate', async () => {
    const file = await fileOf({ arch: 'llama', layers: 2 });
    file.metadata['llama.expert_count'] = 8;
    const e = refusal(file);
    expect(e).toMatchObject({ code: 'unsupported_architecture', key: 'llama.expert_count' });
    expect(e.message).toBe('llama with 8 experts (mixture of experts) is not supported');
    file.metadata['llama.expert_count'] = 0; // dense files may carry 0
    expect(modelConfigFromGGUF(file).arch).toBe('llama');
  });
  it('a phi3 MoE file is refused the same way', async () => {
    const file = await fileOf({ arch: 'phi3', layers: 2 });
    file.metadata['phi3.expert_count'] = 16;
    expect(refusal(file)).toMatchObject({ code: 'unsupported_architecture', key: 'phi3.expert_count' });
  });
  it('a gemma3 file with vision tower tensors names the first one', async () => {
    const file = await fileOf({ arch: 'gemma3', layers: 2 });
    file.tensors.push({ name: 'v.blk.0.attn_q.weight', type: GGMLType.F16, shape: [32, 32], offset: 0, byteLength: 0 });
    const e = refusal(file);
    expect(e).toMatchObject({ code: 'unsupported_architecture', key: 'v.blk.0.attn_q.weight' });
    expect(e.message).toContain('gemma3 with a vision tower');
  });
  it('an mmproj (clip) file says what it is', async () => {
    const file = await fileOf({ arch: 'llama', layers: 2 });
    file.metadata['general.architecture'] = 'clip';
    const e = refusal(file);
    expect(e).toMatchObject({ code: 'unsupported_architecture', key: 'general.architecture' });
    expect(e.message).toContain('vision projector / mmproj');
  });
});
