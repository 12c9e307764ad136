// The LM head and sampling of a step in groups of sampled rows (#18).
//
// A step's logits used to be one [S, vocab] f32 buffer sized for the engine's 64 sampled
// rows: 37 MiB for a 151,936-token vocabulary, host memory on SwiftShader. Sampling reads a
// row's logits only, so the forward pass (forward.ts) runs the final norm and the LM head
// for one group of G rows into logits [G, vocab], the group's sampler samples them, and the
// next group's LM head overwrites them (dispatches in one pass run in order). G is the LM
// head matmul's token tile (matmul.ts matmulTokenTile): 16 on the software set, 64 on the GPU
// set, so a group never makes the LM head read its weights more often than one matmul over
// all S rows would (the software set: 16 rows, 9 MiB of logits for that vocabulary):
//
//   group 0: gather → norm → LM head → logits[0..G) → sampler 0 (rows 0..G-1 of the step)
//   group 1: gather → norm → LM head → logits[0..G) → sampler 1 (rows G..2G-1)   …
//
// Each group has its own Sampler (its own parameter rows, entries, masks and output), so no
// kernel learns about groups and a row's bits are those of the row sampled alone (the LM
// head's rows and sampling's rows are independent; 'vec' and 'tiled' sum alike). A step
// that returns its logits copies each group's rows out between two passes (runner.ts).
import type { SampledToken } from '../engine/types';
import { matmulTokenTile } from '../kernels/matmul';
import { Sampler, type SampleRequest } from '../kernels/sample';
import type { GpuContext } from './context';
import type { ChainCopy } from './step-chain';

/** Sampled rows per LM-head group on a kernel set: the logits buffer holds this many rows. */
export function sampleGroupRows(software: boolean): number {
  return matmulTokenTile(software);
}

export interface SampleGroup {
  /** First sampled row of the group (the step's row order). */
  start: number;
  count: number;
}

/** The groups of a step that samples `numSampled` rows: consecutive, `groupRows` each, the last one shorter. */
export function sampleGroups(numSampled: number, groupRows: number): SampleGroup[] {
  const groups: SampleGroup[] = [];
  for (let start = 0; start < numSampled; start += groupRows) groups.push({ start, count: Math.min(groupRows, numSampled - start) });
  return groups;
}

/** Groups needed for `numSampled` rows. */
export function sampleGroupCount(numSampled: number, groupRows: number): number {
  return Math.ceil(numSampled / groupRows);
}

/**
 * One Sampler per group (sampler g serves the step's rows g·G … g·G + G - 1). Grows by
 * adding samplers, never replacing one, so a chained step can still copy the ids the
 * previous step's samplers wrote.
 */
export class GroupSamplers {
  readonly samplers: Sampler[] = [];
  /** G: rows per group (sampleGroupRows of the context's kernel set). */
  readonly groupRows: number;

  constructor(
    private readonly ctx: GpuContext,
    private readonly vocabSize: number,
    numSampled: number,
  ) {
    this.groupRows = sampleGroupRows(ctx.software);
    this.ensure(numSampled);
  }

  /** Makes samplers for `numSampled` rows; true when it added one. */
  ensure(numSampled: number): boolean {
    const want = sampleGroupCount(Math.max(1, numSampled), this.groupRows);
    if (this.samplers.length >= want) return false;
    while (this.samplers.length < want) this.samplers.push(new Sampler(this.ctx, { maxRows: this.groupRows, vocabSize: this.vocabSize }));
    return true;
  }

  /** Changes whenever a buffer some sampler's dispatches bind is replaced or added (recordings naming the old one are stale). */
  get generation(): number {
    return this.samplers.reduce((s, sm) => s + sm.generation, this.samplers.length << 20);
  }

  /** Where the id of the step's sampled row `row` is: its group's output buffer, at a byte offset. */
  idLocation(row: number): { buffer: GPUBuffer; offset: number } {
    const g = Math.floor(row / this.groupRows);
    return { buffer: this.samplers[g].out, offset: (row - g * this.groupRows) * 4 };
  }

  /**
   * Records the copies of the previous step's sampled ids into this step's `tokenIds`
   * (step-chain.ts); a run of rows that crosses a group boundary comes from two samplers.
   * Returns the copy commands recorded.
   */
  encodeChain(encoder: GPUCommandEncoder, chain: readonly ChainCopy[], tokenIds: GPUBuffer): number {
    let copies = 0;
    for (const cp of chain) {
      for (let i = 0; i < cp.count; ) {
        const from = this.idLocation(cp.row + i);
        const n = Math.min(cp.count - i, this.groupRows - ((cp.row + i) % this.groupRows));
        encoder.copyBufferToBuffer(from.buffer, from.offset, tokenIds, (cp.token + i) * 4, n * 4);
        copies++;
        i += n;
      }
    }
    return copies;
  }

  /** Copies group g's first `bytes[g]` output bytes to `dst`, the groups one after another from 0. Returns the copy commands. */
  copyOut(encoder: GPUCommandEncoder, bytes: readonly number[], dst: GPUBuffer): number {
    let at = 0;
    bytes.forEach((n, g) => {
      encoder.copyBufferToBuffer(this.samplers[g].out, 0, dst, at, n);
      at += n;
    });
    return bytes.length;
  }

  /** Decodes what copyOut wrote (`mapped` from its offset 0): one token per request, in the step's order. */
  read(mapped: ArrayBuffer, bytes: readonly number[], requests: readonly SampleRequest[][]): SampledToken[] {
    const out: SampledToken[] = [];
    let at = 0;
    bytes.forEach((n, g) => {
      out.push(...this.samplers[g].read(mapped.slice(at, at + n), requests[g]));
      at += n;
    });
    return out;
  }

  destroy(): void {
    for (const s of this.samplers) s.destroy();
    this.samplers.length = 0;
  }
}
