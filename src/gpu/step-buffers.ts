// The buffers one step works in: activations sized at load for the runner's batch
// capacity (regrown, once, when a bigger batch comes: `generation` counts it, since every
// cached bind group names these buffers), the step's metadata, and the small MAP_READ
// buffers the sampler's rows come back in (READBACK_SLOTS of them: a step chained to the
// previous one is submitted while the previous one's readback is still mapping).
//
// Metadata goes up with ONE writeBuffer into `metaUpload`, then the command encoder
// copies each section into the buffer the kernels bind (kernels take whole buffers):
//
//   metaUpload (i32): | tokenIds [T] | positions [T] | slotMapping [T] | tokenMeta [T, 2] |
//                     | sampleRows [S] | blockTables [B] |
//
// sampleRows goes to one buffer per group of G sampled rows (sampleGroupRows), and the final
// norm and LM head work on one group at a time (sample-groups.ts): lastHidden, lastNormed
// and logits hold one group, not all S rows.
import { fixedSplitScratchBytes } from '../kernels/attention';
import { SPLITK_SCRATCH_BYTES } from '../kernels/matmul';
import type { ModelConfig } from '../model/config';
import type { GpuContext } from './context';
import { sampleGroupCount, sampleGroupRows } from './sample-groups';

/** Steps whose readback can be pending at once: one mapping, one chained behind it (step-chain.ts). */
export const READBACK_SLOTS = 2;

/** Host-side metadata of one step, packed by runner.ts. */
export interface StepMeta {
  numTokens: number; // T
  numSampled: number; // S
  tokenIds: Int32Array; // [T]
  positions: Int32Array; // [T]
  /** [T] blockTable[p >> 4] * 16 + (p & 15) */
  slotMapping: Int32Array;
  /** [T, 2] (position, start of the token's sequence's table in blockTables) */
  tokenMeta: Int32Array;
  /** [S] batch row of the last token of each sampled sequence */
  sampleRows: Int32Array;
  /** [B] every sequence's block table, concatenated */
  blockTables: Int32Array;
}

/** Which projection buffers the layers need: q/k/v and gate/up fused at load, kept separate, or both (mixed layers). */
export interface ProjectionLayout {
  separateQkv: boolean;
  fusedQkv: boolean;
  separateGateUp: boolean;
  fusedGateUp: boolean;
}

/** Makes a buffer; a dry run (step-plan.ts) passes one that allocates nothing. */
export type StepAllocator = (label: string, size: number, usage: GPUBufferUsageFlags) => GPUBuffer;

/** Capacity for `n` items: grow by at least 1.5× so a slowly growing batch does not reallocate every step. */
function grown(current: number, needed: number): number {
  return needed <= current ? current : Math.max(needed, Math.ceil(current * 1.5), 16);
}

export class StepBuffers {
  tokenCapacity = 0;
  sampleCapacity = 0;
  blockTableCapacity = 0;
  /** [READBACK_SLOTS] bytes of each readback buffer. */
  readonly readbackCapacityBytes: number[] = Array(READBACK_SLOTS).fill(0);

  // ---- activations, [tokenCapacity, ·] f32 ----
  x!: GPUBuffer; // [T, dim] residual stream
  xb!: GPUBuffer; // [T, dim] normed input of a sub-block
  /** Separate projections: q [T, qDim], k [T, kvDim], v [T, kvDim]; fused (phi3): qkv [T, qDim + 2 kvDim]. */
  q?: GPUBuffer;
  k?: GPUBuffer;
  v?: GPUBuffer;
  qkv?: GPUBuffer;
  attnOut!: GPUBuffer; // [T, qDim]
  proj!: GPUBuffer; // [T, dim] output of wo / wDown before the residual add
  /** Separate: gate [T, ffnDim], up [T, ffnDim]; fused: gateUp [T, 2 ffnDim]. */
  gate?: GPUBuffer;
  up?: GPUBuffer;
  gateUp?: GPUBuffer;
  hb?: GPUBuffer; // [T, ffnDim] silu(gate) * up of separate gate/up (fused: the down matmul's prologue, or in place in gateUp)
  /** [T, dim] final-norm hidden states, only when a step asks for them. */
  hidden?: GPUBuffer;
  /**
   * Split attention partials (GPU set, contexts past one partition):
   * [chunk tokens, numHeads, numParts, headDim + 2] f32; see ensureAttentionScratch.
   */
  attnScratch?: GPUBuffer;
  /**
   * Split-K subtree sums of the tiled matmul (GPU set): [S, T, N] f32 of the matmul being
   * run, SPLITK_SCRATCH_BYTES — a constant, since chooseSplitK splits only small dispatches.
   * Made with the first token buffers, never regrown.
   */
  splitKScratch?: GPUBuffer;

  // ---- sampled rows, one group of G = min(sampleCapacity, sampleGroupRows) at a time ----
  lastHidden!: GPUBuffer; // [G, dim] f32 residual of each sampled sequence's last token
  lastNormed!: GPUBuffer; // [G, dim] f32
  logits!: GPUBuffer; // [G, vocab] f32

  // ---- metadata ----
  metaUpload!: GPUBuffer; // see the header
  tokenIds!: GPUBuffer; // [T] i32
  positions!: GPUBuffer; // [T] i32
  slotMapping!: GPUBuffer; // [T] i32
  tokenMeta!: GPUBuffer; // [T, 2] i32
  /** [ceil(S / sampleGroupRows)] buffers of [G] i32: the batch rows of each group's sampled tokens. */
  sampleRowGroups: GPUBuffer[] = [];
  blockTables!: GPUBuffer; // [B] i32
  /** [READBACK_SLOTS] MAP_READ, [readbackCapacityBytes[slot]] each, made on first use. */
  readonly readbacks: Array<GPUBuffer | undefined> = Array(READBACK_SLOTS).fill(undefined);

  /** Incremented whenever a buffer that kernels bind is replaced (bind groups naming the old one are stale). */
  generation = 0;
  private metaHost = new Int32Array(0);
  private readonly allocate: StepAllocator;

  constructor(
    private readonly ctx: GpuContext,
    private readonly config: ModelConfig,
    private readonly layout: ProjectionLayout,
    allocate?: StepAllocator,
  ) {
    this.allocate = allocate ?? ((label, size, usage) => ctx.buffer(label, size, usage));
  }

  private storage(label: string, size: number): GPUBuffer {
    return this.allocate(label, size, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
  }

  /** Makes every buffer big enough for a step of this size (generation changes when one is replaced). */
  ensure(numTokens: number, numSampled: number, blockTableLength: number, wantHidden: boolean): void {
    const c = this.config;
    const qDim = c.numHeads * c.headDim;
    const kvDim = c.numKvHeads * c.headDim;
    const lay = this.layout;
    if (numTokens > this.tokenCapacity) {
      const T = grown(this.tokenCapacity, numTokens);
      this.destroyTokenBuffers();
      this.tokenCapacity = T;
      const f32 = (label: string, cols: number) => this.storage(`step:${label}`, T * cols * 4);
      this.x = f32('x', c.dim);
      this.xb = f32('xb', c.dim);
      if (lay.fusedQkv) this.qkv = f32('qkv', qDim + 2 * kvDim);
      if (lay.separateQkv) {
        this.q = f32('q', qDim);
        this.k = f32('k', kvDim);
        this.v = f32('v', kvDim);
      }
      this.attnOut = f32('attn-out', qDim);
      this.proj = f32('proj', c.dim);
      if (lay.fusedGateUp) this.gateUp = f32('gate-up', 2 * c.ffnDim);
      if (lay.separateGateUp) {
        this.gate = f32('gate', c.ffnDim);
        this.up = f32('up', c.ffnDim);
      }
      if (lay.separateGateUp) this.hb = f32('hb', c.ffnDim);
      this.tokenIds = f32('token-ids', 1);
      this.positions = f32('positions', 1);
      this.slotMapping = f32('slot-mapping', 1);
      this.tokenMeta = f32('token-meta', 2);
      if (!this.ctx.software && !this.splitKScratch) this.splitKScratch = this.storage('step:splitk-scratch', SPLITK_SCRATCH_BYTES);
      this.generation++;
    }
    if (wantHidden && (!this.hidden || this.hidden.size < this.tokenCapacity * c.dim * 4)) {
      this.hidden?.destroy();
      this.hidden = this.storage('step:hidden', this.tokenCapacity * c.dim * 4);
      this.generation++;
    }
    if (numSampled > this.sampleCapacity || !this.logits) {
      const S = grown(this.sampleCapacity, Math.max(1, numSampled));
      this.destroySampleBuffers();
      this.sampleCapacity = S;
      const groupRows = sampleGroupRows(this.ctx.software);
      const G = Math.min(S, groupRows);
      this.lastHidden = this.storage('step:last-hidden', G * c.dim * 4);
      this.lastNormed = this.storage('step:last-normed', G * c.dim * 4);
      this.logits = this.storage('step:logits', G * c.vocabSize * 4);
      this.sampleRowGroups = Array.from({ length: sampleGroupCount(S, groupRows) }, (_, g) => this.storage(`step:sample-rows-${g}`, G * 4));
      this.generation++;
    }
    if (blockTableLength > this.blockTableCapacity || !this.blockTables) {
      this.blockTables?.destroy();
      this.blockTableCapacity = grown(this.blockTableCapacity, Math.max(1, blockTableLength));
      this.blockTables = this.storage('step:block-tables', this.blockTableCapacity * 4);
      this.generation++;
    }
    const metaWords = 5 * this.tokenCapacity + this.sampleCapacity + this.blockTableCapacity;
    if (this.metaHost.length < metaWords) {
      this.metaUpload?.destroy();
      this.metaHost = new Int32Array(metaWords);
      this.metaUpload = this.allocate('step:meta-upload', metaWords * 4, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    }
  }

  /**
   * Makes attnScratch hold the split partials of `numParts` partitions for the whole token
   * capacity, up to ATTENTION_SCRATCH_BUDGET_BYTES (past it the kernel runs the tokens in
   * chunks). Grows only (generation changes when it is replaced).
   */
  ensureAttentionScratch(numParts: number): void {
    const c = this.config;
    const bytes = fixedSplitScratchBytes(this.tokenCapacity, c.numHeads, c.headDim, numParts, this.ctx.limits.maxStorageBufferBindingSize);
    if (this.attnScratch && this.attnScratch.size >= bytes) return;
    const size = Math.min(grown(this.attnScratch?.size ?? 0, bytes), Math.max(bytes, this.ctx.limits.maxStorageBufferBindingSize));
    this.attnScratch?.destroy();
    this.attnScratch = this.storage('step:attn-scratch', size);
    this.generation++;
  }

  /**
   * Packs the metadata, uploads it with one writeBuffer and records the section copies.
   * Returns the bytes uploaded and the copy commands recorded.
   */
  uploadMeta(encoder: GPUCommandEncoder, m: StepMeta): { bytes: number; copies: number } {
    const host = this.metaHost;
    const groupRows = sampleGroupRows(this.ctx.software);
    const sections: [Int32Array, GPUBuffer][] = [
      [m.tokenIds, this.tokenIds],
      [m.positions, this.positions],
      [m.slotMapping, this.slotMapping],
      [m.tokenMeta, this.tokenMeta],
      // Consecutive slices, so the packed words are sampleRows as one section.
      ...this.sampleRowGroups.map((buffer, g): [Int32Array, GPUBuffer] => [m.sampleRows.subarray(g * groupRows, (g + 1) * groupRows), buffer]),
      [m.blockTables, this.blockTables],
    ];
    let words = 0;
    for (const [data] of sections) {
      host.set(data, words);
      words += data.length;
    }
    if (words === 0) return { bytes: 0, copies: 0 };
    this.ctx.device.queue.writeBuffer(this.metaUpload, 0, host.buffer, 0, words * 4);
    let offset = 0;
    let copies = 0;
    for (const [data, target] of sections) {
      if (data.length > 0) {
        encoder.copyBufferToBuffer(this.metaUpload, offset * 4, target, 0, data.length * 4);
        copies++;
      }
      offset += data.length;
    }
    return { bytes: words * 4, copies };
  }

  /** The MAP_READ buffer, at least `bytes` long (not mapped). */
  readbackBuffer(bytes: number, slot = 0): GPUBuffer {
    let buffer = this.readbacks[slot];
    if (!buffer || bytes > this.readbackCapacityBytes[slot]) {
      buffer?.destroy();
      this.readbackCapacityBytes[slot] = grown(this.readbackCapacityBytes[slot], Math.ceil(bytes / 4) * 4);
      buffer = this.allocate(`step:readback-${slot}`, this.readbackCapacityBytes[slot], GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      this.readbacks[slot] = buffer;
    }
    return buffer;
  }

  /** Bytes of every buffer held now (bench). */
  get bytesAllocated(): number {
    return this.all().reduce((s, b) => s + b.size, 0);
  }

  private all(): GPUBuffer[] {
    const list = [
      this.x, this.xb, this.q, this.k, this.v, this.qkv, this.attnOut, this.proj, this.gate, this.up, this.gateUp, this.hb, this.hidden,
      this.attnScratch, this.splitKScratch, this.lastHidden, this.lastNormed, this.logits, this.metaUpload, this.tokenIds, this.positions, this.slotMapping,
      this.tokenMeta, ...this.sampleRowGroups, this.blockTables, ...this.readbacks,
    ];
    return list.filter((b): b is GPUBuffer => b !== undefined);
  }

  private destroyTokenBuffers(): void {
    for (const b of [this.x, this.xb, this.q, this.k, this.v, this.qkv, this.attnOut, this.proj, this.gate, this.up, this.gateUp, this.hb,
      this.tokenIds, this.positions, this.slotMapping, this.tokenMeta, this.hidden]) b?.destroy();
    this.hidden = undefined;
  }

  private destroySampleBuffers(): void {
    for (const b of [this.lastHidden, this.lastNormed, this.logits, ...this.sampleRowGroups]) b?.destroy();
    this.sampleRowGroups = [];
  }

  destroy(): void {
    for (const b of this.all()) b.destroy();
    this.readbacks.fill(undefined);
    this.readbackCapacityBytes.fill(0);
    this.hidden = undefined;
    this.attnScratch = undefined;
    this.splitKScratch = undefined;
    this.sampleRowGroups = [];
    this.tokenCapacity = this.sampleCapacity = this.blockTableCapacity = 0;
  }
}
