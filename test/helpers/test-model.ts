// Random test models as GGUF bytes: the metadata a llama.cpp conversion writes, a tiny
// SentencePiece-style vocabulary, and weights drawn from a seeded PRNG, quantized like
// llama.cpp does (2-D weights in the requested type, norms and biases F32).
//
// Weight scales keep activations O(1) through any depth and make logits spread out
// (no near-ties that would make greedy ids flip on rounding noise):
//   matmul weights   N(0, 1/in)        → each projection preserves RMS
//   token_embd       N(0, 1)           → the residual stream starts at RMS 1
//   output (untied)  N(0, 4/dim)       → logits with std ≈ 2 after the final norm
//   norm weights     1 + N(0, 0.1²)
//   q/k/v biases     N(0, 0.5²)        (qwen2 has real, non-trivial biases)
//   gemma token_embd N(0, 4/dim)       → RMS 2 after the graph's · sqrt(dim); tied LM head
//                                        logits with std ≈ 2 (gemma, gemma2 are always tied)
//   gemma2/3 post-norms 3 + N(0, 0.3²) → each sub-block adds RMS ~3, so context (and the
//                                        window) moves the ids instead of the last token's row

import { writeGGUF, type MetaInput } from '../../src/model/gguf/writer';
import { GGMLType, GGUFValueType } from '../../src/model/gguf/types';
import type { Arch } from '../../src/model/config';

/**
 * Weight type of the file. 'Q4_K_M' mixes types per tensor the way llama.cpp's Q4_K_M does
 * (Q6_K for output.weight and for attn_v/ffn_down of the first and last eighth of layers and
 * every third layer between, Q4_K elsewhere), so the mixed-type load path gets exercised.
 */
export type TestQuant =
  | 'F32' | 'F16' | 'BF16' | 'Q8_0' | 'Q4_0' | 'Q4_1' | 'Q5_0' | 'Q5_1' | 'IQ4_NL'
  | 'Q2_K' | 'Q3_K' | 'Q4_K' | 'Q5_K' | 'Q6_K' | 'IQ4_XS' | 'Q4_K_M';

export interface TestModelOptions {
  arch: Arch;
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  /** Per-head size; default dim / heads. Written as attention.key_length/value_length when given (and always for qwen3). */
  headDim?: number;
  /** Rotated dims per head (partial RoPE); default headDim. */
  ropeDim?: number;
  quant: TestQuant;
  seed: number;
  /**
   * What to do with a weight whose rows (ne0) are not a whole number of `quant` blocks
   * (32 values, 256 for K-quants and IQ4_XS): 'fallback' (default) uses Q8_0 when ne0 % 32 == 0, else F16,
   * as llama.cpp falls back per tensor; 'error' throws.
   */
  quantFallback?: 'fallback' | 'error';
  /** Full tokenizer metadata (`tokenizer.*` keys) replacing the generated vocabulary; its token count must equal `vocab`. */
  tokenizer?: Record<string, MetaInput>;
  chatTemplate?: string;
  contextLength?: number;
  ropeTheta?: number;
  rmsEps?: number;
  /** No output.weight (LM head = token_embd). Default: true for qwen2/qwen3 (like their small models), false otherwise. */
  tiedEmbeddings?: boolean;
  /**
   * `<arch>.rope.scaling.*` keys as a llama.cpp conversion writes them: type (string, any
   * value, so unsupported ones can be tested), factor and attn_factor (f32),
   * original_context_length (u32).
   */
  ropeScaling?: { type?: string; factor?: number; attnFactor?: number; originalContextLength?: number };
  /** `general.name`; default `test-<arch>-<quant>-seed<seed>`. */
  name?: string;
  /** Write a Llama 3 style `rope_freqs.weight` [ropeDim / 2]: divisors rising from 1 to 8 (deterministic, no RNG draw). */
  ropeFreqFactors?: boolean;
  /**
   * phi3 LongRoPE as llama.cpp's converter writes it: `rope_factors_short.weight` (divisors
   * 3 falling to 1: the fast pairs, which short prompts see, slowed) and
   * `rope_factors_long.weight` (1 rising to 16), so each table parts from the other and from none, of
   * [ropeDim / 2], and `rope.scaling.original_context_length`; the attention factor goes in
   * `ropeScaling.attnFactor` (no scaling type key, as the converter writes none).
   */
  longRope?: { originalContextLength: number };
  /**
   * gemma2 / gemma3 keys (written only when given): `attention.sliding_window`,
   * `attention.sliding_window_pattern` (a period, or one bool per layer),
   * `rope.freq_base_swa`, `attn_logit_softcapping`, `final_logit_softcapping`.
   */
  gemma?: { slidingWindow?: number; swaPattern?: number | boolean[]; ropeThetaSwa?: number; attnSoftcap?: number; finalSoftcap?: number };
  /**
   * Std of token_embd (default 1; gemma 2 / sqrt(dim)). A tied head over N(0, 1) rows makes
   * the last token's own row win every step; 2 / sqrt(dim) lets the layers move the ids.
   */
  embedStd?: number;
  /** Tensors to leave out of the file (to build broken models). */
  omitTensors?: string[];
  /** `<arch>.pooling_type` (llama.cpp enum; 3 = last: a Qwen3-Embedding-style decoder embedding model). */
  pooling?: number;
  /** `<arch>.attention.causal` (written only when given). */
  causal?: boolean;
}

export class TestModelError extends Error {
  override readonly name = 'TestModelError';
  constructor(readonly code: 'bad_test_model_options', message: string) {
    super(message);
  }
}

const QUANT_TYPES: Record<TestQuant, GGMLType> = {
  F32: GGMLType.F32, F16: GGMLType.F16, BF16: GGMLType.BF16, Q8_0: GGMLType.Q8_0, Q4_0: GGMLType.Q4_0,
  Q4_1: GGMLType.Q4_1, Q5_0: GGMLType.Q5_0, Q5_1: GGMLType.Q5_1, IQ4_NL: GGMLType.IQ4_NL,
  Q2_K: GGMLType.Q2_K, Q3_K: GGMLType.Q3_K, Q4_K: GGMLType.Q4_K, Q5_K: GGMLType.Q5_K, Q6_K: GGMLType.Q6_K,
  IQ4_XS: GGMLType.IQ4_XS, Q4_K_M: GGMLType.Q4_K,
};
/** llama.cpp's `general.file_type` (enum llama_ftype) for each requested quant (Q3_K: Q3_K_S, all Q3_K). */
const FILE_TYPES: Record<TestQuant, number> = {
  F32: 0, F16: 1, Q4_0: 2, Q4_1: 3, Q8_0: 7, Q5_0: 8, Q5_1: 9, Q2_K: 10, Q3_K: 11, Q4_K: 15, Q5_K: 17, Q6_K: 18,
  IQ4_NL: 25, IQ4_XS: 30, BF16: 32, Q4_K_M: 15,
};
const BLOCK_SIZES: Record<TestQuant, number> = {
  F32: 1, F16: 1, BF16: 1, Q8_0: 32, Q4_0: 32, Q4_1: 32, Q5_0: 32, Q5_1: 32, IQ4_NL: 32,
  Q2_K: 256, Q3_K: 256, Q4_K: 256, Q5_K: 256, Q6_K: 256, IQ4_XS: 256, Q4_K_M: 256,
};

/** SentencePiece token types (llama.cpp's llama_token_type). */
export const TOKEN_TYPE = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, USER_DEFINED: 4, BYTE: 6 } as const;

/**
 * The ggml type a 2-D weight with rows of `rowLength` values gets for `quant`
 * (the requested type, or the fallback when the row is not a whole number of blocks).
 */
export function weightTypeFor(quant: TestQuant, rowLength: number, fallback: 'fallback' | 'error' = 'fallback'): GGMLType {
  if (rowLength % BLOCK_SIZES[quant] === 0) return QUANT_TYPES[quant];
  if (fallback === 'error') {
    throw new TestModelError('bad_test_model_options', `${quant} needs rows that are a multiple of ${BLOCK_SIZES[quant]} values; a weight has rows of ${rowLength}`);
  }
  return rowLength % 32 === 0 ? GGMLType.Q8_0 : GGMLType.F16;
}

/** Builds a complete GGUF file (bytes) for a random model; equal options give equal bytes. */
export function makeTestModel(options: TestModelOptions): Uint8Array {
  const plan = testModelPlan(options);
  return writeGGUF({ metadata: plan.metadata, tensors: plan.tensors.map((t) => ({ name: t.name, type: t.type, shape: t.shape, data: t.values() })) });
}

/** A tensor of a test model whose values are drawn only when asked for. */
export interface PlannedTensor {
  name: string;
  type: GGMLType;
  shape: number[];
  /**
   * The tensor's values (F32, before encoding as `type`), all of them or `count` from element
   * `from` on (ggml order): the same on every call.
   */
  values(from?: number, count?: number): Float32Array;
}

/**
 * makeTestModel's metadata and tensors, each tensor's values drawn on demand from its own
 * place in the PRNG's sequence (Rng.skipNormals): tensors can be drawn and encoded apart, in
 * any order or in parallel (bench/lib/bench-model-file.ts), and give makeTestModel's bytes.
 */
export function testModelPlan(options: TestModelOptions): { metadata: Record<string, MetaInput>; tensors: PlannedTensor[] } {
  const o = checkOptions(options);
  const { arch, dim, vocab } = o;
  const headDim = o.headDim ?? dim / o.heads;
  const qDim = o.heads * headDim;
  const kvDim = o.kvHeads * headDim;
  const isGemma = arch === 'gemma' || arch === 'gemma2' || arch === 'gemma3';
  const postNorms = arch === 'gemma2' || arch === 'gemma3';
  const tied = o.tiedEmbeddings ?? (arch === 'qwen2' || arch === 'qwen3' || isGemma);
  // Normals drawn before the next tensor's: each tensor starts where makeTestModel's one
  // sequential stream would be.
  let drawn = 0;
  const draw = (length: number, std: number, mean = 0) => {
    const before = drawn;
    drawn += length;
    return (from = 0, count = length - from) => new Rng(o.seed).skipNormals(before + from).normalArray(count, std, mean);
  };
  const u32 = (value: number) => ({ type: GGUFValueType.UINT32, value });
  const f32 = (value: number) => ({ type: GGUFValueType.FLOAT32, value });

  const metadata: Record<string, MetaInput> = {
    'general.architecture': arch,
    'general.name': o.name ?? `test-${arch}-${o.quant}-seed${o.seed}`,
    'general.file_type': u32(FILE_TYPES[o.quant]),
    'general.quantization_version': u32(2),
    [`${arch}.context_length`]: u32(o.contextLength ?? 512),
    [`${arch}.embedding_length`]: u32(dim),
    [`${arch}.block_count`]: u32(o.layers),
    [`${arch}.feed_forward_length`]: u32(o.ffn),
    [`${arch}.attention.head_count`]: u32(o.heads),
    [`${arch}.attention.head_count_kv`]: u32(o.kvHeads),
    [`${arch}.attention.layer_norm_rms_epsilon`]: f32(o.rmsEps ?? 1e-6),
    [`${arch}.rope.freq_base`]: f32(o.ropeTheta ?? 10000),
    [`${arch}.rope.dimension_count`]: u32(o.ropeDim ?? headDim),
  };
  const scaling = o.ropeScaling;
  if (scaling?.type !== undefined) metadata[`${arch}.rope.scaling.type`] = scaling.type;
  if (scaling?.factor !== undefined) metadata[`${arch}.rope.scaling.factor`] = f32(scaling.factor);
  if (scaling?.attnFactor !== undefined) metadata[`${arch}.rope.scaling.attn_factor`] = f32(scaling.attnFactor);
  const origContext = scaling?.originalContextLength ?? o.longRope?.originalContextLength;
  if (origContext !== undefined) metadata[`${arch}.rope.scaling.original_context_length`] = u32(origContext);
  const g = o.gemma;
  if (g?.slidingWindow !== undefined) metadata[`${arch}.attention.sliding_window`] = u32(g.slidingWindow);
  if (typeof g?.swaPattern === 'number') metadata[`${arch}.attention.sliding_window_pattern`] = u32(g.swaPattern);
  if (Array.isArray(g?.swaPattern)) metadata[`${arch}.attention.sliding_window_pattern`] = g.swaPattern;
  if (g?.ropeThetaSwa !== undefined) metadata[`${arch}.rope.freq_base_swa`] = f32(g.ropeThetaSwa);
  if (g?.attnSoftcap !== undefined) metadata[`${arch}.attn_logit_softcapping`] = f32(g.attnSoftcap);
  if (g?.finalSoftcap !== undefined) metadata[`${arch}.final_logit_softcapping`] = f32(g.finalSoftcap);
  if (o.headDim !== undefined || arch === 'qwen3') {
    metadata[`${arch}.attention.key_length`] = u32(headDim);
    metadata[`${arch}.attention.value_length`] = u32(headDim);
  }
  if (o.pooling !== undefined) metadata[`${arch}.pooling_type`] = u32(o.pooling);
  if (o.causal !== undefined) metadata[`${arch}.attention.causal`] = o.causal;
  Object.assign(metadata, o.tokenizer ?? defaultTokenizer(vocab));
  if (o.chatTemplate !== undefined) metadata['tokenizer.chat_template'] = o.chatTemplate;

  const tensors: PlannedTensor[] = [];
  // 2-D weight [out rows of `inDim`] in ggml shape [inDim, outDim].
  const weight = (name: string, inDim: number, outDim: number, std: number) =>
    tensors.push({
      name, type: weightTypeFor(mixedQuant(o.quant, name, o.layers), inDim, o.quantFallback), shape: [inDim, outDim],
      values: draw(inDim * outDim, std),
    });
  const vector = (name: string, length: number, mean: number, std: number) =>
    tensors.push({ name, type: GGMLType.F32, shape: [length], values: draw(length, std, mean) });
  const fixed = (name: string, data: Float32Array) => tensors.push({ name, type: GGMLType.F32, shape: [data.length], values: (from = 0, count = data.length - from) => data.subarray(from, from + count) });

  weight('token_embd.weight', dim, vocab, o.embedStd ?? (isGemma ? 2 / Math.sqrt(dim) : 1));
  vector('output_norm.weight', dim, 1, 0.1);
  if (!tied) weight('output.weight', dim, vocab, 2 / Math.sqrt(dim));
  if (o.ropeFreqFactors) {
    const numPairs = (o.ropeDim ?? headDim) / 2;
    // Like llama3 scaling: high-frequency pairs untouched (1), low-frequency pairs slowed (8).
    const factors = Float32Array.from({ length: numPairs }, (_, i) => 1 + (7 * i) / Math.max(numPairs - 1, 1));
    fixed('rope_freqs.weight', factors);
  }
  if (o.longRope) {
    const numPairs = (o.ropeDim ?? headDim) / 2;
    const ramp = (first: number, last: number) => Float32Array.from({ length: numPairs }, (_, i) => first + ((last - first) * i) / Math.max(numPairs - 1, 1));
    fixed('rope_factors_long.weight', ramp(1, 16));
    fixed('rope_factors_short.weight', ramp(3, 1));
  }
  for (let l = 0; l < o.layers; l++) {
    const p = `blk.${l}.`;
    vector(`${p}attn_norm.weight`, dim, 1, 0.1);
    if (arch === 'phi3') {
      weight(`${p}attn_qkv.weight`, dim, qDim + 2 * kvDim, 1 / Math.sqrt(dim));
    } else {
      weight(`${p}attn_q.weight`, dim, qDim, 1 / Math.sqrt(dim));
      weight(`${p}attn_k.weight`, dim, kvDim, 1 / Math.sqrt(dim));
      weight(`${p}attn_v.weight`, dim, kvDim, 1 / Math.sqrt(dim));
    }
    if (arch === 'qwen2') {
      vector(`${p}attn_q.bias`, qDim, 0, 0.5);
      vector(`${p}attn_k.bias`, kvDim, 0, 0.5);
      vector(`${p}attn_v.bias`, kvDim, 0, 0.5);
    }
    if (arch === 'qwen3' || arch === 'gemma3') {
      vector(`${p}attn_q_norm.weight`, headDim, 1, 0.1);
      vector(`${p}attn_k_norm.weight`, headDim, 1, 0.1);
    }
    weight(`${p}attn_output.weight`, qDim, dim, 1 / Math.sqrt(qDim));
    if (postNorms) vector(`${p}post_attention_norm.weight`, dim, 3, 0.3);
    vector(`${p}ffn_norm.weight`, dim, 1, 0.1);
    if (arch === 'phi3') {
      weight(`${p}ffn_up.weight`, dim, 2 * o.ffn, 1 / Math.sqrt(dim)); // gate rows, then up rows
    } else {
      weight(`${p}ffn_gate.weight`, dim, o.ffn, 1 / Math.sqrt(dim));
      weight(`${p}ffn_up.weight`, dim, o.ffn, 1 / Math.sqrt(dim));
    }
    weight(`${p}ffn_down.weight`, o.ffn, dim, 1 / Math.sqrt(o.ffn));
    if (postNorms) vector(`${p}post_ffw_norm.weight`, dim, 3, 0.3);
  }
  const omit = new Set(o.omitTensors ?? []);
  return { metadata, tensors: tensors.filter((t) => !omit.has(t.name)) };
}

/** The per-tensor quant of a 'Q4_K_M' file (llama.cpp's use_more_bits rule); other quants are uniform. */
function mixedQuant(quant: TestQuant, tensorName: string, numLayers: number): TestQuant {
  if (quant !== 'Q4_K_M') return quant;
  if (tensorName === 'output.weight') return 'Q6_K';
  const match = /^blk\.(\d+)\.(attn_v|ffn_down)\.weight$/.exec(tensorName);
  if (!match) return 'Q4_K';
  const layer = Number(match[1]);
  const eighth = Math.floor(numLayers / 8); // C integer division, as in llama.cpp
  const moreBits = layer < eighth || layer >= Math.floor((7 * numLayers) / 8) || (layer - eighth) % 3 === 2;
  return moreBits ? 'Q6_K' : 'Q4_K';
}

function checkOptions(o: TestModelOptions): TestModelOptions {
  const bad = (message: string) => new TestModelError('bad_test_model_options', message);
  if (!['llama', 'qwen2', 'qwen3', 'phi3', 'gemma', 'gemma2', 'gemma3', 'smollm3'].includes(o.arch)) throw bad(`unknown arch ${String(o.arch)}`);
  if (!(o.quant in QUANT_TYPES)) throw bad(`unknown quant ${String(o.quant)}`);
  for (const key of ['vocab', 'dim', 'layers', 'heads', 'kvHeads', 'ffn'] as const) {
    if (!Number.isInteger(o[key]) || o[key] <= 0) throw bad(`${key} must be a positive integer (got ${o[key]})`);
  }
  if (!Number.isInteger(o.seed)) throw bad(`seed must be an integer (got ${o.seed})`);
  if (o.heads % o.kvHeads !== 0) throw bad(`kvHeads (${o.kvHeads}) must divide heads (${o.heads})`);
  const headDim = o.headDim ?? o.dim / o.heads;
  if (!Number.isInteger(headDim) || headDim <= 0 || headDim % 2 !== 0) throw bad(`head size ${headDim} must be a positive even integer`);
  const ropeDim = o.ropeDim ?? headDim;
  if (!Number.isInteger(ropeDim) || ropeDim <= 0 || ropeDim % 2 !== 0 || ropeDim > headDim) {
    throw bad(`ropeDim ${ropeDim} must be even and at most the head size ${headDim}`);
  }
  if (o.tokenizer === undefined && o.vocab < 3) throw bad('the generated vocabulary needs vocab >= 3 (<unk>, <s>, </s>)');
  if (o.tokenizer !== undefined) {
    const tokens = o.tokenizer['tokenizer.ggml.tokens'];
    if (!Array.isArray(tokens) || tokens.length !== o.vocab) {
      throw bad(`tokenizer.ggml.tokens must be an array of exactly vocab (${o.vocab}) tokens`);
    }
  }
  return o;
}

/**
 * A small valid SentencePiece-style (`llama`) vocabulary: <unk>, <s>, </s>, the 256 byte
 * tokens <0x00>..<0xFF> when vocab >= 259, then pieces ▁, letters, digits, punctuation,
 * ▁+letter, letter pairs, ▁+letter pairs, … with scores falling by position (earlier
 * pieces win merges), as llama.cpp's SPM tokenizer expects.
 */
export function defaultTokenizer(vocab: number): Record<string, MetaInput> {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.UNKNOWN, TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL];
  const scores: number[] = [0, 0, 0];
  if (vocab >= 259) {
    for (let b = 0; b < 256; b++) {
      tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      types.push(TOKEN_TYPE.BYTE);
      scores.push(0);
    }
  }
  const pieces = pieceGenerator();
  while (tokens.length < vocab) {
    tokens.push(pieces.next().value as string);
    types.push(TOKEN_TYPE.NORMAL);
    scores.push(-(tokens.length - 1));
  }
  return {
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.pre': 'default',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.scores': new Float32Array(scores),
    'tokenizer.ggml.token_type': new Int32Array(types),
    'tokenizer.ggml.bos_token_id': { type: GGUFValueType.UINT32, value: 1 },
    'tokenizer.ggml.eos_token_id': { type: GGUFValueType.UINT32, value: 2 },
    'tokenizer.ggml.unknown_token_id': { type: GGUFValueType.UINT32, value: 0 },
    'tokenizer.ggml.add_bos_token': true,
    'tokenizer.ggml.add_eos_token': false,
  };
}

function* pieceGenerator(): Generator<string, never> {
  const lower = 'abcdefghijklmnopqrstuvwxyz';
  const singles = [...lower, ...lower.toUpperCase(), ...'0123456789', ...'.,!?\'"-:;()'];
  yield '▁';
  yield* singles;
  for (const c of lower) yield `▁${c}`;
  for (const c of lower.toUpperCase()) yield `▁${c}`;
  for (const a of lower) for (const b of lower) yield a + b;
  for (const a of lower) for (const b of lower) yield `▁${a}${b}`;
  for (let i = 0; ; i++) yield `▁w${i}`;
}

/** splitmix32 (a small counter-based PRNG) with Box–Muller normals; same seed, same stream. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed | 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) | 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  }
  /** Moves on as far as `count` normal() calls would (each takes two next()), in O(1). */
  skipNormals(count: number): this {
    this.state = (this.state + Math.imul(2 * count, 0x9e3779b9)) | 0;
    return this;
  }
  normal(): number {
    const u1 = 1 - this.next(); // (0, 1]: log stays finite
    const u2 = this.next();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }
  normalArray(length: number, std: number, mean = 0): Float32Array<ArrayBuffer> {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = mean + std * this.normal();
    return out;
  }
}
