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
// ones restore the arena bytes and replay setPipeline / setBindGroup / dispatch, with no
// kernel code in between — the per-step JS cost the bench reports as record ms/step.
// Programs name buffers: the runner clears them whenever the step buffers or the
// sampler's buffers are replaced (as it clears the bind groups).
import type { PackedSampleRows } from '../kernels/sample';
import type { KernelEncoder, RecordedDispatch } from '../kernels/encoder';

export interface StepProgram {
  dispatches: RecordedDispatch[];
  /** The uniform arena as the recording left it. */
  uniforms: Uint8Array<ArrayBuffer>;
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

  get(key: string): StepProgram | undefined {
    const p = this.programs.get(key);
    if (p) {
      // Most recently used last: the oldest goes first when the map is full.
      this.programs.delete(key);
      this.programs.set(key, p);
    }
    return p;
  }

  set(key: string, program: StepProgram): void {
    if (this.programs.size >= MAX_PROGRAMS) this.programs.delete(this.programs.keys().next().value!);
    this.programs.set(key, program);
  }

  clear(): void {
    this.programs.clear();
  }

  get size(): number {
    return this.programs.size;
  }
}

/** Records `program`'s dispatches into `enc.pass` (the arena is restored by the caller). */
export function replay(enc: KernelEncoder, program: StepProgram): void {
  const pass = enc.pass;
  let pipeline: GPUComputePipeline | undefined;
  for (const d of program.dispatches) {
    if (d.pipeline !== pipeline) {
      pass.setPipeline(d.pipeline);
      pipeline = d.pipeline;
    }
    pass.setBindGroup(0, d.group);
    pass.dispatchWorkgroups(d.x, d.y, d.z);
  }
  enc.dispatches += program.dispatches.length;
}
