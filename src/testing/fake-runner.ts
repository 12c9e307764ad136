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

import { KV_BLOCK_SIZE, type ModelRunner, type SamplingParams, type SequenceInput, type StepInput, type StepOutput } from '../engine/types';
import type { ModelConfig } from '../model/config';
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
  /** Reject the step with this number (1-based) with `error`. */
  failOnStep?: { step: number; error: Error };
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
  readonly config: ModelConfig;
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

  constructor(private readonly options: FakeRunnerOptions = {}) {
    this.numKvBlocks = options.numKvBlocks ?? 256;
    this.config = fakeConfig(options.vocabSize ?? 1000, options.contextLength ?? 2048);
    this.slotToken = new Int32Array(this.numKvBlocks * KV_BLOCK_SIZE).fill(-1);
    this.slotPosition = new Int32Array(this.numKvBlocks * KV_BLOCK_SIZE).fill(-1);
  }

  async step(input: StepInput): Promise<StepOutput> {
    this.numSteps++;
    this.inputs.push(input);
    if (this.options.yieldEachStep ?? true) await nextMacrotask();
    const fail = this.options.failOnStep;
    if (fail !== undefined && fail.step === this.numSteps) throw fail.error;
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
      for (let p = 0; p < seq.contextLength; p++) {
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
    return { sampled };
  }

  destroy(): void {
    this.destroyed = true;
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
      for (let b = 0; b < numBlocks; b++) this.checkBlockId(seq.blockTable[b], 'table');
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
      for (let b = 0; b < numBlocks; b++) {
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
