// CPU side of GPU sampling: checks SamplingParams, packs them into the per-row
// parameter block and the sparse (bias/penalty) entry list the kernels read, mirrors
// the kernels' RNG, and decodes the per-row output words into SampledToken[].
//
//   rowParams [numRows, ROW_WORDS] u32            entries [numEntries, 4] u32
//     0 flags (1 greedy, 2 logprobs)                0 row
//     1 temperature f32    2 topK                   1 tokenId
//     3 topP f32           4 minP f32               2 bias f32 (0 when none)
//     5 seed lo            6 seed hi                3 output count | inPromptOrOutput << 31
//     7 sampleIndex        8 numTopLogprobs
//     9 repetition f32    10 presence f32   11 frequency f32
//
//   out [numRows * OUT_WORDS] u32, grouped so a step without logprobs reads back only ids:
//     ids [numRows] u32 | logprobs [numRows] f32 | tops [numRows, 20, (id u32, logprob f32)]
//
//   grammar masks (constrained rows only):  maskRows [numMasked] u32   masks [numMasked, ceil(V / 32)] u32
import { MAX_TOP_LOGPROBS, penaltiesOn, type PenaltyTokens, type SampledToken, type SamplingParams, type SequenceInput, type TokenLogprob } from '../engine/types';
import { f32Bits, KernelArgError } from './encoder';

export const ROW_WORDS = 16;
export { MAX_TOP_LOGPROBS };
export const OUT_WORDS = 2 + 2 * MAX_TOP_LOGPROBS;
const FLAG_GREEDY = 1;
const FLAG_LOGPROBS = 2;
const COUNT_MASK = 0x7fffffff;

/** What one sampled row needs: the sequence's params, its RNG counter and token stats. */
export interface SampleRequest {
  params: SamplingParams;
  /** Index of the output token being sampled (RNG counter). */
  sampleIndex: number;
  /** Required when any penalty is on. */
  penalties?: PenaltyTokens;
  /** Grammar mask [ceil(vocabSize / 32)] u32 (constrained decoding): only its set bits may be sampled. */
  tokenMask?: Uint32Array;
}

export interface PackedSampleRows {
  numRows: number;
  /** [numRows, ROW_WORDS] u32 */
  rowParams: Uint32Array<ArrayBuffer>;
  /** [numEntries, 4] u32 */
  entries: Uint32Array<ArrayBuffer>;
  numEntries: number;
  /** Some row asked for logprobs (the logprobs pass can be skipped otherwise). */
  anyLogprobs: boolean;
  /** Every row is greedy (temperature 0): an argmax per row is the whole draw. */
  allGreedy: boolean;
  /** Rows with a grammar mask (0 = no mask pass). */
  numMasked: number;
  /** [numMasked] u32 the row of each mask. */
  maskRows: Uint32Array<ArrayBuffer>;
  /** [numMasked, ceil(vocabSize / 32)] u32 */
  masks: Uint32Array<ArrayBuffer>;
}

/** The sampling requests of the sequences that sample this step, in order. */
export function requestsFromSequences(sequences: readonly SequenceInput[]): SampleRequest[] {
  const requests: SampleRequest[] = [];
  sequences.forEach((seq, i) => {
    if (!seq.sample) return;
    if (!seq.sampling) throw bad(`sequence ${i}: sample without sampling params`);
    requests.push({ params: seq.sampling, sampleIndex: seq.sampleIndex ?? 0, penalties: seq.penalties, tokenMask: seq.tokenMask });
  });
  return requests;
}

function bad(message: string): KernelArgError {
  return new KernelArgError('sample', message);
}

function checkParams(p: SamplingParams, row: number): void {
  const at = `row ${row}:`;
  if (!Number.isFinite(p.temperature) || p.temperature < 0) throw bad(`${at} temperature must be a finite number >= 0, got ${p.temperature}`);
  if (!Number.isInteger(p.topK) || p.topK < 0) throw bad(`${at} topK must be an integer >= 0, got ${p.topK}`);
  if (!(p.topP > 0 && p.topP <= 1)) throw bad(`${at} topP must be in (0, 1], got ${p.topP}`);
  if (!(p.minP >= 0 && p.minP <= 1)) throw bad(`${at} minP must be in [0, 1], got ${p.minP}`);
  if (!Number.isSafeInteger(p.seed)) throw bad(`${at} seed must be a safe integer, got ${p.seed}`);
  if (!Number.isFinite(p.presencePenalty)) throw bad(`${at} presencePenalty must be finite, got ${p.presencePenalty}`);
  if (!Number.isFinite(p.frequencyPenalty)) throw bad(`${at} frequencyPenalty must be finite, got ${p.frequencyPenalty}`);
  if (!(p.repetitionPenalty > 0 && Number.isFinite(p.repetitionPenalty))) {
    throw bad(`${at} repetitionPenalty must be a finite number > 0, got ${p.repetitionPenalty}`);
  }
  if (!Number.isInteger(p.topLogprobs) || p.topLogprobs < 0 || p.topLogprobs > MAX_TOP_LOGPROBS) {
    throw bad(`${at} topLogprobs must be an integer in 0..${MAX_TOP_LOGPROBS}, got ${p.topLogprobs}`);
  }
}

/** Packs the rows' parameters and their merged (token -> bias, count) entries. */
export function packSampleRows(requests: readonly SampleRequest[], vocabSize: number): PackedSampleRows {
  if (!Number.isInteger(vocabSize) || vocabSize <= 0) throw bad(`bad vocabSize ${vocabSize}`);
  const numRows = requests.length;
  const rowParams = new Uint32Array(Math.max(1, numRows) * ROW_WORDS);
  const entryWords: number[] = [];
  let anyLogprobs = false;
  let allGreedy = true;
  requests.forEach((req, row) => {
    const p = req.params;
    checkParams(p, row);
    if (!Number.isInteger(req.sampleIndex) || req.sampleIndex < 0 || req.sampleIndex > 0xffffffff) {
      throw bad(`row ${row}: sampleIndex must be an integer in 0..2^32-1, got ${req.sampleIndex}`);
    }
    const wantLogprobs = p.logprobs; // topLogprobs without logprobs returns nothing (types.ts)
    anyLogprobs ||= wantLogprobs;
    allGreedy &&= p.temperature === 0;
    const w = row * ROW_WORDS;
    rowParams[w] = (p.temperature === 0 ? FLAG_GREEDY : 0) | (wantLogprobs ? FLAG_LOGPROBS : 0);
    rowParams[w + 1] = f32Bits(p.temperature);
    rowParams[w + 2] = Math.min(p.topK, 0xffffffff);
    rowParams[w + 3] = f32Bits(p.topP);
    rowParams[w + 4] = f32Bits(p.minP);
    rowParams[w + 5] = seedLo(p.seed);
    rowParams[w + 6] = seedHi(p.seed);
    rowParams[w + 7] = req.sampleIndex;
    rowParams[w + 8] = wantLogprobs ? p.topLogprobs : 0;
    rowParams[w + 9] = f32Bits(p.repetitionPenalty);
    rowParams[w + 10] = f32Bits(p.presencePenalty);
    rowParams[w + 11] = f32Bits(p.frequencyPenalty);

    // token id -> [bias, count | inSet flag]
    const merged = new Map<number, [number, number]>();
    if (p.logitBias) {
      for (const [id, bias] of p.logitBias) {
        checkTokenId(id, vocabSize, row, 'logitBias');
        if (!Number.isFinite(bias)) throw bad(`row ${row}: logitBias for token ${id} must be finite, got ${bias}`);
        merged.set(id, [bias, 0]);
      }
    }
    if (penaltiesOn(p)) {
      const pen = req.penalties;
      if (!pen) throw bad(`row ${row}: penalties are on but no penalty token stats were given`);
      if (pen.tokenIds.length !== pen.outputCounts.length) {
        throw bad(`row ${row}: penalties.tokenIds (${pen.tokenIds.length}) and outputCounts (${pen.outputCounts.length}) differ in length`);
      }
      for (let i = 0; i < pen.tokenIds.length; i++) {
        const id = pen.tokenIds[i];
        const count = pen.outputCounts[i];
        checkTokenId(id, vocabSize, row, 'penalties.tokenIds');
        if (!Number.isInteger(count) || count < 0) throw bad(`row ${row}: output count ${count} for token ${id} must be >= 0`);
        const prev = merged.get(id);
        if (prev && prev[1] !== 0) throw bad(`row ${row}: token ${id} listed twice in penalties.tokenIds`);
        merged.set(id, [prev ? prev[0] : 0, (Math.min(count, COUNT_MASK) | 0x80000000) >>> 0]);
      }
    }
    for (const [id, [bias, countFlags]] of merged) entryWords.push(row, id, f32Bits(bias), countFlags);
  });
  const numEntries = entryWords.length / 4;
  const entries = new Uint32Array(Math.max(4, entryWords.length));
  entries.set(entryWords);
  return { numRows, rowParams, entries, numEntries, anyLogprobs, allGreedy, ...packMasks(requests, vocabSize) };
}

/** The constrained rows' masks, one after another, and the row each belongs to. */
function packMasks(requests: readonly SampleRequest[], vocabSize: number): Pick<PackedSampleRows, 'numMasked' | 'maskRows' | 'masks'> {
  const words = Math.ceil(vocabSize / 32);
  const rows: number[] = [];
  requests.forEach((req, row) => {
    if (req.tokenMask === undefined) return;
    if (!(req.tokenMask instanceof Uint32Array) || req.tokenMask.length !== words) {
      throw bad(`row ${row}: tokenMask must be a Uint32Array of ceil(vocabSize / 32) = ${words} words`);
    }
    rows.push(row);
  });
  const masks = new Uint32Array(Math.max(1, rows.length) * words);
  rows.forEach((row, m) => masks.set(requests[row].tokenMask!, m * words));
  return { numMasked: rows.length, maskRows: Uint32Array.from(rows.length > 0 ? rows : [0]), masks };
}

function checkTokenId(id: number, vocabSize: number, row: number, what: string): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) throw bad(`row ${row}: ${what} token ${id} outside the vocabulary 0..${vocabSize - 1}`);
}

function seedLo(seed: number): number {
  return Number(BigInt.asUintN(32, BigInt(seed)));
}
function seedHi(seed: number): number {
  return Number(BigInt.asUintN(32, BigInt(seed) >> 32n));
}

function pcgHash(x: number): number {
  const state = (Math.imul(x >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The kernel's uniform draw in [0, 1) for (seed, sampleIndex), bit-exact (tests, CPU fallbacks). */
export function sampleUniform(seed: number, sampleIndex: number): number {
  const key = pcgHash(seedLo(seed) ^ pcgHash(seedHi(seed) ^ 0x9e3779b9));
  const h = pcgHash((pcgHash((sampleIndex ^ key) >>> 0) + key) >>> 0);
  return (h >>> 8) / 16777216;
}

/** Bytes of sampler output to read back for these rows: only the ids unless one asked for logprobs. */
export function sampledBytes(rows: readonly { params: SamplingParams }[]): number {
  return rows.some((r) => r.params.logprobs) ? rows.length * OUT_WORDS * 4 : rows.length * 4;
}

/**
 * Decodes `rows.length` rows of the sampler output (`bytes` starts at row 0).
 * Logprobs and top logprobs are filled only where the row's params asked for them.
 */
export function readSampled(bytes: ArrayBuffer, rows: readonly { params: SamplingParams; tokenMask?: Uint32Array }[], vocabSize?: number): SampledToken[] {
  const S = rows.length;
  const need = sampledBytes(rows);
  if (bytes.byteLength < need) throw bad(`sampler output holds ${bytes.byteLength} B, ${S} rows need ${need}`);
  const u32 = new Uint32Array(bytes, 0, need / 4);
  const f32 = new Float32Array(bytes, 0, need / 4);
  return rows.map(({ params, tokenMask }, row) => {
    const token: SampledToken = { tokenId: u32[row] };
    if (params.logprobs) token.logprob = f32[S + row];
    if (params.logprobs && params.topLogprobs > 0) {
      const n = Math.min(params.topLogprobs, vocabSize ?? MAX_TOP_LOGPROBS);
      const top: TokenLogprob[] = [];
      const o = 2 * S + row * 2 * MAX_TOP_LOGPROBS;
      for (let j = 0; j < n; j++) {
        const tokenId = u32[o + 2 * j];
        // A constrained row's list ends at its last allowed token (the masked ones have probability 0).
        if (tokenMask !== undefined && ((tokenMask[tokenId >>> 5] >>> (tokenId & 31)) & 1) === 0) break;
        top.push({ tokenId, logprob: f32[o + 2 * j + 1] });
      }
      token.topLogprobs = top;
    }
    return token;
  });
}
