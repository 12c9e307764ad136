// What every kernel in src/kernels/ records into: a compute pass plus a uniform arena.
// A step records all its dispatches into one pass; each dispatch's small parameter
// block is appended to the arena, and the whole arena is uploaded with ONE
// writeBuffer before the single submit (record, then submit).

import type { GpuContext } from '../gpu/types';
import type { BindGroupCache } from './bind-group-cache';

/** Error for bad shapes or arguments given to a kernel (a programming error upstream). */
export class KernelArgError extends Error {
  readonly code = 'kernel_bad_args';
  constructor(kernel: string, message: string) {
    super(`${kernel}: ${message}`);
    this.name = 'KernelArgError';
  }
}

/** A slice of the uniform arena: bind it as `{ buffer, offset, size }`. */
export interface UniformSlice {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

/** Where kernels put their parameter blocks: the arena, or a dry run's stand-in (gpu/step-plan.ts). */
export interface UniformSink {
  push(kernel: string, words: ArrayLike<number>): UniformSlice;
}

/**
 * Bump allocator over one uniform buffer. Slices are aligned to the device's
 * minUniformBufferOffsetAlignment (256 on most adapters). A step that pushes the same
 * sequence of blocks gets the same offsets every time, so the bind groups that name
 * those slices stay valid from step to step (BindGroupCache).
 */
export class UniformArena implements UniformSink {
  readonly buffer: GPUBuffer;
  private readonly bytes: Uint8Array<ArrayBuffer>;
  private readonly words: Uint32Array<ArrayBuffer>;
  private readonly align: number;
  private usedBytes = 0;
  /** The snapshot the GPU buffer holds since the last flush, when that flush was of one (flushSnapshot skips re-uploading it). */
  private resident: Uint8Array | undefined;

  constructor(
    private readonly ctx: GpuContext,
    readonly capacityBytes: number,
    label = 'uniform-arena',
  ) {
    this.align = ctx.limits.minUniformBufferOffsetAlignment;
    this.buffer = ctx.buffer(label, capacityBytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.bytes = new Uint8Array(this.buffer.size);
    this.words = new Uint32Array(this.bytes.buffer);
  }

  /** Appends one parameter block; `words` are raw 32-bit values (use f32Bits for floats). */
  push(kernel: string, words: ArrayLike<number>): UniformSlice {
    const size = Math.max(16, Math.ceil((words.length * 4) / 16) * 16);
    const offset = Math.ceil(this.usedBytes / this.align) * this.align;
    if (offset + size > this.bytes.byteLength) {
      throw new KernelArgError(kernel, `uniform arena full (${this.bytes.byteLength} bytes); size it for the step`);
    }
    // No view per push: this runs for every dispatch of every step.
    const w = this.words;
    const base = offset / 4;
    const end = base + size / 4;
    let i = 0;
    for (; i < words.length; i++) w[base + i] = words[i] >>> 0;
    for (let j = base + i; j < end; j++) w[j] = 0;
    this.usedBytes = offset + size;
    return { buffer: this.buffer, offset, size };
  }

  get bytesUsed(): number {
    return this.usedBytes;
  }

  /** The bytes pushed since the last flush (a step program keeps them to replay the step). */
  snapshot(): Uint8Array<ArrayBuffer> {
    return this.bytes.slice(0, this.usedBytes);
  }

  /** Puts back a snapshot as if its blocks had just been pushed (the slices keep their offsets). */
  restore(bytes: Uint8Array): void {
    if (bytes.byteLength > this.bytes.byteLength) throw new KernelArgError('uniforms', 'snapshot larger than the arena');
    this.bytes.set(bytes);
    this.usedBytes = bytes.byteLength;
  }

  /**
   * Uploads everything pushed since the last reset (one writeBuffer), then resets.
   * `asSnapshot`: the pushed bytes are exactly this snapshot (a step program's), so a later
   * flushSnapshot of it knows the buffer already holds them.
   */
  flush(asSnapshot?: Uint8Array): number {
    const n = this.usedBytes;
    if (n > 0) this.ctx.device.queue.writeBuffer(this.buffer, 0, this.bytes.buffer, 0, Math.ceil(n / 4) * 4);
    this.usedBytes = 0;
    this.resident = asSnapshot;
    return n;
  }

  /**
   * Makes the buffer hold `snapshot` (a replayed step's uniforms; nothing else pushed since
   * the last flush). A decode loop replays one program step after step: its bytes are
   * already there (writeBuffer is ordered on the queue, and only a flush changes them), so
   * nothing is copied or uploaded. Returns the bytes uploaded.
   */
  flushSnapshot(snapshot: Uint8Array): number {
    if (this.usedBytes === 0 && this.resident === snapshot) return 0;
    this.restore(snapshot);
    return this.flush(snapshot);
  }

  destroy(): void {
    this.buffer.destroy();
  }
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);
/** The bit pattern of `x` as an f32, for packing float fields into uniform words. */
export function f32Bits(x: number): number {
  f32Scratch[0] = x;
  return u32Scratch[0];
}

/** A compute pass being recorded, the uniform arena, and counters for the bench. */
export interface KernelEncoder {
  ctx: GpuContext;
  pass: GPUComputePassEncoder;
  uniforms: UniformSink;
  /** Incremented by every dispatch (bench: dispatches per step). */
  dispatches: number;
  /** Reuses bind groups across steps (the runner's); without one every dispatch creates its own. */
  bindGroups?: BindGroupCache;
  /** When set, every dispatch is also appended here (gpu/step-program.ts replays the list). */
  capture?: RecordedDispatch[];
  /**
   * A dry run (gpu/step-plan.ts): kernels check their arguments and name their pipelines,
   * nothing is bound or dispatched. Used at load to compile every pipeline a step can need.
   */
  dry?: boolean;
  /** Bench only: gives every dispatch its own timestamped pass (see DispatchProfiler). */
  profiler?: DispatchProfiler;
}

/**
 * Per-dispatch GPU time for the bench (bench/step-profile.ts): when an encoder carries
 * one, each dispatch runs in its own compute pass whose begin/end timestamps land in
 * `querySet` at 2i and 2i + 1; `labels[i]` names dispatch i (its pipeline's label).
 * Needs the adapter's 'timestamp-query' feature. Changes nothing the kernels compute.
 */
export interface DispatchProfiler {
  encoder: GPUCommandEncoder;
  querySet: GPUQuerySet;
  labels: string[];
}

/** One dispatch as recorded: what a replay sets and dispatches again. */
export interface RecordedDispatch {
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  x: number;
  y: number;
  z: number;
}

export type Binding = GPUBuffer | UniformSlice | { buffer: GPUBuffer; offset?: number; size?: number };

/** Binds `bindings` (in order 0..n-1) to `pipeline` and dispatches; the bind group comes from enc.bindGroups when there is one. */
export function dispatch(
  enc: KernelEncoder,
  pipeline: GPUComputePipeline,
  bindings: Binding[],
  x: number,
  y = 1,
  z = 1,
): void {
  if (enc.dry) {
    enc.dispatches++;
    return;
  }
  const group = enc.bindGroups ? enc.bindGroups.get(enc.ctx.device, pipeline, bindings) : createBindGroup(enc.ctx.device, pipeline, bindings);
  const prof = enc.profiler;
  if (prof && 2 * prof.labels.length + 1 < prof.querySet.count) {
    const i = prof.labels.length;
    enc.pass.end();
    enc.pass = prof.encoder.beginComputePass({
      label: `profile:${pipeline.label}`,
      timestampWrites: { querySet: prof.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
    });
    prof.labels.push(pipeline.label);
  }
  enc.pass.setPipeline(pipeline);
  enc.pass.setBindGroup(0, group);
  enc.pass.dispatchWorkgroups(x, y, z);
  enc.dispatches++;
  enc.capture?.push({ pipeline, group, x, y, z });
}

export function createBindGroup(device: GPUDevice, pipeline: GPUComputePipeline, bindings: Binding[]): GPUBindGroup {
  const entries: GPUBindGroupEntry[] = bindings.map((b, i) => ({
    binding: i,
    resource: 'buffer' in b ? (b as GPUBufferBinding) : { buffer: b },
  }));
  return device.createBindGroup({ label: pipeline.label, layout: pipeline.getBindGroupLayout(0), entries });
}

/** Largest workgroup count per dimension that every adapter allows. */
export const MAX_WORKGROUPS_PER_DIM = 65535;
