// modelConfigFromGGUF on hand-built GGUF headers: each architecture's flags, the defaults
// llama.cpp uses, and a coded error naming the key for every missing or inconsistent value.
import { describe, expect, it } from 'vitest';
import { ModelConfigError, modelConfigFromGGUF } from '../../../src/model/config';
import type { Arch } from '../../../src/model/config';
import { GGMLType, type GGUFMetadata, type GGUFTensorInfo } from '../../../src/model/gguf/types';
import { ropeFactorTensor } from '../../../src/model/rope-scaling';

interface Header {
  metadata: GGUFMetadata;
  tensors: GGUFTensorInfo[];
}

const HP = { dim: 32, heads: 4, kvHeads: 2, headDim: 8, ffn: 48, layers: 2, vocab: 40 };

/** A header shaped like llama.cpp's output for `arch` (no tensor data: the parser never reads it). */
function header(arch: Arch, options: { tied?: boolean; omitMetadata?: string[] } = {}): Header {
  const { dim, heads, kvHeads, headDim, ffn, layers, vocab } = HP;
  const metadata: GGUFMetadata = {
    'general.architecture': arch,
    'general.name': `tiny-${arch}`,
    [`${arch}.block_count`]: layers,
    [`${arch}.embedding_length`]: dim,
    [`${arch}.feed_forward_length`]: ffn,
    [`${arch}.attention.head_count`]: heads,
    [`${arch}.attention.head_count_kv`]: kvHeads,
    [`${arch}.attention.layer_norm_rms_epsilon`]: 1e-6,
    [`${arch}.rope.freq_base`]: 1e6,
    [`${arch}.context_length`]: 256,
    'tokenizer.ggml.tokens': Array.from({ length: vocab }, (_, i) => `t${i}`),
  };
  for (const key of options.omitMetadata ?? []) delete metadata[key];
  const tensors: GGUFTensorInfo[] = [];
  const add = (name: string, shape: number[]) =>
    tensors.push({ name, type: shape.length === 1 ? GGMLType.F32 : GGMLType.Q8_0, shape, offset: 0, byteLength: 0 });
  add('token_embd.weight', [dim, vocab]);
  add('output_norm.weight', [dim]);
  if (!options.tied) add('output.weight', [dim, vocab]);
  const qDim = heads * headDim;
  const kvDim = kvHeads * headDim;
  for (let l = 0; l < layers; l++) {
    add(`blk.${l}.attn_norm.weight`, [dim]);
    if (arch === 'phi3') {
      add(`blk.${l}.attn_qkv.weight`, [dim, qDim + 2 * kvDim]);
    } else {
      add(`blk.${l}.attn_q.weight`, [dim, qDim]);
      add(`blk.${l}.attn_k.weight`, [dim, kvDim]);
      add(`blk.${l}.attn_v.weight`, [dim, kvDim]);
    }
    if (arch === 'qwen2') {
      add(`blk.${l}.attn_q.bias`, [qDim]);
      add(`blk.${l}.attn_k.bias`, [kvDim]);
      add(`blk.${l}.attn_v.bias`, [kvDim]);
    }
    if (arch === 'qwen3') {
      add(`blk.${l}.attn_q_norm.weight`, [headDim]);
      add(`blk.${l}.attn_k_norm.weight`, [headDim]);
    }
    add(`blk.${l}.attn_output.weight`, [qDim, dim]);
    add(`blk.${l}.ffn_norm.weight`, [dim]);
    if (arch === 'phi3') {
      add(`blk.${l}.ffn_up.weight`, [dim, 2 * ffn]);
    } else {
      add(`blk.${l}.ffn_gate.weight`, [dim, ffn]);
      add(`blk.${l}.ffn_up.weight`, [dim, ffn]);
    }
    add(`blk.${l}.ffn_down.weight`, [ffn, dim]);
  }
  return { metadata, tensors };
}

function errorOf(fn: () => unknown): ModelConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ModelConfigError) return err;
    throw new Error(`expected a ModelConfigError, got ${String(err)}`);
  }
  throw new Error('expected a ModelConfigError, nothing was thrown');
}

describe('modelConfigFromGGUF', () => {
  it('reads a llama header', () => {
    expect(modelConfigFromGGUF(header('llama'))).toEqual({
      arch: 'llama', name: 'tiny-llama', vocabSize: 40, dim: 32, numLayers: 2, numHeads: 4, numKvHeads: 2,
      headDim: 8, ffnDim: 48, rmsEps: 1e-6, ropeTheta: 1e6, ropeStyle: 'adjacent', ropeDim: 8, contextLength: 256,
      tiedEmbeddings: false, qkvBias: false, qkNorm: false, fusedQkv: false, fusedGateUp: false,
    });
  });

  it.each([
    ['qwen2', { ropeStyle: 'neox', qkvBias: true, qkNorm: false, fusedQkv: false, fusedGateUp: false }],
    ['qwen3', { ropeStyle: 'neox', qkvBias: false, qkNorm: true, fusedQkv: false, fusedGateUp: false }],
    ['phi3', { ropeStyle: 'neox', qkvBias: false, qkNorm: false, fusedQkv: true, fusedGateUp: true }],
  ] as const)('sets the %s layout flags', (arch, flags) => {
    const config = modelConfigFromGGUF(header(arch));
    expect(config.arch).toBe(arch);
    expect(config).toMatchObject(flags);
  });

  it('detects tied embeddings from a missing output.weight', () => {
    expect(modelConfigFromGGUF(header('qwen2', { tied: true })).tiedEmbeddings).toBe(true);
  });

  it('applies llama.cpp defaults for optional keys', () => {
    const h = header('llama', { omitMetadata: ['llama.attention.head_count_kv', 'llama.rope.freq_base'] });
    // Without head_count_kv every head has its own K/V: the k/v weights must then be full-width.
    for (const t of h.tensors) if (/attn_[kv]\.weight/.test(t.name)) t.shape = [32, 32];
    const config = modelConfigFromGGUF(h);
    expect(config.numKvHeads).toBe(4);
    expect(config.ropeTheta).toBe(10000);
    expect(config.headDim).toBe(8);
    expect(config.ropeDim).toBe(8);
  });

  it('honours key_length and a partial rope.dimension_count', () => {
    const h = header('phi3');
    h.metadata['phi3.attention.key_length'] = 8;
    h.metadata['phi3.rope.dimension_count'] = 4;
    const config = modelConfigFromGGUF(h);
    expect(config.headDim).toBe(8);
    expect(config.ropeDim).toBe(4);
  });

  it('sizes the vocabulary from token_embd when there is no tokenizer', () => {
    const h = header('llama', { omitMetadata: ['tokenizer.ggml.tokens'] });
    expect(modelConfigFromGGUF(h).vocabSize).toBe(40);
  });

  it('accepts per-layer head counts when all layers agree', () => {
    const h = header('llama');
    h.metadata['llama.attention.head_count_kv'] = [2, 2];
    expect(modelConfigFromGGUF(h).numKvHeads).toBe(2);
    h.metadata['llama.attention.head_count_kv'] = [2, 4];
    expect(errorOf(() => modelConfigFromGGUF(h)).key).toBe('llama.attention.head_count_kv');
  });
});

describe('modelConfigFromGGUF errors', () => {
  it('refuses an unsupported architecture', () => {
    const h = header('llama');
    h.metadata['general.architecture'] = 'mamba';
    const err = errorOf(() => modelConfigFromGGUF(h));
    expect(err.code).toBe('unsupported_architecture');
    expect(err.message).toContain("'mamba'");
  });

  it.each([
    'general.architecture',
    'llama.block_count',
    'llama.embedding_length',
    'llama.feed_forward_length',
    'llama.attention.head_count',
    'llama.attention.layer_norm_rms_epsilon',
    'llama.context_length',
  ])('names the missing key %s', (key) => {
    const err = errorOf(() => modelConfigFromGGUF(header('llama', { omitMetadata: [key] })));
    expect(err.code).toBe('bad_model_config');
    expect(err.key).toBe(key);
    expect(err.message).toBe(`${key} is missing`);
  });

  it.each<[string, unknown, RegExp]>([
    ['llama.block_count', 0, /must be a positive integer/],
    ['llama.embedding_length', 2.5, /must be a positive integer/],
    ['llama.feed_forward_length', 'big', /must be a positive integer/],
    ['llama.attention.head_count_kv', 3, /must divide attention.head_count/],
    ['llama.attention.layer_norm_rms_epsilon', -1, /must be a positive number/],
    ['llama.rope.freq_base', Number.NaN, /must be a positive number/],
    ['llama.rope.dimension_count', 9, /must be even and at most the head size/],
    ['llama.attention.value_length', 16, /must equal attention.key_length/],
    ['general.architecture', 7, /must be a string/],
    ['tokenizer.ggml.tokens', [], /must be a non-empty array/],
  ])('names the bad key %s = %s', (key, value, problem) => {
    const h = header('llama');
    h.metadata[key] = value as never;
    const err = errorOf(() => modelConfigFromGGUF(h));
    expect(err.code).toBe('bad_model_config');
    expect(err.key).toBe(key);
    expect(err.message).toMatch(problem);
  });

  it('names a tensor whose shape disagrees with the hyper-parameters', () => {
    const h = header('qwen2');
    h.tensors.find((t) => t.name === 'blk.1.attn_k.weight')!.shape = [32, 24];
    const err = errorOf(() => modelConfigFromGGUF(h));
    expect(err.key).toBe('blk.1.attn_k.weight');
    expect(err.message).toBe('blk.1.attn_k.weight has shape [32, 24], expected [32, 16] from the hyper-parameters');
  });

  it('names a missing layer tensor', () => {
    const h = header('qwen3');
    h.tensors = h.tensors.filter((t) => t.name !== 'blk.1.attn_k_norm.weight');
    expect(errorOf(() => modelConfigFromGGUF(h)).message).toBe('blk.1.attn_k_norm.weight tensor is missing');
  });

  it('refuses a vocabulary that disagrees with token_embd', () => {
    const h = header('llama');
    h.metadata['tokenizer.ggml.tokens'] = ['a', 'b'];
    expect(errorOf(() => modelConfigFromGGUF(h)).key).toBe('token_embd.weight');
  });

  it('refuses qwen3 without q/k norms', () => {
    const h = header('qwen3');
    h.tensors = h.tensors.filter((t) => !t.name.includes('_norm.weight') || !/attn_[qk]_norm/.test(t.name));
    expect(errorOf(() => modelConfigFromGGUF(h)).key).toBe('blk.0.attn_q_norm.weight');
  });
});

describe('modelConfigFromGGUF RoPE frequency factors', () => {
  const withTensor = (h: Header, name: string, shape: number[]) => {
    h.tensors.push({ name, type: GGMLType.F32, shape, offset: 0, byteLength: 0 });
    return h;
  };

  it('flags Llama 3 rope_freqs.weight and checks its length', () => {
    expect(modelConfigFromGGUF(header('llama')).ropeFreqFactors).toBeUndefined();
    expect(modelConfigFromGGUF(withTensor(header('llama'), 'rope_freqs.weight', [4])).ropeFreqFactors).toBe(true);
    const err = errorOf(() => modelConfigFromGGUF(withTensor(header('llama'), 'rope_freqs.weight', [8])));
    expect(err.key).toBe('rope_freqs.weight');
    expect(err.message).toBe('rope_freqs.weight has shape [8], expected [4] from the hyper-parameters');
  });

  const longRope = (h: Header, shape = [4]) => withTensor(withTensor(h, 'rope_factors_long.weight', shape), 'rope_factors_short.weight', shape);

  it('reads phi3 LongRoPE: both tables, switching at original_context_length (default context_length)', () => {
    expect(modelConfigFromGGUF(longRope(header('phi3'))).longRope).toEqual({ originalContextLength: 256 });
    const h = longRope(header('phi3'));
    h.metadata['phi3.rope.scaling.original_context_length'] = 64;
    const config = modelConfigFromGGUF(h);
    expect(config.longRope).toEqual({ originalContextLength: 64 });
    // context 256 > 64: the long table; a context within the original one: the short table.
    expect(ropeFactorTensor(config)).toBe('rope_factors_long.weight');
    expect(ropeFactorTensor({ ...config, contextLength: 64 })).toBe('rope_factors_short.weight');
    // Llama 3 rope_freqs wins over both, as in llama.cpp's get_rope_factors.
    expect(ropeFactorTensor({ ...config, ropeFreqFactors: true })).toBe('rope_freqs.weight');
  });

  it('partial rotary: the LongRoPE tables have rope.dimension_count / 2 entries', () => {
    const h = longRope(header('phi3'), [2]);
    h.metadata['phi3.rope.dimension_count'] = 4;
    expect(modelConfigFromGGUF(h).ropeDim).toBe(4);
    const wrong = longRope(header('phi3'), [2]);
    const err = errorOf(() => modelConfigFromGGUF(wrong));
    expect(err.key).toBe('rope_factors_long.weight');
    expect(err.message).toBe('rope_factors_long.weight has shape [2], expected [4] from the hyper-parameters');
  });

  it('refuses a LongRoPE file with one table, and the tables on other architectures', () => {
    const one = errorOf(() => modelConfigFromGGUF(withTensor(header('phi3'), 'rope_factors_long.weight', [4])));
    expect([one.code, one.key]).toEqual(['bad_model_config', 'rope_factors_short.weight']);
    const llama = errorOf(() => modelConfigFromGGUF(longRope(header('llama'))));
    expect([llama.code, llama.key]).toEqual(['unsupported_architecture', 'rope_factors_long.weight']);
    expect(llama.message).toContain('llama');
  });
});
