// Recorded steps, replayed. Everything a step's dispatches depend on is either fixed at
// load (weights, KV pool, step buffers: their bind groups) or the step's shape: its token
// count T, sampled rows S, hidden states or not, and the sampling branch (entries,
// grammar-masked rows, logprobs, greedy, preserved logits). Per-token data (ids, positions, slots, block
// tables, sampling rows) lives in storage buffers uploaded each step. So two steps of one
// shape record the same dispatches with the same uniform words — a program. The shape
// also counts the attention split's partitions (GPU set: one per 256 positions of the
// longest context), which set the split's dispatch sizes and uniforms:
//
//   key "T|S|hidden|parts|entries|masked rows|processed|logprobs|greedy"  →  [ (pipeline, bind group, x, y, z) … ]
//                                                          + the uniform arena's bytes
//
// The first step of a shape records through the kernels and keeps the program; the next
// ones replay setPipeline / setBindGroup / dispatch, with no kernel code in between — the
// per-step JS cost the bench reports as record ms/step — and upload the arena bytes only
// when the arena holds another program's (UniformArena.flushSnapshot). A replay is three
// native calls at most per dispatch and nothing else, so the program is compiled once at
// record time into flat arrays, with every call that would repeat the state the pass
// already has dropped (a setPipeline of the bound pipeline, a setBindGroup of the bound
// group under the same pipeline) and a 1-D dispatch called with one argument.
// Programs name buffers: the runner clears them whenever the step buffers or the
// sampler's buffers are replaced (as it clears the bind groups).
import type { PackedSampleRows } from '../kernels/sample';
import type { KernelEncoder, RecordedDispatch } from '../kernels/encoder';

export interface StepProgram {
  /** Dispatches replayed (the bench's dispatches per step). */
  readonly numDispatches: number;
  /** [numDispatches] the pipeline to set before dispatch i, or null when dispatch i - 1 set the same one. */
  readonly pipelines: ReadonlyArray<GPUComputePipeline | null>;
  /** [numDispatches] the bind group to set before dispatch i, or null when already bound. */
  readonly groups: ReadonlyArray<GPUBindGroup | null>;
  /** [numDispatches, 3] workgroup counts x, y, z; y = z = 0 marks a 1-D dispatch. */
  readonly sizes: Uint32Array;
  /** The uniform arena as the recording left it. */
  readonly uniforms: Uint8Array<ArrayBuffer>;
}

/** Compiles a captured dispatch list into the arrays replay() walks. */
export function compileProgram(dispatches: readonly RecordedDispatch[], uniforms: Uint8Array<ArrayBuffer>): StepProgram {
  const n = dispatches.length;
  const pipelines: Array<GPUComputePipeline | null> = new Array(n);
  const groups: Array<GPUBindGroup | null> = new Array(n);
  const sizes = new Uint32Array(3 * n);
  let pipeline: GPUComputePipeline | undefined;
  let group: GPUBindGroup | undefined;
  for (let i = 0; i < n; i++) {
    const d = dispatches[i];
    // A new pipeline keeps bind group 0 only if the layouts match; ours are per pipeline ('auto'), so set it again.
    const samePipeline = d.pipeline === pipeline;
    pipelines[i] = samePipeline ? null : d.pipeline;
    groups[i] = samePipeline && d.group === group ? null : d.group;
    pipeline = d.pipeline;
    group = d.group;
    const oneD = d.y === 1 && d.z === 1;
    sizes[3 * i] = d.x;
    sizes[3 * i + 1] = oneD ? 0 : d.y;
    sizes[3 * i + 2] = oneD ? 0 : d.z;
  }
  return { numDispatches: n, pipelines, groups, sizes, uniforms };
}

/** Programs kept at most (shapes of a busy server: every T up to the batch budget is possible). */
const MAX_PROGRAMS = 256;

export function stepProgramKey(
  numTokens: number, numSampled: number, wantHidden: boolean, rows: PackedSampleRows | undefined, processed: boolean, attentionParts = 1,
): string {
  const r = rows && rows.numRows > 0 ? `${rows.numEntries}|${rows.numMasked}|${processed ? 1 : 0}|${rows.anyLogprobs ? 1 : 0}|${rows.allGreedy ? 1 : 0}` : '-';
  return `${numTokens}|${numSampled}|${wantHidden ? 1 : 0}|${attentionParts}|${r}`;
}

export class StepPrograms {
  private readonly programs = new Map<string, StepProgram>();
  /** The last program looked up: a decode loop asks for the same key step after step. */
  private lastKey: string | undefined;
  private last: StepProgram | undefined;

  get(key: string): StepProgram | undefined {
    if (key === this.lastKey) return this.last;
    const p = this.programs.get(key);
    if (p) {
      // Most recently used last: the oldest goes first when the map is full.
      this.programs.delete(key);
      this.programs.set(key, p);
      this.lastKey = key;
      this.last = p;
    }
    return p;
  }

  set(key: string, program: StepProgram): void {
    if (this.programs.size >= MAX_PROGRAMS) {
      const oldest = this.programs.keys().next().value!;
      this.programs.delete(oldest);
      if (oldest === this.lastKey) this.lastKey = this.last = undefined;
    }
    this.programs.set(key, program);
  }

  clear(): void {
    this.programs.clear();
    this.lastKey = this.last = undefined;
  }

  get size(): number {
    return this.programs.size;
  }
}

/** Records `program`'s dispatches into `enc.pass` (the caller uploads the program's uniforms). */
export function replay(enc: KernelEncoder, program: StepProgram): void {
  const pass = enc.pass;
  const { numDispatches: n, pipelines, groups, sizes } = program;
  for (let i = 0; i < n; i++) {
    const pipeline = pipelines[i];
    if (pipeline !== null) pass.setPipeline(pipeline);
    const group = groups[i];
    if (group !== null) pass.setBindGroup(0, group);
    const y = sizes[3 * i + 1];
    if (y === 0) pass.dispatchWorkgroups(sizes[3 * i]);
    else pass.dispatchWorkgroups(sizes[3 * i], y, sizes[3 * i + 2]);
  }
  enc.dispatches += n;
}
