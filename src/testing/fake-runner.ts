// A deterministic fake ModelRunner (no GPU), plus a fake detokenizer: the test double of the
// engine tests, kept in src/ (not test/) because the demo's ?fake=1 mode runs on it too.
// Not exported from the package entry; nothing in the library imports it.
//
// It keeps its own "KV pool": for every slot, the token id and position last written there.
// A sequence's next token is a hash of its whole context *as read back through its block
// table*, so a wrong table, a missed copy-on-write, a stale prefix-cache hit or a bad
// recompute after preemption changes the output. With temperature > 0 the hash also mixes
// (seed, sampleIndex), as the real sampler's counter-based RNG does.
//
// Every StepInput is checked: contiguous queries, positions matching context lengths,
// block tables long enough, no null block inside a context, every slot read holding the
// position it should, and no block written by one sequence while another in the same step
// names it. A row with a grammar `tokenMask` picks among the tokens it allows (allowedToken).
//
// `slidingWindow: W` makes it a model whose every layer attends to the last W positions:
// the next token hashes only the window's tokens, and blocks wholly below the window of a
// step's first query may be the null block (the KV manager drops them).
//
// Chaining (`chainsSteps`, the default, as the GPU runner does): a second step may be
// submitted while one is in flight, steps run in submission order, and `fromPreviousStep`
// tokens take the ids the previous step sampled (an error if it failed).
//
// Embedding mode (`embeddingDim`): the runner also has `embed()`, a pooled vector per input
// sequence that is a hash of its token ids (component k of [ids] = fakeEmbedding(ids)[k]), so
// tests can check routing, order, batching, normalisation and `dimensions`. Every `embed`
// call's input is kept (`embedInputs`) to count batches.

import { KV_BLOCK_SIZE, type EmbedInput, type ModelRunner, type SamplingParams, type SequenceInput, type StepInput, type StepOutput } from '../engine/types';
import type { ModelConfig } from '../model/config';
import { planChain } from '../gpu/step-chain';
import type { Detokenizer } from '../engine/stop';

export class FakeRunnerInvariantError extends Error {
  readonly code = 'fake_runner_invariant';
}

export interface FakeRunnerOptions {
  vocabSize?: number;
  numKvBlocks?: number;
  contextLength?: number;
  /** Await a macrotask in each step, like a GPU readback (default true). */
  yieldEachStep?: boolean;
  /** Overrides the next token (scripted outputs): gets the sequence's context tokens. */
  nextToken?: (context: number[], seq: SequenceInput) => number;
  /** Chain steps like the GPU runner (`ModelRunner.chainsSteps`); default true. */
  chainsSteps?: boolean;
  /** Reject the step with this number (1-based) with `error`. */
  failOnStep?: { step: number; error: Error };
  /** Every layer attends to the last `slidingWindow` positions only (config.slidingWindow, all layers local). */
  slidingWindow?: number;
  /** An embedding model: `embed()` returns vectors of this many components (see fakeEmbedding). */
  embeddingDim?: number;
  /** Reject the embed call with this number (1-based) with `error`. */
  failOnEmbed?: { call: number; error: Error };
}

/** setImmediate in Node; a zero timeout where it is missing (browsers, workers). */
function nextMacrotask(): Promise<void> {
  return new Promise<void>((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));
}

function mix(h: number, k: number): number {
  h ^= k;
  h = Math.imul(h, 0x01000193);
  return (h ^ (h >>> 15)) >>> 0;
}

/** The fake model: next token from a context (and, when sampling, seed and sampleIndex). */
export function fakeNextToken(context: readonly number[], vocabSize: number, sampling?: SamplingParams, sampleIndex = 0): number {
  let h = 0x811c9dc5;
  for (const t of context) h = mix(h, t + 1);
  if (sampling !== undefined && sampling.temperature > 0) h = mix(mix(h, sampling.seed | 0), sampleIndex + 7);
  return h % vocabSize;
}

/**
 * A grammar mask's pick: `preferred` when the mask allows it, else the allowed token
 * `preferred mod numAllowed` places into the allowed set (deterministic, spread over all).
 */
export function allowedToken(mask: Uint32Array, preferred: number, vocabSize: number): number {
  if (mask.length < Math.ceil(vocabSize / 32)) throw new FakeRunnerInvariantError(`token mask has ${mask.length} words for ${vocabSize} tokens`);
  const allowed = (t: number) => ((mask[t >>> 5] >>> (t & 31)) & 1) === 1;
  if (allowed(preferred)) return preferred;
  let numAllowed = 0;
  for (let t = 0; t < vocabSize; t++) if (allowed(t)) numAllowed++;
  if (numAllowed === 0) throw new FakeRunnerInvariantError('token mask allows no token');
  let k = preferred % numAllowed;
  for (let t = 0; t < vocabSize; t++) if (allowed(t) && k-- === 0) return t;
  throw new FakeRunnerInvariantError('unreachable');
}

/**
 * The fake embedding model's pooled vector of `ids` (before normalisation): component k is a
 * hash of (ids, k) in [-1, 1), so equal inputs give equal vectors and any change of a token,
 * its order or the length gives another. Never all zeros for dim >= 1 in practice.
 */
export function fakeEmbedding(ids: ArrayLike<number>, dim: number): Float32Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) h = mix(h, ids[i]! + 1);
  h = mix(h, ids.length);
  const out = new Float32Array(dim);
  for (let k = 0; k < dim; k++) out[k] = (mix(h, k + 1) % 2000) / 1000 - 1;
  return out;
}

export function fakeConfig(vocabSize: number, contextLength: number): ModelConfig {
  return {
    arch: 'llama',
    name: 'fake',
    vocabSize,
    dim: 8,
    numLayers: 1,
    numHeads: 1,
    numKvHeads: 1,
    headDim: 8,
    ffnDim: 8,
    rmsEps: 1e-5,
    ropeTheta: 10000,
    ropeStyle: 'adjacent',
    ropeDim: 8,
    contextLength,
    tiedEmbeddings: true,
    qkvBias: false,
    qkNorm: false,
    fusedQkv: false,
    fusedGateUp: false,
  };
}

export class FakeRunner implements ModelRunner {
  config: ModelConfig;
  readonly numKvBlocks: number;
  readonly blockSize = KV_BLOCK_SIZE;
  /** [numKvBlocks * 16] token id written to each slot; -1 = never. */
  readonly slotToken: Int32Array;
  /** [numKvBlocks * 16] position written to each slot; -1 = never. */
  readonly slotPosition: Int32Array;
  numSteps = 0;
  /** Every step's input, in order. */
  readonly inputs: StepInput[] = [];
  destroyed = false;
  /** Takes fromPreviousStep and a second step while one is in flight, as the GPU runner does. */
  readonly chainsSteps: boolean;
  /** Most steps in flight at once so far (2: a step was chained behind another). */
  maxStepsInFlight = 0;
  /** Steps submitted and not finished. */
  private stepsInFlight = 0;
  /** Settles when the last submitted step has. */
  private tail: Promise<void> = Promise.resolve();
  /** Ids the last finished step sampled; null after a failed step. */
  private previousIds: number[] | null = null;
  /** Every embed call's input, in order (embedding mode). */
  readonly embedInputs: EmbedInput[] = [];
  /** Present only in embedding mode, as on a real runner whose model pools. */
  readonly embed?: (input: EmbedInput) => Promise<Float32Array[]>;

  constructor(private readonly options: FakeRunnerOptions = {}) {
    this.numKvBlocks = options.numKvBlocks ?? 256;
    this.chainsSteps = options.chainsSteps ?? true;
    let config = fakeConfig(options.vocabSize ?? 1000, options.contextLength ?? 2048);
    // An embedding model's hidden size is its vector size.
    if (options.embeddingDim !== undefined) config = { ...config, dim: options.embeddingDim };
    const w = options.slidingWindow;
    this.config = w === undefined ? config : { ...config, slidingWindow: { size: w, localLayers: [true], ropeTheta: config.ropeTheta, ropeScaled: true } };
    this.slotToken = new Int32Array(this.numKvBlocks * KV_BLOCK_SIZE).fill(-1);
    this.slotPosition = new Int32Array(this.numKvBlocks * KV_BLOCK_SIZE).fill(-1);
    const dim = options.embeddingDim;
    if (dim !== undefined) this.embed = (input) => this.embedBatch(input, dim);
  }

  private async embedBatch(input: EmbedInput, dim: number): Promise<Float32Array[]> {
    this.embedInputs.push(input);
    if (this.options.yieldEachStep ?? true) await nextMacrotask();
    const fail = this.options.failOnEmbed;
    if (fail !== undefined && fail.call === this.embedInputs.length) throw fail.error;
    return input.sequences.map((ids) => {
      if (ids.length < 1 || ids.length > this.config.contextLength) throw new FakeRunnerInvariantError(`embed input of ${ids.length} tokens`);
      for (const t of ids) if (t < 0 || t >= this.config.vocabSize) throw new FakeRunnerInvariantError(`token ${t} outside the vocabulary`);
      return fakeEmbedding(ids, dim);
    });
  }

  async step(input: StepInput): Promise<StepOutput> {
    const stepNumber = ++this.numSteps;
    // Masks are the engine's per-matcher buffers, refilled next step: the record keeps copies.
    const masked = input.sequences.some((s) => s.tokenMask !== undefined);
    this.inputs.push(masked ? { ...input, sequences: input.sequences.map((s) => (s.tokenMask === undefined ? s : { ...s, tokenMask: s.tokenMask.slice() })) } : input);
    const allowed = this.chainsSteps ? 2 : 1;
    if (this.stepsInFlight >= allowed) throw new FakeRunnerInvariantError(`step ${stepNumber} while ${this.stepsInFlight} step(s) are in flight`);
    // Steps run in the order they were submitted, as on a GPU queue (alone: at once, no extra tick).
    const run = this.stepsInFlight === 0 ? this.run(input, stepNumber) : this.tail.then(() => this.run(input, stepNumber));
    this.stepsInFlight++;
    this.maxStepsInFlight = Math.max(this.maxStepsInFlight, this.stepsInFlight);
    this.tail = run.then(() => {}, () => {});
    try {
      return await run;
    } finally {
      this.stepsInFlight--;
    }
  }

  private async run(submitted: StepInput, stepNumber: number): Promise<StepOutput> {
    const fed = this.previousIds;
    this.previousIds = null; // until this step has sampled
    if (this.options.yieldEachStep ?? true) await nextMacrotask();
    const fail = this.options.failOnStep;
    if (fail !== undefined && fail.step === stepNumber) throw fail.error;
    const input = this.feedFromPreviousStep(submitted, fed);
    this.checkShape(input);
    for (const [src, dst] of input.blockCopies ?? []) {
      this.checkBlockId(src, 'copy source');
      this.checkBlockId(dst, 'copy destination');
      const s = src * KV_BLOCK_SIZE;
      this.slotToken.copyWithin(dst * KV_BLOCK_SIZE, s, s + KV_BLOCK_SIZE);
      this.slotPosition.copyWithin(dst * KV_BLOCK_SIZE, s, s + KV_BLOCK_SIZE);
    }
    this.checkNoSharedWrites(input);
    // Write every token's "K/V", then read each sampled sequence's context back.
    for (const seq of input.sequences) {
      for (let j = 0; j < seq.queryLength; j++) {
        const p = input.positions[seq.queryStart + j];
        const slot = this.slot(seq.blockTable, p);
        this.slotToken[slot] = input.tokenIds[seq.queryStart + j];
        this.slotPosition[slot] = p;
      }
    }
    const sampled = [];
    for (const seq of input.sequences) {
      if (!seq.sample) continue;
      const context: number[] = [];
      for (let p = this.windowStart(seq.contextLength - 1); p < seq.contextLength; p++) {
        const slot = this.slot(seq.blockTable, p);
        if (this.slotPosition[slot] !== p) {
          throw new FakeRunnerInvariantError(`slot ${slot} (position ${p}) holds position ${this.slotPosition[slot]}`);
        }
        context.push(this.slotToken[slot]);
      }
      let tokenId = this.options.nextToken
        ? this.options.nextToken(context, seq)
        : fakeNextToken(context, this.config.vocabSize, seq.sampling, seq.sampleIndex);
      if (seq.tokenMask !== undefined) tokenId = allowedToken(seq.tokenMask, tokenId, this.config.vocabSize);
      const out: StepOutput['sampled'][number] = { tokenId };
      if (seq.sampling!.logprobs) out.logprob = -((tokenId % 97) / 10);
      if (seq.sampling!.logprobs && seq.sampling!.topLogprobs > 0) {
        out.topLogprobs = Array.from({ length: seq.sampling!.topLogprobs }, (_, k) => ({
          tokenId: (tokenId + k) % this.config.vocabSize,
          logprob: -((tokenId % 97) / 10) - k,
        }));
      }
      sampled.push(out);
    }
    this.previousIds = sampled.map((s) => s.tokenId);
    return { sampled };
  }

  /**
   * The input with `fromPreviousStep`'s tokens replaced by the ids the previous step sampled
   * (`ids`: null when it failed), checked as the GPU runner checks them (step-chain.ts).
   */
  private feedFromPreviousStep(input: StepInput, ids: number[] | null): StepInput {
    const pairs = input.fromPreviousStep;
    if (pairs === undefined || pairs.length === 0) return input;
    if (!this.chainsSteps) throw new FakeRunnerInvariantError('fromPreviousStep given to a runner that does not chain steps');
    if (ids === null) throw new FakeRunnerInvariantError('fromPreviousStep, but the previous step failed or there was none');
    const tokenIds = input.tokenIds.slice();
    for (const { row, token, count } of planChain(input, tokenIds.length, ids.length)) {
      for (let i = 0; i < count; i++) tokenIds[token + i] = ids[row + i];
    }
    return { ...input, tokenIds };
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** First position a token at `pos` reads (0 without a window). */
  private windowStart(pos: number): number {
    const w = this.options.slidingWindow;
    return w === undefined ? 0 : Math.max(0, pos - w + 1);
  }

  private slot(blockTable: Int32Array, p: number): number {
    return blockTable[p >> 4] * KV_BLOCK_SIZE + (p & 15);
  }

  private checkBlockId(id: number, what: string): void {
    if (!Number.isInteger(id) || id < 1 || id >= this.numKvBlocks) throw new FakeRunnerInvariantError(`${what} block ${id} out of range`);
  }

  private checkShape(input: StepInput): void {
    const numTokens = input.tokenIds.length;
    if (input.positions.length !== numTokens) throw new FakeRunnerInvariantError('positions and tokenIds differ in length');
    let expectStart = 0;
    for (const seq of input.sequences) {
      if (seq.queryStart !== expectStart) throw new FakeRunnerInvariantError(`queryStart ${seq.queryStart}, expected ${expectStart}`);
      if (seq.queryLength < 1) throw new FakeRunnerInvariantError('empty query');
      expectStart += seq.queryLength;
      const first = seq.contextLength - seq.queryLength;
      for (let j = 0; j < seq.queryLength; j++) {
        if (input.positions[seq.queryStart + j] !== first + j) throw new FakeRunnerInvariantError(`position ${input.positions[seq.queryStart + j]}, expected ${first + j}`);
        const t = input.tokenIds[seq.queryStart + j];
        if (t < 0 || t >= this.config.vocabSize) throw new FakeRunnerInvariantError(`token ${t} outside the vocabulary`);
      }
      const numBlocks = Math.ceil(seq.contextLength / KV_BLOCK_SIZE);
      if (seq.blockTable.length < numBlocks) throw new FakeRunnerInvariantError(`block table has ${seq.blockTable.length} blocks for ${seq.contextLength} tokens`);
      // Blocks below the window of the first query token are never read: they may be the null block.
      const firstRead = this.windowStart(first) >> 4;
      for (let b = firstRead; b < numBlocks; b++) this.checkBlockId(seq.blockTable[b], 'table');
      if (seq.contextLength > this.config.contextLength) throw new FakeRunnerInvariantError('context longer than the model');
      if (seq.sample && (seq.sampling === undefined || seq.sampleIndex === undefined)) throw new FakeRunnerInvariantError('sample without sampling params');
    }
    if (expectStart !== numTokens) throw new FakeRunnerInvariantError(`queries cover ${expectStart} of ${numTokens} tokens`);
  }

  /** A block written by one sequence this step must not be named by another sequence of the step. */
  private checkNoSharedWrites(input: StepInput): void {
    const owner = new Map<number, number>(); // block id → index of the sequence naming it
    const shared = new Set<number>();
    input.sequences.forEach((seq, i) => {
      const numBlocks = Math.ceil(seq.contextLength / KV_BLOCK_SIZE);
      for (let b = this.windowStart(seq.contextLength - seq.queryLength) >> 4; b < numBlocks; b++) {
        const id = seq.blockTable[b];
        const o = owner.get(id);
        if (o !== undefined && o !== i) shared.add(id);
        owner.set(id, i);
      }
    });
    for (const seq of input.sequences) {
      const firstWritten = (seq.contextLength - seq.queryLength) >> 4;
      const lastWritten = (seq.contextLength - 1) >> 4;
      for (let b = firstWritten; b <= lastWritten; b++) {
        if (shared.has(seq.blockTable[b])) throw new FakeRunnerInvariantError(`block ${seq.blockTable[b]} is written while another sequence reads it`);
      }
    }
  }
}

/** A detokenizer where token id i is the letter 'a' + i % 26 (or `piece(i)`). */
export function createFakeDetokenizer(piece: (id: number) => string = (id) => String.fromCharCode(97 + (id % 26))): () => Detokenizer {
  return () => ({ push: (id) => piece(id), flush: () => '' });
}
