// The random test-model generator: deterministic bytes, files that read back through the
// GGUF reader and the config parser for every architecture, and a reference forward pass
// that behaves (finite, spread-out logits; Q8_0 tracks F32).
import { describe, expect, it } from 'vitest';
import { modelConfigFromGGUF } from '../../../src/model/config';
import { readGGUF } from '../../../src/model/gguf/reader';
import { GGMLType } from '../../../src/model/gguf/types';
import { ChatTemplate } from '../../../src/model/template';
import { Tokenizer } from '../../../src/model/tokenizer';
import {
  TestModelError, defaultTokenizer, makeTestModel, weightTypeFor, type TestModelOptions,
} from '../../helpers/test-model';
import { RefModel, argmax } from '../../ref/ref-model';

const ARCHS = ['llama', 'qwen2', 'qwen3', 'phi3'] as const;
const SMALL: Omit<TestModelOptions, 'arch'> = {
  vocab: 96, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, quant: 'F32', seed: 7,
};

function std(values: Float64Array): number {
  let mean = 0;
  for (const v of values) mean += v / values.length;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2 / values.length;
  return Math.sqrt(variance);
}

describe('makeTestModel', () => {
  it('is deterministic per seed', () => {
    const a = makeTestModel({ ...SMALL, arch: 'qwen2', quant: 'Q4_0' });
    const b = makeTestModel({ ...SMALL, arch: 'qwen2', quant: 'Q4_0' });
    const c = makeTestModel({ ...SMALL, arch: 'qwen2', quant: 'Q4_0', seed: 8 });
    expect(a.length).toBe(b.length);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(c.length).toBe(a.length);
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
  });

  it.each(ARCHS)('%s reads back through readGGUF + modelConfigFromGGUF', async (arch) => {
    const bytes = makeTestModel({ ...SMALL, arch, quant: 'Q8_0', headDim: 16, contextLength: 300, ropeTheta: 5e5 });
    const file = await readGGUF(bytes);
    const config = modelConfigFromGGUF(file);
    expect(config).toMatchObject({
      arch, vocabSize: 96, dim: 64, numLayers: 2, numHeads: 4, numKvHeads: 2, headDim: 16, ffnDim: 96,
      contextLength: 300, ropeTheta: 5e5, ropeDim: 16, rmsEps: Math.fround(1e-6),
      tiedEmbeddings: arch === 'qwen2' || arch === 'qwen3',
      qkvBias: arch === 'qwen2', qkNorm: arch === 'qwen3', fusedQkv: arch === 'phi3', fusedGateUp: arch === 'phi3',
      ropeStyle: arch === 'llama' ? 'adjacent' : 'neox',
    });
    expect(file.metadata['general.file_type']).toBe(7);
    for (const t of file.tensors) {
      expect(t.type, t.name).toBe(t.shape.length === 2 ? GGMLType.Q8_0 : GGMLType.F32);
    }
    expect(file.metadata['tokenizer.ggml.model']).toBe('llama');
    expect(file.metadata['tokenizer.ggml.bos_token_id']).toBe(1);
  });

  it.each(ARCHS)('the reference runs on %s with finite, spread-out logits', async (arch) => {
    const model = await RefModel.fromGGUF(makeTestModel({ ...SMALL, arch, quant: 'F16', ropeDim: arch === 'phi3' ? 8 : undefined }));
    for (let pos = 0; pos < 6; pos++) {
      const logits = model.forward((pos * 37 + 5) % 96, pos);
      expect(logits.every(Number.isFinite)).toBe(true);
      // Random weights at these scales give a logit std of about 1 to 3: far from ties, far from overflow.
      expect(std(logits)).toBeGreaterThan(0.5);
      expect(std(logits)).toBeLessThan(10);
    }
  });

  it.each(['Q4_K', 'Q5_K', 'Q6_K', 'Q2_K', 'Q3_K', 'IQ4_XS', 'BF16', 'Q4_1', 'Q5_0', 'Q5_1', 'IQ4_NL'] as const)('writes %s weights when rows are a multiple of 256, and they run', async (quant) => {
    const bytes = makeTestModel({ arch: 'llama', vocab: 300, dim: 256, layers: 1, heads: 4, kvHeads: 4, ffn: 256, quant, seed: 3 });
    const file = await readGGUF(bytes);
    const expectedType = GGMLType[quant];
    expect(file.tensors.filter((t) => t.shape.length === 2).every((t) => t.type === expectedType)).toBe(true);
    const logits = (await RefModel.fromGGUF(bytes)).forward(1, 0);
    expect(logits.length).toBe(300);
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it('Q4_K_M mixes Q4_K and Q6_K per tensor like llama.cpp, and runs', async () => {
    const bytes = makeTestModel({ arch: 'qwen2', vocab: 260, dim: 256, layers: 8, heads: 4, kvHeads: 2, ffn: 256, quant: 'Q4_K_M', seed: 1, tiedEmbeddings: false });
    const file = await readGGUF(bytes);
    const typeOf = (name: string) => file.tensors.find((t) => t.name === name)!.type;
    expect(typeOf('output.weight')).toBe(GGMLType.Q6_K);
    expect(typeOf('token_embd.weight')).toBe(GGMLType.Q4_K);
    expect(typeOf('blk.3.attn_q.weight')).toBe(GGMLType.Q4_K);
    // use_more_bits for 8 layers: layer 0 (first eighth), 7 (last eighth), and 3, 6 ((l - 1) % 3 == 2).
    const moreBits = [0, 1, 2, 3, 4, 5, 6, 7].filter((l) => typeOf(`blk.${l}.ffn_down.weight`) === GGMLType.Q6_K);
    expect(moreBits).toEqual([0, 3, 6, 7]);
    expect([0, 1, 2, 3, 4, 5, 6, 7].filter((l) => typeOf(`blk.${l}.attn_v.weight`) === GGMLType.Q6_K)).toEqual([0, 3, 6, 7]);
    expect(file.metadata['general.file_type']).toBe(15);
    const logits = (await RefModel.fromGGUF(bytes)).forward(1, 0);
    expect(logits.every(Number.isFinite)).toBe(true);
  });

  it('falls back per tensor when rows are not a whole number of blocks, or errors when asked', async () => {
    expect(weightTypeFor('Q4_K', 64)).toBe(GGMLType.Q8_0);
    expect(weightTypeFor('Q4_0', 48)).toBe(GGMLType.F16);
    expect(weightTypeFor('Q6_K', 512)).toBe(GGMLType.Q6_K);
    const file = await readGGUF(makeTestModel({ ...SMALL, arch: 'llama', quant: 'Q4_K' }));
    expect(file.tensors.find((t) => t.name === 'blk.0.attn_q.weight')!.type).toBe(GGMLType.Q8_0);
    expect(() => makeTestModel({ ...SMALL, arch: 'llama', quant: 'Q4_K', quantFallback: 'error' }))
      .toThrow(/Q4_K needs rows that are a multiple of 256 values; a weight has rows of 64/);
  });

  it('greedy ids of a Q8_0 model track its F32 original', async () => {
    const options = { ...SMALL, arch: 'llama' as const, vocab: 128, dim: 96, ffn: 160, heads: 6, kvHeads: 2, seed: 11 };
    const f32 = await RefModel.fromGGUF(makeTestModel({ ...options, quant: 'F32' }));
    const q8 = await RefModel.fromGGUF(makeTestModel({ ...options, quant: 'Q8_0' }));
    const prompt = [1, 20, 30, 40];
    const ids = f32.greedy(prompt, 24);
    // Teacher forcing: feed both models the F32 sequence and compare each step's argmax,
    // so one flipped token does not derail every later comparison.
    const sequence = [...prompt, ...ids];
    let agree = 0;
    let worstLogitDiff = 0;
    for (let pos = 0; pos < sequence.length - 1; pos++) {
      const a = f32.forward(sequence[pos], pos);
      const b = q8.forward(sequence[pos], pos);
      for (let i = 0; i < a.length; i++) worstLogitDiff = Math.max(worstLogitDiff, Math.abs(a[i] - b[i]));
      if (pos >= prompt.length - 1 && argmax(a) === argmax(b)) agree++;
    }
    // Measured: 24/24 agree, worst |Δlogit| ≈ 0.09 (logit std ≈ 2); Q4_0 on the same model gives
    // ~18/24 and ≈ 1.8, so these bounds would catch a broken quantization path.
    expect(agree / ids.length).toBeGreaterThanOrEqual(0.9);
    expect(worstLogitDiff).toBeLessThan(0.3);
  });

  it('builds a default SentencePiece-style vocabulary with byte tokens', () => {
    const md = defaultTokenizer(300);
    const tokens = md['tokenizer.ggml.tokens'] as string[];
    expect(tokens.length).toBe(300);
    expect(tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(tokens[258]).toBe('<0xFF>');
    expect(tokens[259]).toBe('▁');
    expect(new Set(tokens).size).toBe(300);
    const types = md['tokenizer.ggml.token_type'] as Int32Array;
    expect([types[0], types[1], types[3], types[259]]).toEqual([2, 3, 6, 1]);
    const small = defaultTokenizer(40)['tokenizer.ggml.tokens'] as string[];
    expect(small.slice(0, 5)).toEqual(['<unk>', '<s>', '</s>', '▁', 'a']);
  });

  it('its default vocabulary loads in the project tokenizer and round-trips text through byte fallback', async () => {
    const file = await readGGUF(makeTestModel({ ...SMALL, arch: 'llama', vocab: 1000 }));
    const tokenizer = Tokenizer.fromMetadata(file.metadata);
    const ids = tokenizer.encode('Hello world, é!', { addSpecial: true });
    expect(ids[0]).toBe(1); // <s>
    expect(ids).toContain(198); // <0xC3>: é has no piece, so it falls back to its UTF-8 bytes
    expect(ids.every((id) => id < 1000)).toBe(true);
    expect(tokenizer.decode(ids.slice(1))).toBe('Hello world, é!');
  });

  it('carries a chat template and given tokenizer metadata', async () => {
    const tokenizer = { ...defaultTokenizer(96), 'tokenizer.ggml.pre': 'custom' };
    const bytes = makeTestModel({ ...SMALL, arch: 'qwen3', tokenizer, chatTemplate: '{{ bos_token }}{{ messages[0].content }}' });
    const file = await readGGUF(bytes);
    expect(file.metadata['tokenizer.ggml.pre']).toBe('custom');
    const template = ChatTemplate.fromMetadata(file.metadata)!;
    expect(template.render({ messages: [{ role: 'user', content: 'hi' }], addGenerationPrompt: false })).toBe('<s>hi');
  });

  it.each<[Partial<TestModelOptions>, RegExp]>([
    [{ kvHeads: 3 }, /kvHeads \(3\) must divide heads \(4\)/],
    [{ dim: 0 }, /dim must be a positive integer/],
    [{ headDim: 7 }, /head size 7 must be a positive even integer/],
    [{ ropeDim: 32 }, /ropeDim 32 must be even and at most the head size 16/],
    [{ vocab: 2 }, /needs vocab >= 3/],
    [{ tokenizer: defaultTokenizer(50) }, /exactly vocab \(96\) tokens/],
    [{ quant: 'IQ2_XXS' as never }, /unknown quant IQ2_XXS/],
  ])('refuses bad options %o', (patch, message) => {
    let caught: unknown;
    try {
      makeTestModel({ ...SMALL, arch: 'llama', ...patch });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(TestModelError);
    expect((caught as TestModelError).code).toBe('bad_test_model_options');
    expect((caught as Error).message).toMatch(message);
  });
});
