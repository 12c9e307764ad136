// A generation request as the engine core takes it (token ids in, already tokenized and
// templated), its validation, and `Sequence`: the scheduler's state for one output choice.
//
// `n > 1`: one *fork parent* sequence computes the prompt's first L-1 tokens once; then it
// forks into n children that share its blocks copy-on-write, and each child computes the
// last prompt token itself and samples its own output.

import type { OutputConstraint } from '../grammar/constraint';
import type { TokenMatcher } from '../grammar/backend';
import { EngineError } from './errors';
import { hashSalt, type BlockHash } from './kv/block-hash';
import type { KvSequence } from './kv/kv-cache-manager';
import { StopChecker, type DetokenizerFactory, type StopCriteria } from './stop';
import { GREEDY, MAX_TOP_LOGPROBS, penaltiesOn, type PenaltyTokens, type SamplingParams } from './types';

export interface EngineRequest {
  /** Unique among requests in flight; generated when omitted. */
  requestId?: string;
  /** [promptLength] the tokenized prompt (chat template already applied). */
  promptIds: ArrayLike<number>;
  /** Missing fields default to greedy (`GREEDY`). */
  sampling?: Partial<SamplingParams>;
  /** Output tokens per choice; default: until the context is full. */
  maxTokens?: number;
  /** Choices to generate from the one prompt (parallel sampling); default 1. */
  n?: number;
  stop?: readonly string[];
  stopTokenIds?: readonly number[];
  ignoreEos?: boolean;
  /** Separates prefix caches (e.g. per user): a prefix is only reused under the same salt. */
  cacheSalt?: string;
  signal?: AbortSignal;
  /** Constrained decoding (#16): every choice's output is a sentence of this grammar. */
  constraint?: OutputConstraint;
}

/**
 * What a constrained request's output must match (#16), in the grammar engine's terms; the
 * facade maps each API's surface (response_format, structured_outputs, guided_*, Ollama
 * `format`, tool_choice) onto one of these. Defined with its bounds in src/grammar/constraint.ts.
 */
export type { OutputConstraint } from '../grammar/constraint';

/** Choices one request may fork into (each holds its own KV blocks). */
export const MAX_CHOICES = 128;

function invalid(message: string, param: string): EngineError {
  return new EngineError('invalid_request', message, param);
}

// The core's own contract, for callers that hand it token ids directly (EngineCore is
// public): each value must be one the sampler can run, named by its OpenAI parameter.
// The user-facing ranges (temperature 0..2, …) are the facade's, checked once there
// (src/openai/params.ts); these only keep the sampler's inputs well-formed.
const finite = (v: number) => typeof v === 'number' && Number.isFinite(v);
const integer = (v: number) => Number.isSafeInteger(v);
const SAMPLING_DOMAIN: [keyof SamplingParams, string, (v: number) => boolean, string][] = [
  ['temperature', 'temperature', (v) => finite(v) && v >= 0, 'a finite number >= 0'],
  ['topK', 'top_k', (v) => integer(v) && v >= 0, 'an integer >= 0 (0 = off)'],
  ['topP', 'top_p', (v) => finite(v) && v > 0 && v <= 1, 'a probability mass above 0 (1 = off)'],
  ['minP', 'min_p', (v) => finite(v) && v >= 0 && v <= 1, 'a probability (0 = off)'],
  ['seed', 'seed', integer, 'a safe integer'],
  ['presencePenalty', 'presence_penalty', finite, 'a finite number'],
  ['frequencyPenalty', 'frequency_penalty', finite, 'a finite number'],
  ['repetitionPenalty', 'repetition_penalty', (v) => finite(v) && v > 0, 'a finite number > 0'],
  ['topLogprobs', 'top_logprobs', (v) => integer(v) && v >= 0 && v <= MAX_TOP_LOGPROBS, 'at most the sampler\'s MAX_TOP_LOGPROBS'],
];

/** Full sampling parameters from a partial set; throws `invalid_request` on a value the sampler cannot run. */
export function normalizeSampling(partial: Partial<SamplingParams> | undefined): SamplingParams {
  const s: SamplingParams = { ...GREEDY, ...partial };
  for (const [field, param, ok, what] of SAMPLING_DOMAIN) {
    const value = s[field] as number;
    if (!ok(value)) throw invalid(`${param} must be ${what}, got ${String(value)}`, param);
  }
  if (s.penaltyWindow !== undefined) {
    if (!(integer(s.penaltyWindow) && s.penaltyWindow >= -1)) throw invalid(`repeat_last_n must be an integer >= -1, got ${String(s.penaltyWindow)}`, 'repeat_last_n');
    // An empty window penalises nothing: neutral values let the runner skip its pass.
    if (s.penaltyWindow === 0) Object.assign(s, { presencePenalty: 0, frequencyPenalty: 0, repetitionPenalty: 1 });
  }
  return s;
}

/** Validates the prompt ids against the vocabulary; returns them as a plain array. */
export function normalizePrompt(promptIds: ArrayLike<number> | undefined, vocabSize: number): number[] {
  if (promptIds === undefined || promptIds === null || typeof promptIds.length !== 'number') {
    throw invalid('promptIds must be an array of token ids', 'prompt');
  }
  if (promptIds.length === 0) throw invalid('the prompt is empty', 'prompt');
  const ids = Array.from(promptIds);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
      throw invalid(`prompt token ${i} is ${String(id)}, not a token id in [0, ${vocabSize})`, 'prompt');
    }
  }
  return ids;
}

export function checkRequestShape(req: EngineRequest): void {
  if (req.n !== undefined && !(integer(req.n) && req.n >= 1 && req.n <= MAX_CHOICES)) throw invalid(`n must be an integer in [1, MAX_CHOICES = ${MAX_CHOICES}], got ${String(req.n)}`, 'n');
  if (req.maxTokens !== undefined && !(integer(req.maxTokens) && req.maxTokens >= 1)) throw invalid(`max_tokens must be an integer >= 1, got ${String(req.maxTokens)}`, 'max_tokens');
  for (const stop of req.stop ?? []) {
    if (typeof stop !== 'string' || stop.length === 0) throw invalid('stop strings must be non-empty strings', 'stop');
  }
  for (const id of req.stopTokenIds ?? []) {
    if (!Number.isInteger(id) || id < 0) throw invalid(`stop token id ${String(id)} is not a token id`, 'stop_token_ids');
  }
}

export type SequenceStatus = 'waiting' | 'running' | 'finished';

let nextSeqId = 1;

export class Sequence implements KvSequence {
  readonly seqId = nextSeqId++;
  /** Prompt, then output tokens. A fork parent holds only the prompt's first L-1. */
  readonly tokenIds: number[];
  numComputedTokens = 0;
  readonly cacheSalt: number;
  readonly blockHashes: BlockHash[] = [];
  status: SequenceStatus = 'waiting';
  /** Prompt tokens served from the prefix cache when first scheduled. */
  numCachedTokens = 0;
  scheduledOnce = false;
  numPreemptions = 0;
  /** Fork parent: the children that take over once its tokens are computed. */
  children: Sequence[] = [];
  /** Constrained decoding: this choice's grammar state (its output tokens accepted so far). */
  matcher: TokenMatcher | null = null;
  /** Token id → the count penalties read (see `penaltyTokens`); built on first use. */
  private penaltyCounts: Map<number, number> | null = null;

  constructor(
    readonly requestId: string,
    /** Choice index (0 for a fork parent). */
    readonly choiceIndex: number,
    tokenIds: readonly number[],
    readonly promptLength: number,
    readonly sampling: SamplingParams,
    /** Null for a fork parent, which never samples. */
    readonly stop: StopChecker | null,
    cacheSalt: string | undefined,
  ) {
    this.tokenIds = [...tokenIds];
    this.cacheSalt = cacheSalt === undefined ? -1 : hashSalt(cacheSalt);
  }

  get isForkParent(): boolean {
    return this.children.length > 0;
  }

  get numOutputTokens(): number {
    return this.tokenIds.length - this.promptLength;
  }

  get outputIds(): number[] {
    return this.tokenIds.slice(this.promptLength);
  }

  /** Slots in `maxRunningSequences` this sequence will take. */
  get seats(): number {
    return Math.max(1, this.children.length);
  }

  appendToken(tokenId: number): void {
    this.tokenIds.push(tokenId);
    const counts = this.penaltyCounts;
    if (counts === null) return;
    counts.set(tokenId, (counts.get(tokenId) ?? 0) + 1);
    // A window of N slides: the token N places back leaves it.
    const window = this.sampling.penaltyWindow ?? -1;
    const leaving = this.tokenIds.length - 1 - window;
    if (window > 0 && leaving >= 0) {
      const id = this.tokenIds[leaving];
      const left = counts.get(id)! - 1;
      if (left === 0) counts.delete(id);
      else counts.set(id, left);
    }
  }

  get usesPenalties(): boolean {
    return this.sampling.penaltyWindow !== 0 && penaltiesOn(this.sampling);
  }

  /**
   * The runner's penalty pass input. Without a window (OpenAI/vLLM): the distinct ids of
   * prompt ∪ output, each with its count in the output. With `penaltyWindow` N (llama.cpp):
   * the distinct ids of the last N tokens, each with its count there; -1 = all tokens.
   *
   *   tokens  p0 p1 p2 p3 | o0 o1        window 3 → p3 o0 o1
   */
  penaltyTokens(): PenaltyTokens {
    if (this.penaltyCounts === null) {
      const window = this.sampling.penaltyWindow;
      this.penaltyCounts = new Map();
      const start = window === undefined || window < 0 ? 0 : Math.max(0, this.tokenIds.length - window);
      for (let i = start; i < this.tokenIds.length; i++) {
        const id = this.tokenIds[i];
        const counted = window !== undefined || i >= this.promptLength ? 1 : 0;
        this.penaltyCounts.set(id, (this.penaltyCounts.get(id) ?? 0) + counted);
      }
    }
    const tokenIds = new Int32Array(this.penaltyCounts.size);
    const outputCounts = new Int32Array(this.penaltyCounts.size);
    let i = 0;
    for (const [id, count] of this.penaltyCounts) {
      tokenIds[i] = id;
      outputCounts[i++] = count;
    }
    return { tokenIds, outputCounts };
  }
}

export interface RequestSequences {
  /** [n] one sequence per choice. */
  choices: Sequence[];
  /** With n > 1 (and a prompt longer than 1 token): computes the shared prompt, then forks. */
  parent: Sequence | null;
}

/**
 * The sequences of one request. Choice i samples with seed + i, so choice 0 of n equals
 * the n = 1 output and seeded choices differ from each other.
 */
export function createSequences(
  requestId: string,
  prompt: readonly number[],
  n: number,
  sampling: SamplingParams,
  criteria: StopCriteria,
  createDetokenizer: DetokenizerFactory,
  cacheSalt?: string,
): RequestSequences {
  const choices = Array.from(
    { length: n },
    (_, i) =>
      new Sequence(requestId, i, prompt, prompt.length, { ...sampling, seed: sampling.seed + i }, new StopChecker(criteria, createDetokenizer(prompt)), cacheSalt),
  );
  if (n === 1 || prompt.length === 1) return { choices, parent: null };
  const parent = new Sequence(requestId, 0, prompt.slice(0, -1), prompt.length - 1, sampling, null, cacheSalt);
  parent.children = choices;
  return { choices, parent };
}
