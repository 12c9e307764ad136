// GPU sampling: penalties, greedy or sampled draws, and logprobs for every row of a step.
//
// After the LM head, one step samples every row of logits [numSampled, vocabSize] on
// the GPU and reads back only the ids (4 B per row), plus logprobs when asked (sample-pack.ts: out):
//   1. sample-copy      (only when the raw logits must survive) logits -> scratch rows
//   2. sample-penalties logit_bias, repetition, presence, frequency on listed tokens only
//   3. sample-mask      (only when some row has a grammar mask) masked-out tokens -> lowest f32
//   4. sample           greedy argmax, or temperature / top-k / top-p / min-p + seeded draw
//   5. logprobs         (only when some row asked) log-softmax of step 3's rows, top n
// All five are dispatches in the caller's compute pass; nothing here submits.
//
// Semantics (the float64 oracle in test/gpu/sample-oracle.ts spells them out):
// - bias and penalties apply to greedy rows too (as in vLLM and HF);
// - filters run on exp((l - max) / T): top-k keeps every token tied with the k-th logit,
//   top-p keeps the smallest top set (by logit) whose mass within the top-k survivors
//   reaches p, plus its tie group, min-p keeps p >= min_p * p_max;
// - the draw is u(seed, sampleIndex) * Σw inverted over the kept tokens in id order, so a
//   seeded draw depends only on the row, never on the batch;
// - logprobs are log-softmax of the processed logits at temperature 1, before filtering;
//   a constrained row's are of its masked distribution (allowed tokens only: vLLM's
//   "processed" logprobs), and its top list stops at its last allowed token.
//
// Runner use:
//   const sampler = new Sampler(ctx, { maxRows, vocabSize });           // once
//   const requests = requestsFromSequences(input.sequences);             // the sampling ones, in order
//   sampler.record(enc, logitsBuf, requests, { preserveLogits });         // per step, in the pass
//   ...pass.end(); copy sampler.out [0, sampler.outBytes(requests)) to a staging buffer; submit
//   const sampled = sampler.read(stagingBytes, requests);                // SampledToken[]
import type { GpuContext } from '../gpu/types';
import type { SampledToken } from '../engine/types';
import { dispatch, KernelArgError, MAX_WORKGROUPS_PER_DIM, type KernelEncoder } from './encoder';
import logprobsCode from './logprobs.wgsl?raw';
import argmaxCode from './sample-argmax.wgsl?raw';
import commonCode from './sample-common.wgsl?raw';
import copyCode from './sample-copy.wgsl?raw';
import { OUT_WORDS, packSampleRows, readSampled, ROW_WORDS, sampledBytes, type PackedSampleRows, type SampleRequest } from './sample-pack';
import penaltiesCode from './sample-penalties.wgsl?raw';
import greedyCode from './sample-greedy.wgsl?raw';
import maskCode from './sample-mask.wgsl?raw';
import sampleCode from './sample.wgsl?raw';

export { MAX_TOP_LOGPROBS, OUT_WORDS, packSampleRows, readSampled, requestsFromSequences, ROW_WORDS, sampledBytes, sampleUniform } from './sample-pack';
export type { PackedSampleRows, SampleRequest } from './sample-pack';

const ROW_WG_MAX = 256; // one workgroup per row (sample, logprobs); power of two
const ROW_WG_MIN = 8;

/** Small vocabularies get small workgroups: idle invocations still pay for every barrier. */
function rowWorkgroupSize(vocabSize: number): number {
  let wg = ROW_WG_MIN;
  while (wg < ROW_WG_MAX && wg * 8 < vocabSize) wg *= 2;
  return wg;
}
const FLAT_WG = 64; // penalties: one invocation per entry
const COPY_WG = 256;

export interface SampleArgs {
  /** [numRows, vocabSize] f32 raw logits; bias/penalties land here unless `processed` is given. */
  logits: GPUBuffer;
  /** [numRows, vocabSize] f32 scratch; when given, logits are copied here first and left untouched. */
  processed?: GPUBuffer;
  /** [numRows, ROW_WORDS] u32 from packSampleRows. */
  rowParams: GPUBuffer;
  /** [numEntries, 4] u32 from packSampleRows. */
  entries: GPUBuffer;
  numEntries: number;
  numRows: number;
  vocabSize: number;
  /** Run the logprobs pass (packSampleRows().anyLogprobs). */
  withLogprobs: boolean;
  /**
   * Every row is greedy (packSampleRows().allGreedy): on software adapters an argmax
   * per invocation (sample-greedy.wgsl) replaces the workgroup per row. Same ids.
   */
  allGreedy?: boolean;
  /** [numRows * OUT_WORDS] u32 (layout in sample-pack.ts); must not alias the others. */
  out: GPUBuffer;
  /** Grammar masks of the constrained rows (packSampleRows().numMasked > 0). */
  masks?: { numMasked: number; masks: GPUBuffer; maskRows: GPUBuffer };
}

function rowGrid(numRows: number): [number, number] {
  const x = Math.min(numRows, MAX_WORKGROUPS_PER_DIM);
  return [x, Math.ceil(numRows / x)];
}

function flatGrid(items: number, wg: number): [number, number] {
  const groups = Math.ceil(items / wg);
  const x = Math.min(groups, MAX_WORKGROUPS_PER_DIM);
  return [x, Math.ceil(groups / x)];
}

/** Records the sampling dispatches (see the file header) into `enc`. */
export function sample(enc: KernelEncoder, a: SampleArgs): void {
  const { numRows, vocabSize: V, numEntries } = a;
  if (!Number.isInteger(numRows) || numRows < 0) throw new KernelArgError('sample', `bad numRows ${numRows}`);
  if (!Number.isInteger(V) || V <= 0) throw new KernelArgError('sample', `bad vocabSize ${V}`);
  if (!Number.isInteger(numEntries) || numEntries < 0) throw new KernelArgError('sample', `bad numEntries ${numEntries}`);
  const rowBytes = numRows * V * 4;
  if (a.logits.size < rowBytes) throw new KernelArgError('sample', `logits hold ${a.logits.size} B, need [${numRows}, ${V}] f32`);
  if (a.processed && a.processed.size < rowBytes) throw new KernelArgError('sample', `processed holds ${a.processed.size} B, need [${numRows}, ${V}] f32`);
  if (a.rowParams.size < numRows * ROW_WORDS * 4) throw new KernelArgError('sample', `rowParams hold ${a.rowParams.size} B, need [${numRows}, ${ROW_WORDS}] u32`);
  if (a.entries.size < numEntries * 16) throw new KernelArgError('sample', `entries hold ${a.entries.size} B, need [${numEntries}, 4] u32`);
  if (a.out.size < numRows * OUT_WORDS * 4) throw new KernelArgError('sample', `out holds ${a.out.size} B, need [${numRows}, ${OUT_WORDS}] u32`);
  const distinct = new Set([a.logits, a.processed ?? a.logits, a.rowParams, a.entries, a.out]);
  if (distinct.size !== (a.processed ? 5 : 4)) throw new KernelArgError('sample', 'buffers must not alias each other');
  if (numRows === 0) return;
  if (numRows * V > 0xffffffff) throw new KernelArgError('sample', `[${numRows}, ${V}] exceeds u32 indexing`);

  const ctx = enc.ctx;
  const dims = enc.uniforms.push('sample', [numRows, V, numEntries]);
  const rows = a.processed ?? a.logits; // [numRows, V] f32 the filters read
  if (a.processed) {
    const pipeline = ctx.pipeline(`sample-copy/wg${COPY_WG}`, commonCode + copyCode, { WG: COPY_WG });
    dispatch(enc, pipeline, [a.logits, a.processed, dims], ...flatGrid(numRows * V, COPY_WG));
  }
  if (numEntries > 0) {
    const pipeline = ctx.pipeline(`sample-penalties/wg${FLAT_WG}`, commonCode + penaltiesCode, { WG: FLAT_WG });
    dispatch(enc, pipeline, [rows, a.rowParams, a.entries, dims], ...flatGrid(numEntries, FLAT_WG));
  }
  if (a.masks && a.masks.numMasked > 0) {
    const { numMasked, masks, maskRows } = a.masks;
    const words = Math.ceil(V / 32);
    if (numMasked > numRows) throw new KernelArgError('sample', `${numMasked} masks for ${numRows} rows`);
    if (masks.size < numMasked * words * 4) throw new KernelArgError('sample', `masks hold ${masks.size} B, need [${numMasked}, ${words}] u32`);
    if (maskRows.size < numMasked * 4) throw new KernelArgError('sample', `maskRows hold ${maskRows.size} B, need [${numMasked}] u32`);
    const maskDims = enc.uniforms.push('sample-mask', [numMasked, V, words]);
    const pipeline = ctx.pipeline(`sample-mask/wg${FLAT_WG}`, commonCode + maskCode, { WG: FLAT_WG });
    dispatch(enc, pipeline, [rows, masks, maskRows, maskDims], ...flatGrid(numMasked * words, FLAT_WG));
  }
  const rowWg = rowWorkgroupSize(V);
  if (a.allGreedy && !a.withLogprobs && ctx.software) {
    const pipeline = ctx.pipeline(`sample-greedy/wg${FLAT_WG}`, commonCode + greedyCode, { WG: FLAT_WG });
    dispatch(enc, pipeline, [rows, a.out, dims], ...flatGrid(numRows, FLAT_WG));
    return;
  }
  const samplePipeline = ctx.pipeline(`sample/wg${rowWg}`, commonCode + argmaxCode + sampleCode, { WG: rowWg });
  dispatch(enc, samplePipeline, [rows, a.rowParams, a.out, dims], ...rowGrid(numRows));
  if (a.withLogprobs) {
    const pipeline = ctx.pipeline(`logprobs/wg${rowWg}`, commonCode + argmaxCode + logprobsCode, { WG: rowWg });
    dispatch(enc, pipeline, [rows, a.rowParams, a.out, dims], ...rowGrid(numRows));
  }
}

export interface SamplerOptions {
  /** Most rows one step samples. */
  maxRows: number;
  vocabSize: number;
}

/**
 * Owns the sampling buffers of a runner: per-row params, the sparse entry list (grows
 * on demand), the output rows, and — only if asked to preserve logits — a scratch copy.
 */
export class Sampler {
  /** [maxRows * OUT_WORDS] u32: what a step reads back (a prefix of it, see outBytes). */
  readonly out: GPUBuffer;
  private readonly rowParams: GPUBuffer; // [maxRows, ROW_WORDS] u32
  private entries: GPUBuffer; // [entryCapacity, 4] u32
  private entryCapacity: number;
  private scratch?: GPUBuffer; // [maxRows, vocabSize] f32
  private masks?: GPUBuffer; // [maskCapacity, ceil(vocabSize / 32)] u32, created at the first constrained step
  private maskRows?: GPUBuffer; // [maskCapacity] u32
  private maskCapacity = 0;
  readonly maxRows: number;
  readonly vocabSize: number;
  /** Incremented when a buffer the sampling dispatches bind is replaced or added (recordings naming the old one are stale). */
  generation = 0;

  constructor(
    private readonly ctx: GpuContext,
    opts: SamplerOptions,
  ) {
    if (!Number.isInteger(opts.maxRows) || opts.maxRows <= 0) throw new KernelArgError('sample', `bad maxRows ${opts.maxRows}`);
    if (!Number.isInteger(opts.vocabSize) || opts.vocabSize <= 0) throw new KernelArgError('sample', `bad vocabSize ${opts.vocabSize}`);
    this.maxRows = opts.maxRows;
    this.vocabSize = opts.vocabSize;
    this.out = ctx.storage('sampler-out', opts.maxRows * OUT_WORDS * 4);
    this.rowParams = ctx.storage('sampler-row-params', opts.maxRows * ROW_WORDS * 4);
    this.entryCapacity = 256;
    this.entries = ctx.storage('sampler-entries', this.entryCapacity * 16);
  }

  /** Bytes at the start of `out` to read back for `requests`: the ids, plus logprobs if asked. */
  outBytes(requests: readonly SampleRequest[]): number {
    return sampledBytes(requests);
  }

  /**
   * Uploads the rows' parameters (queue.writeBuffer, ordered before the step's submit)
   * and records the sampling dispatches for `logits` [requests.length, vocabSize] f32.
   * Without `preserveLogits`, bias and penalties are applied to `logits` in place.
   * `packed`: packSampleRows(requests, vocabSize) when the caller already has it.
   * Returns the bytes written with queue.writeBuffer (for the step's upload stats).
   */
  record(
    enc: KernelEncoder, logits: GPUBuffer, requests: readonly SampleRequest[],
    opts: { preserveLogits?: boolean; packed?: PackedSampleRows } = {},
  ): number {
    const up = this.upload(logits, requests, opts);
    if (up.args) sample(enc, up.args);
    return up.bytes;
  }

  /**
   * record() without the dispatches: uploads the rows' parameters and returns the
   * arguments of sample() (none for zero rows). A runner that replays an earlier
   * recording of the same shape (gpu/step-program.ts) calls this alone, after checking
   * `generation` (a regrown entry list or a new scratch means a new recording).
   */
  upload(
    logits: GPUBuffer, requests: readonly SampleRequest[], opts: { preserveLogits?: boolean; packed?: PackedSampleRows } = {},
  ): { bytes: number; args?: SampleArgs } {
    if (requests.length > this.maxRows) throw new KernelArgError('sample', `${requests.length} rows exceed maxRows ${this.maxRows}`);
    const packed = opts.packed ?? packSampleRows(requests, this.vocabSize);
    if (packed.numRows === 0) return { bytes: 0 };
    const queue = this.ctx.device.queue;
    queue.writeBuffer(this.rowParams, 0, packed.rowParams.buffer, 0, packed.numRows * ROW_WORDS * 4);
    if (packed.numEntries > this.entryCapacity) {
      this.entries.destroy();
      this.entryCapacity = Math.max(packed.numEntries, this.entryCapacity * 2);
      this.entries = this.ctx.storage('sampler-entries', this.entryCapacity * 16);
      this.generation++;
    }
    if (packed.numEntries > 0) queue.writeBuffer(this.entries, 0, packed.entries.buffer, 0, packed.numEntries * 16);
    let masks: SampleArgs['masks'];
    let maskBytes = 0;
    if (packed.numMasked > 0) {
      const words = Math.ceil(this.vocabSize / 32);
      if (packed.numMasked > this.maskCapacity) {
        this.masks?.destroy();
        this.maskRows?.destroy();
        this.maskCapacity = Math.min(this.maxRows, Math.max(packed.numMasked, this.maskCapacity * 2));
        this.masks = this.ctx.storage('sampler-masks', this.maskCapacity * words * 4);
        this.maskRows = this.ctx.storage('sampler-mask-rows', this.maskCapacity * 4);
        this.generation++;
      }
      maskBytes = packed.numMasked * (words + 1) * 4;
      queue.writeBuffer(this.masks!, 0, packed.masks.buffer, 0, packed.numMasked * words * 4);
      queue.writeBuffer(this.maskRows!, 0, packed.maskRows.buffer, 0, packed.numMasked * 4);
      masks = { numMasked: packed.numMasked, masks: this.masks!, maskRows: this.maskRows! };
    }
    let processed: GPUBuffer | undefined;
    if (opts.preserveLogits && (packed.numEntries > 0 || packed.numMasked > 0)) {
      if (!this.scratch) {
        this.scratch = this.ctx.storage('sampler-scratch', this.maxRows * this.vocabSize * 4);
        this.generation++;
      }
      processed = this.scratch;
    }
    const args: SampleArgs = {
      logits,
      processed,
      rowParams: this.rowParams,
      entries: this.entries,
      numEntries: packed.numEntries,
      numRows: packed.numRows,
      vocabSize: this.vocabSize,
      withLogprobs: packed.anyLogprobs,
      allGreedy: packed.allGreedy,
      out: this.out,
      masks,
    };
    return { bytes: packed.numRows * ROW_WORDS * 4 + packed.numEntries * 16 + maskBytes, args };
  }

  /** Decodes the read-back rows (`bytes` starts at row 0 of `out`). */
  read(bytes: ArrayBuffer, requests: readonly SampleRequest[]): SampledToken[] {
    return readSampled(bytes, requests, this.vocabSize);
  }

  destroy(): void {
    this.out.destroy();
    this.rowParams.destroy();
    this.entries.destroy();
    this.scratch?.destroy();
    this.masks?.destroy();
    this.maskRows?.destroy();
  }
}
