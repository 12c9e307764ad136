// Model architecture description, read from GGUF metadata (`<arch>.*` keys).
// The parser (`modelConfigFromGGUF`) lives beside this interface; every later layer
// (reference model, GPU runner, engine) reads only this plain object.

import type { EncoderConfig } from './encoder-config';
import type { Pooling } from './pooling';
import type { RopeScaling } from './rope-scaling';

export type Arch = 'llama' | 'qwen2' | 'qwen3' | 'phi3' | 'gemma' | 'gemma2' | 'gemma3' | 'bert' | 'nomic-bert';

export interface ModelConfig {
  arch: Arch;
  /** `general.name` when present. */
  name?: string;
  vocabSize: number;
  /** Hidden size (`<arch>.embedding_length`). */
  dim: number;
  numLayers: number;
  numHeads: number;
  /** KV heads (GQA): numHeads % numKvHeads == 0. */
  numKvHeads: number;
  /** Per-head size; `<arch>.attention.key_length` when present, else dim / numHeads. */
  headDim: number;
  /** FFN hidden size (`<arch>.feed_forward_length`). */
  ffnDim: number;
  /** RMSNorm epsilon; bert, nomic-bert: the LayerNorm epsilon (`attention.layer_norm_epsilon`). */
  rmsEps: number;
  ropeTheta: number;
  /** 'adjacent': rotate pairs (2i, 2i+1) — llama. 'neox': rotate (i, i + rotDim/2) — qwen2, qwen3, phi3. */
  ropeStyle: 'adjacent' | 'neox';
  /** Number of leading dims of each head that are rotated (`<arch>.rope.dimension_count`, default headDim). */
  ropeDim: number;
  /**
   * `<arch>.rope.scaling.*` (linear or YaRN context extension, attn_factor); absent: none.
   * rope-scaling.ts turns it into per-pair frequencies and a cos/sin magnitude.
   */
  ropeScaling?: RopeScaling;
  contextLength: number;
  /** No `output.weight` tensor: the LM head is `token_embd.weight`. */
  tiedEmbeddings: boolean;
  /** qwen2: attn_q/k/v have biases. */
  qkvBias: boolean;
  /** qwen3: per-head RMSNorm on q and k (attn_q_norm / attn_k_norm, [headDim]). */
  qkNorm: boolean;
  /** phi3: one attn_qkv tensor [dim, (numHeads + 2 numKvHeads) headDim] and ffn_up holds gate and up [dim, 2 ffnDim]. */
  fusedQkv: boolean;
  fusedGateUp: boolean;
  /**
   * Llama 3.1+ ("llama3" RoPE scaling): the tensor `rope_freqs.weight` [ropeDim / 2] f32 holds
   * one divisor per rotated pair; pair i turns by pos * ropeTheta^(-2i/ropeDim) / factor[i]
   * (ggml_rope_ext's freq_factors). Absent or false: no divisors.
   */
  ropeFreqFactors?: boolean;
  // ---- gemma, gemma2, gemma3 (gemma-config.ts); absent on the other architectures ----
  /** Multiplier of the embedding rows (gemma: sqrt(dim) in f32); absent: 1. */
  embedScale?: number;
  /** Multiplier of q before q·k; absent: 1 / sqrt(headDim). */
  attnScale?: number;
  /** Attention logit soft-cap: score = cap · tanh(score / cap) before the softmax (gemma2). */
  attnSoftcap?: number;
  /** Final logit soft-cap: logit = cap · tanh(logit / cap) (gemma2, optional in gemma3). */
  finalSoftcap?: number;
  /** FFN activation of gate (times up): 'silu' (SwiGLU, default) or 'gelu' (GeGLU, tanh approximation). */
  ffnAct?: 'silu' | 'gelu';
  /** post_attention_norm / post_ffw_norm: RMSNorm of each sub-block's output before the residual add. */
  postNorms?: boolean;
  /** Sliding-window (local) attention on some layers. */
  slidingWindow?: SlidingWindow;
  // ---- embedding models (#17; pooling.ts, encoder-config.ts) ----
  /**
   * Pooling of an embedding model (`<arch>.pooling_type`): ModelRunner.embed gives one vector per
   * sequence, pooled this way from the final hidden rows. Absent: a generative model.
   */
  pooling?: Pooling;
  /** `<arch>.attention.causal` = false: each token attends to its whole sequence. Absent: causal. */
  bidirectional?: boolean;
  /** bert, nomic-bert: the encoder layout (post-norm LayerNorm blocks, no LM head). */
  encoder?: EncoderConfig;
}

/**
 * Local layers attend to the last `size` positions only (their own included: position p
 * sees max(0, p - size + 1)..p, llama.cpp's LLAMA_SWA_TYPE_STANDARD), and rotate with
 * their own RoPE base.
 */
export interface SlidingWindow {
  size: number;
  /** Per layer: true for a local (windowed) layer. */
  localLayers: boolean[];
  /** RoPE base of the local layers (`rope.freq_base_swa`; gemma3 default 10000). */
  ropeTheta: number;
  /** Whether `ropeScaling` applies to local layers too (gemma2: yes; gemma3: global layers only). */
  ropeScaled: boolean;
}

export { modelConfigFromGGUF, ModelConfigError, SUPPORTED_ARCHS } from './config-parse';
export type { ModelConfigErrorCode } from './config-parse';
export type { RopeScaling, RopeScalingType } from './rope-scaling';
export type { Pooling } from './pooling';
export type { EncoderConfig } from './encoder-config';
