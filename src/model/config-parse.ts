// modelConfigFromGGUF: turns a parsed GGUF header into a `ModelConfig`, checking every
// hyper-parameter against the tensor shapes it implies, so that a file that would make
// the runner index out of bounds is refused at load with the key that is wrong.
//
// Key names and defaults follow llama.cpp (`<arch>.attention.head_count_kv` defaults to
// head_count, `rope.freq_base` to 10000, `attention.key_length` to dim / heads,
// `rope.dimension_count` to the head size).

import type { Arch, ModelConfig } from './config';
import { ModelConfigError, type ModelConfigErrorCode } from './config-error';
import type { GGUFFile, GGUFTensorInfo, GGUFValue } from './gguf/types';
import { checkEncoderTensors, encoderFeatures } from './encoder-config';
import { gemmaFeatures } from './gemma-config';
import { bad, positiveFloat, positiveInt } from './metadata-values';
import { isEncoderArch, parseCausal, parsePooling } from './pooling';
import { parseRopeScaling } from './rope-scaling';

export { ModelConfigError, type ModelConfigErrorCode };

export const SUPPORTED_ARCHS: readonly Arch[] = ['llama', 'qwen2', 'qwen3', 'phi3', 'gemma', 'gemma2', 'gemma3', 'bert', 'nomic-bert'];

/** RoPE pairing by architecture (llama.cpp's LLAMA_ROPE_TYPE_NORM vs _NEOX). */
const ROPE_STYLE: Record<Arch, ModelConfig['ropeStyle']> = {
  llama: 'adjacent',
  qwen2: 'neox',
  qwen3: 'neox',
  phi3: 'neox',
  gemma: 'neox',
  gemma2: 'neox',
  gemma3: 'neox',
  bert: 'neox', // unused: learned positions
  'nomic-bert': 'neox',
};

export function modelConfigFromGGUF(file: Pick<GGUFFile, 'metadata' | 'tensors'>): ModelConfig {
  const md = file.metadata;
  const archValue = md['general.architecture'];
  if (archValue === undefined) throw bad('general.architecture', 'is missing');
  if (typeof archValue !== 'string') throw bad('general.architecture', 'must be a string');
  if (!(SUPPORTED_ARCHS as readonly string[]).includes(archValue)) {
    throw new ModelConfigError(
      'unsupported_architecture',
      `architecture '${archValue}' is not supported (supported: ${SUPPORTED_ARCHS.join(', ')})`,
      'general.architecture',
    );
  }
  const arch = archValue as Arch;
  const key = (suffix: string) => `${arch}.${suffix}`;
  const tensors = new Map<string, GGUFTensorInfo>(file.tensors.map((t) => [t.name, t]));

  const numLayers = positiveInt(md, key('block_count'));
  const dim = positiveInt(md, key('embedding_length'));
  const ffnDim = positiveInt(md, key('feed_forward_length'));
  const numHeads = positiveInt(md, key('attention.head_count'));
  const numKvHeads = positiveInt(md, key('attention.head_count_kv'), numHeads);
  if (numHeads % numKvHeads !== 0) {
    throw bad(key('attention.head_count_kv'), `(${numKvHeads}) must divide attention.head_count (${numHeads})`);
  }
  if (md[key('attention.key_length')] === undefined && dim % numHeads !== 0) {
    throw bad(key('attention.head_count'), `(${numHeads}) must divide embedding_length (${dim}) when attention.key_length is absent`);
  }
  const headDim = positiveInt(md, key('attention.key_length'), dim / numHeads);
  const valueDim = positiveInt(md, key('attention.value_length'), headDim);
  if (valueDim !== headDim) {
    throw bad(key('attention.value_length'), `(${valueDim}) must equal attention.key_length (${headDim})`);
  }
  const ropeDim = positiveInt(md, key('rope.dimension_count'), headDim);
  if (ropeDim > headDim || ropeDim % 2 !== 0) {
    throw bad(key('rope.dimension_count'), `(${ropeDim}) must be even and at most the head size (${headDim})`);
  }
  const encoder = isEncoderArch(arch);
  const rmsEps = positiveFloat(md, key(encoder ? 'attention.layer_norm_epsilon' : 'attention.layer_norm_rms_epsilon'));
  const ropeTheta = positiveFloat(md, key('rope.freq_base'), 10000);
  const contextLength = positiveInt(md, key('context_length'));
  const ropeScaling = parseRopeScaling(md, arch, contextLength);
  const vocabSize = vocabSizeOf(md, tensors);
  const name = md['general.name'];

  // Tensor presence decides the layout variants (llama.cpp does the same: a llama GGUF may
  // carry q/k/v biases, a phi3 one separate q/k/v).
  const has = (tensorName: string) => tensors.has(tensorName);
  const config: ModelConfig = {
    arch,
    ...(typeof name === 'string' ? { name } : {}),
    vocabSize,
    dim,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    ffnDim,
    rmsEps,
    ropeTheta,
    ropeStyle: ROPE_STYLE[arch],
    ropeDim,
    ...(ropeScaling ? { ropeScaling } : {}),
    contextLength,
    tiedEmbeddings: !has('output.weight'),
    qkvBias: has('blk.0.attn_q.bias') || has('blk.0.attn_qkv.bias'),
    qkNorm: has('blk.0.attn_q_norm.weight'),
    fusedQkv: has('blk.0.attn_qkv.weight'),
    fusedGateUp: arch === 'phi3' && !has('blk.0.ffn_gate.weight'),
    ...(has('rope_freqs.weight') ? { ropeFreqFactors: true } : {}),
    ...gemmaFeatures(md, arch, { numLayers, dim, numHeads, headDim, ropeTheta }),
  };
  const pooling = parsePooling(md, arch);
  if (pooling) config.pooling = pooling;
  if (!parseCausal(md, arch)) config.bidirectional = true;
  if (encoder) {
    config.encoder = encoderFeatures(md, arch as 'bert' | 'nomic-bert', tensors);
    config.tiedEmbeddings = true; // no LM head
    config.fusedGateUp = false;
    if (config.qkNorm) throw new ModelConfigError('unsupported_architecture', `${arch} with q/k norms (jina-bert-v3 style) is not supported`, 'blk.0.attn_q_norm.weight');
    checkEncoderTensors(config, config.encoder, tensorExpecter(tensors));
    return config;
  }
  if ((arch === 'qwen3' || arch === 'gemma3') && !config.qkNorm) throw bad('blk.0.attn_q_norm.weight', `${arch} needs per-head q/k norms; tensor is missing`);
  // llama.cpp's gemma and gemma2 always tie the LM head to token_embd; an output.weight would be ignored there.
  if ((arch === 'gemma' || arch === 'gemma2') && has('output.weight')) {
    throw bad('output.weight', `${arch} ties the LM head to token_embd.weight; an output.weight tensor is not expected`);
  }
  // Phi-3.5 / Phi-3-128k "longrope": short/long factor tables plus an attention factor that
  // llama.cpp picks by context size. Running without them would be subtly wrong, so refuse.
  const longRope = ['rope_factors_long.weight', 'rope_factors_short.weight', 'blk.0.rope_factors_long.weight'].find(has);
  if (longRope) {
    throw new ModelConfigError('unsupported_architecture', `${arch} with long-context RoPE factors (${longRope}) is not supported`, longRope);
  }
  checkTensorShapes(config, tensors);
  return config;
}

/** A check that a tensor exists (unless optional) with `shape` (trailing 1s ignored). */
function tensorExpecter(tensors: Map<string, GGUFTensorInfo>) {
  return (tensorName: string, shape: number[], optional = false) => {
    const t = tensors.get(tensorName);
    if (!t) {
      if (optional) return;
      throw bad(tensorName, 'tensor is missing');
    }
    const actual = t.shape.slice();
    while (actual.length > shape.length && actual[actual.length - 1] === 1) actual.pop();
    if (actual.length !== shape.length || actual.some((n, i) => n !== shape[i])) {
      throw bad(tensorName, `has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}] from the hyper-parameters`);
    }
  };
}

/** Every tensor the forward pass reads must exist with the shape the hyper-parameters imply. */
function checkTensorShapes(c: ModelConfig, tensors: Map<string, GGUFTensorInfo>): void {
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  const expect = tensorExpecter(tensors);
  expect('token_embd.weight', [c.dim, c.vocabSize]);
  expect('output_norm.weight', [c.dim]);
  if (c.ropeFreqFactors) expect('rope_freqs.weight', [c.ropeDim / 2]);
  if (!c.tiedEmbeddings) expect('output.weight', [c.dim, c.vocabSize]);
  for (let layer = 0; layer < c.numLayers; layer++) {
    const blk = `blk.${layer}`;
    expect(`${blk}.attn_norm.weight`, [c.dim]);
    if (c.fusedQkv) {
      expect(`${blk}.attn_qkv.weight`, [c.dim, qDim + 2 * kvDim]);
      if (c.qkvBias) expect(`${blk}.attn_qkv.bias`, [qDim + 2 * kvDim]);
    } else {
      expect(`${blk}.attn_q.weight`, [c.dim, qDim]);
      expect(`${blk}.attn_k.weight`, [c.dim, kvDim]);
      expect(`${blk}.attn_v.weight`, [c.dim, kvDim]);
      if (c.qkvBias) {
        expect(`${blk}.attn_q.bias`, [qDim]);
        expect(`${blk}.attn_k.bias`, [kvDim]);
        expect(`${blk}.attn_v.bias`, [kvDim]);
      }
    }
    if (c.qkNorm) {
      expect(`${blk}.attn_q_norm.weight`, [c.headDim]);
      expect(`${blk}.attn_k_norm.weight`, [c.headDim]);
    }
    expect(`${blk}.attn_output.weight`, [qDim, c.dim]);
    expect(`${blk}.ffn_norm.weight`, [c.dim]);
    if (c.fusedGateUp) {
      expect(`${blk}.ffn_up.weight`, [c.dim, 2 * c.ffnDim]);
    } else {
      expect(`${blk}.ffn_gate.weight`, [c.dim, c.ffnDim]);
      expect(`${blk}.ffn_up.weight`, [c.dim, c.ffnDim]);
    }
    expect(`${blk}.ffn_down.weight`, [c.ffnDim, c.dim]);
    if (c.postNorms) {
      expect(`${blk}.post_attention_norm.weight`, [c.dim]);
      expect(`${blk}.post_ffw_norm.weight`, [c.dim]);
    }
  }
}

function vocabSizeOf(md: Record<string, GGUFValue>, tensors: Map<string, GGUFTensorInfo>): number {
  const tokens = md['tokenizer.ggml.tokens'];
  if (tokens !== undefined) {
    if (!Array.isArray(tokens) || tokens.length === 0) throw bad('tokenizer.ggml.tokens', 'must be a non-empty array');
    return tokens.length;
  }
  const embedding = tensors.get('token_embd.weight');
  if (!embedding || embedding.shape.length < 2) throw bad('token_embd.weight', 'tensor is missing (and there is no tokenizer.ggml.tokens to size the vocabulary)');
  return embedding.shape[1];
}
