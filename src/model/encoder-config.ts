// The encoder (BERT-family) parts of a ModelConfig and the tensors they imply, as llama.cpp
// loads `bert` and `nomic-bert` (src/models/bert.cpp, nomic-bert.cpp in its sources):
//
//   x = token_embd[id] + token_types[0] (+ position_embd[pos]: bert)     [T, dim]
//   x = LayerNorm(x) · token_embd_norm (+ bias)
//   per layer (post-norm):
//     q, k, v = x · Wq, Wk, Wv + biases       (nomic-bert: fused attn_qkv, RoPE neox on q, k)
//     x = LayerNorm(x + attention(q, k, v) · Wo (+ bo)) · attn_output_norm (+ bias)
//     x = LayerNorm(x + ffn(x)) · layer_output_norm (+ bias)
//         ffn: bert GELU(x·Wup + bu)·Wdown + bd; nomic-bert (silu(x·Wgate) * x·Wup)·Wdown
//
// Token types are always 0 ("sentence A") in llama.cpp, so only row 0 of token_types is used.
// Keys: `<arch>.attention.layer_norm_epsilon`, `tokenizer.ggml.token_type_count` (required
// by llama.cpp's loader even when the tensor is absent).
import type { ModelConfig } from './config';
import type { GGUFTensorInfo, GGUFValue } from './gguf/types';
import { positiveInt } from './metadata-values';

export interface EncoderConfig {
  /** bert: learned `position_embd` [contextLength, dim]; nomic-bert: RoPE (neox) on q and k. */
  positions: 'learned' | 'rope';
  /** bert: GELU (tanh approximation) of ffn_up; nomic-bert: SwiGLU of ffn_gate, ffn_up. */
  ffn: 'gelu' | 'swiglu';
  /** `tokenizer.ggml.token_type_count`. */
  numTokenTypes: number;
  /** `token_types.weight` is present (its row 0 is added to every token). */
  typeEmbedding: boolean;
}

export function encoderFeatures(md: Record<string, GGUFValue>, arch: 'bert' | 'nomic-bert', tensors: Map<string, GGUFTensorInfo>): EncoderConfig {
  return {
    positions: arch === 'bert' ? 'learned' : 'rope',
    ffn: arch === 'bert' ? 'gelu' : 'swiglu',
    numTokenTypes: positiveInt(md, 'tokenizer.ggml.token_type_count'),
    typeEmbedding: tensors.has('token_types.weight'),
  };
}

type Expect = (tensorName: string, shape: number[], optional?: boolean) => void;

/** Every tensor the encoder forward reads, with the shape the hyper-parameters imply. */
export function checkEncoderTensors(c: ModelConfig, enc: EncoderConfig, expect: Expect): void {
  const qDim = c.numHeads * c.headDim;
  const kvDim = c.numKvHeads * c.headDim;
  expect('token_embd.weight', [c.dim, c.vocabSize]);
  expect('token_types.weight', [c.dim, enc.numTokenTypes], true);
  if (enc.positions === 'learned') expect('position_embd.weight', [c.dim, c.contextLength]);
  expect('token_embd_norm.weight', [c.dim]);
  expect('token_embd_norm.bias', [c.dim]);
  for (let layer = 0; layer < c.numLayers; layer++) {
    const blk = `blk.${layer}`;
    if (c.fusedQkv) {
      expect(`${blk}.attn_qkv.weight`, [c.dim, qDim + 2 * kvDim]);
      expect(`${blk}.attn_qkv.bias`, [qDim + 2 * kvDim], true);
    } else {
      expect(`${blk}.attn_q.weight`, [c.dim, qDim]);
      expect(`${blk}.attn_k.weight`, [c.dim, kvDim]);
      expect(`${blk}.attn_v.weight`, [c.dim, kvDim]);
      expect(`${blk}.attn_q.bias`, [qDim], true);
      expect(`${blk}.attn_k.bias`, [kvDim], true);
      expect(`${blk}.attn_v.bias`, [kvDim], true);
    }
    expect(`${blk}.attn_output.weight`, [qDim, c.dim]);
    expect(`${blk}.attn_output.bias`, [c.dim], true);
    expect(`${blk}.attn_output_norm.weight`, [c.dim]);
    expect(`${blk}.attn_output_norm.bias`, [c.dim]);
    if (enc.ffn === 'swiglu') expect(`${blk}.ffn_gate.weight`, [c.dim, c.ffnDim]);
    expect(`${blk}.ffn_up.weight`, [c.dim, c.ffnDim]);
    expect(`${blk}.ffn_up.bias`, [c.ffnDim], true);
    expect(`${blk}.ffn_down.weight`, [c.ffnDim, c.dim]);
    expect(`${blk}.ffn_down.bias`, [c.dim], true);
    expect(`${blk}.layer_output_norm.weight`, [c.dim]);
    expect(`${blk}.layer_output_norm.bias`, [c.dim]);
  }
}
