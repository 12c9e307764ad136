// The plain-data contract between the engine core (scheduler, KV cache manager) and
// the model runner (GPU). Nothing here knows about GPU objects or HTTP.
//
// One step = one flattened batch of tokens from many sequences:
//
//   tokenIds  : [ a0 a1 a2 a3 | b7 | c0 c1 | d12 ]      (numTokens = 8)
//   positions : [  0  1  2  3 |  7 |  0  1 |  12 ]
//   sequences : a: queryStart 0, queryLength 4, contextLength 4   (prefill chunk)
//               b: queryStart 4, queryLength 1, contextLength 8   (decode)
//               c: queryStart 5, queryLength 2, contextLength 2   (prefill, not sampled:
//                                                                 more prompt follows)
//               d: queryStart 7, queryLength 1, contextLength 13  (decode)
//
// Token t of sequence s sits at position p; its K/V go to slot
//   blockTable[p >> 4] * 16 + (p & 15)   of every layer's K/V pool, and it attends
// to positions 0..p of its own sequence (causal), read through the same block table.

import type { ModelConfig } from '../model/config';
import type { ByteSource, GGUFFile } from '../model/gguf/types';

/** Tokens per KV block (PagedAttention's block size). */
export const KV_BLOCK_SIZE = 16;

export interface SamplingParams {
  /** 0 means greedy (argmax); the other fields except logprobs are then ignored. */
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** 0 = off. */
  minP: number;
  /**
   * Seed of the counter-based RNG: the uniform draw for output token k of a sequence
   * depends only on (seed, k), so seeded outputs do not depend on batching.
   */
  seed: number;
  /** OpenAI semantics: applied to tokens generated so far (output only). 0 = off. */
  presencePenalty: number;
  frequencyPenalty: number;
  /** vLLM/HF semantics: applied to tokens in prompt and output. 1 = off. */
  repetitionPenalty: number;
  /**
   * llama.cpp's `penalty_last_n` (Ollama's `repeat_last_n`). Unset: the OpenAI/vLLM
   * semantics above. Set to N: all three penalties look only at the last N tokens of
   * prompt + output, and presence/frequency count occurrences within that window, prompt
   * tokens included; -1 = the whole sequence; 0 = no penalties at all.
   */
  penaltyWindow?: number;
  /** Added to logits before everything else. */
  logitBias?: ReadonlyMap<number, number>;
  /** Number of top logprobs to return per sampled token (at most MAX_TOP_LOGPROBS); with `logprobs` false, none. */
  topLogprobs: number;
  /** Return the sampled token's logprob (of the distribution after bias/penalties, before temperature/top-k/p). */
  logprobs: boolean;
}

/**
 * The sampler's capacity: each sampled token's output row has this many (id, logprob) slots.
 * The facade's `top_logprobs` / `logprobs` ranges are built from it (src/openai/params.ts).
 */
export const MAX_TOP_LOGPROBS = 20;

/** Any of the three penalties changes logits (the runner then needs the token stats). */
export function penaltiesOn(p: Pick<SamplingParams, 'repetitionPenalty' | 'presencePenalty' | 'frequencyPenalty'>): boolean {
  return p.repetitionPenalty !== 1 || p.presencePenalty !== 0 || p.frequencyPenalty !== 0;
}

export const GREEDY: SamplingParams = {
  temperature: 0,
  topK: 0,
  topP: 1,
  minP: 0,
  seed: 0,
  presencePenalty: 0,
  frequencyPenalty: 0,
  repetitionPenalty: 1,
  topLogprobs: 0,
  logprobs: false,
};

/** Token statistics a sequence's penalties need. */
export interface PenaltyTokens {
  /** Distinct token ids in prompt ∪ output (or in the last `penaltyWindow` tokens). */
  tokenIds: Int32Array;
  /**
   * For each id above, the count presence/frequency read: its occurrences in the output
   * (0 = prompt only), or within the window when `penaltyWindow` is set.
   */
  outputCounts: Int32Array;
}

export interface SequenceInput {
  /** Index of this sequence's first token in the flattened batch. */
  queryStart: number;
  /** Number of new tokens this step (prefill chunk length, or 1 for decode). */
  queryLength: number;
  /** Tokens in context after this step = computed before + queryLength. */
  contextLength: number;
  /** KV block ids covering positions 0..contextLength-1 (block i holds positions 16i..16i+15). */
  blockTable: Int32Array;
  /** Sample a token after this sequence's last token in the batch. */
  sample: boolean;
  /** Required when `sample`. */
  sampling?: SamplingParams;
  /** RNG counter for this sample: the index of the output token being sampled. */
  sampleIndex?: number;
  /** Required when sampling with any penalty enabled. */
  penalties?: PenaltyTokens;
  /**
   * Grammar constraint for this sequence's sampled token (#16): a bitmask over the vocabulary,
   * ceil(vocabSize / 32) words, bit `t % 32` of word `t >> 5` set = token t allowed. Only
   * sequences with `sample: true` carry one; rows without it are sampled unconstrained.
   * The engine refills the same buffer for the sequence's next step: read it during `step()`,
   * copy it to keep it.
   */
  tokenMask?: Uint32Array;
}

export interface StepInput {
  /** [numTokens] */
  tokenIds: Int32Array;
  /** [numTokens] position of each token within its sequence. */
  positions: Int32Array;
  sequences: SequenceInput[];
  /** Copy-on-write: copy every layer's K/V of block `src` to block `dst` before this step's forward. */
  blockCopies?: ReadonlyArray<readonly [src: number, dst: number]>;
  /**
   * Tokens whose id is the one the previous step sampled, taken on the GPU so this step can
   * be submitted before the previous step's ids are read back: [token t of this step, row r
   * of the previous step's `sampled`]. tokenIds[t] is then only a placeholder (any id in the
   * vocabulary); the previous step must have been submitted by the same runner just before.
   */
  fromPreviousStep?: ReadonlyArray<readonly [token: number, row: number]>;
  /** Return logits [numSampled, vocabSize] of the sampled sequences' last tokens (tests). */
  returnLogits?: boolean;
  /** Return final-norm hidden states [numTokens, dim] (tests, embeddings). */
  returnHidden?: boolean;
}

export interface TokenLogprob {
  tokenId: number;
  logprob: number;
}

export interface SampledToken {
  tokenId: number;
  /** When the sequence asked for logprobs. */
  logprob?: number;
  /** When the sequence asked for topLogprobs > 0, highest first. */
  topLogprobs?: TokenLogprob[];
}

export interface StepOutput {
  /** One entry per sequence with `sample: true`, in the order of `StepInput.sequences`. */
  sampled: SampledToken[];
  /** [numSampled, vocabSize] when `returnLogits`. */
  logits?: Float32Array;
  /** [numTokens, dim] when `returnHidden`. */
  hidden?: Float32Array;
}

export interface ModelRunner {
  readonly config: ModelConfig;
  /** Number of KV blocks in the pool (block ids 0..numKvBlocks-1). */
  readonly numKvBlocks: number;
  readonly blockSize: typeof KV_BLOCK_SIZE;
  /**
   * Runs one forward pass over the flattened batch: one command encoder, one submit.
   * Steps are sequential; a runner that takes `fromPreviousStep` (the GPU runner) also
   * accepts the next step as soon as this call has returned its promise (the step is then
   * submitted), while this one's ids are still on the way back.
   */
  step(input: StepInput): Promise<StepOutput>;
  /**
   * True when step() takes `fromPreviousStep` and a second step while one is in flight: the
   * engine then chains decode steps (src/engine/sched/chain.ts). Absent: one step at a time.
   */
  readonly chainsSteps?: boolean;
  /**
   * Embedding models only (#17): one pooled vector per input sequence (the model's pooling
   * type, `config.pooling`: mean, cls or last; before any normalisation), computed in one
   * batch without touching the KV pool. Absent on runners whose model has no pooling (chat
   * models). Encoder runners (bert, nomic-bert) have numKvBlocks 0 and refuse step().
   */
  embed?(input: EmbedInput): Promise<Float32Array[]>;
  destroy(): void;
}

/** A batch of token sequences to embed (#17); each is a full input, at most the context length. */
export interface EmbedInput {
  sequences: ReadonlyArray<Int32Array>;
}

/** Where a model load is: `header` read, `weights` uploading (bytes), `ready`. */
export interface LoadProgress {
  stage: 'header' | 'weights' | 'ready';
  loaded: number;
  total: number;
  bytesPerSecond?: number;
}

/**
 * The WebGPU entry point (`navigator.gpu`, or `createNodeGPU()` in Node), typed by the one
 * method tabllm calls first, so the published declarations need no `@webgpu/types`.
 */
export interface GpuEntryPoint {
  requestAdapter(options?: never): Promise<unknown>;
}

/** What a model runner factory gets: the parsed file, its bytes, the config and the device options. */
export interface RunnerFactoryArgs {
  gguf: GGUFFile;
  /** The id the model will be served under (tests and the demo pick a fake runner by it). */
  modelId?: string;
  source: ByteSource;
  config: ModelConfig;
  gpu?: GpuEntryPoint;
  kvCacheBytes?: number;
  precision: 'auto' | 'f32' | 'f16';
  onProgress?: (p: LoadProgress) => void;
  /**
   * The most tokens and sampled rows one step can bring (the scheduler's maxBatchTokens and
   * maxRunningSequences): the GPU runner sizes its step buffers to them at load. Absent:
   * the runner's defaults (the scheduler's defaults).
   */
  stepCapacity?: { tokens: number; sampledRows: number };
}
