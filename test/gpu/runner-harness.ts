// Helpers for the runner tests: load a GGUF (path or bytes) into a GpuModelRunner on the
// shared test device, and drive sequences through it one step at a time through
// deliberately scattered block tables.
//
// Kernel set: runners run the software set by default ('software': what SwiftShader gets in
// production, and affordable for the whole tier); a test that covers the GPU set
// (src/kernels/README.md) asks for it with `{ kernels: 'gpu' }`, which forces it on the
// software adapter. Each set has its own context (pipelines are cached per context).
import { GpuContext } from '../../src/gpu/context';
import { createGpuRunner, type GpuModelRunner } from '../../src/gpu/runner';
import { GREEDY, type SequenceInput, type StepInput } from '../../src/engine/types';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { openSource, type SourceInput } from '../../src/model/gguf/source';
import { getTestDevice } from '../helpers/gpu';
import { rng } from '../helpers/rng';
export { rng };

/** Which kernels a test runner records: the software adapters' set or the GPU set. */
export type KernelSet = 'software' | 'gpu';

const contexts = new Map<KernelSet, Promise<GpuContext>>();
export function getRunnerTestContext(kernels: KernelSet = 'software'): Promise<GpuContext> {
  let ctx = contexts.get(kernels);
  if (!ctx) {
    ctx = getTestDevice().then(({ device }) => new GpuContext(device, { f16: false, subgroups: false }, kernels === 'software'));
    contexts.set(kernels, ctx);
  }
  return ctx;
}

export interface LoadRunnerOptions {
  /** Default 'software'. */
  kernels?: KernelSet;
}

export async function loadRunner(input: SourceInput, kvCacheBytes = 4 << 20, opts: LoadRunnerOptions = {}): Promise<GpuModelRunner> {
  const ctx = await getRunnerTestContext(opts.kernels);
  const source = await openSource(input);
  try {
    const gguf = await readGGUF(source);
    const config = modelConfigFromGGUF(gguf);
    return await createGpuRunner({ ctx, gguf, source, config, kvCacheBytes });
  } finally {
    await source.close?.(); // the runner holds everything it needs on the GPU
  }
}


/** `count` distinct block ids out of 0..numBlocks-1 in a seeded random order. */
export function scatteredBlocks(numBlocks: number, count: number, seed: number): Int32Array {
  const ids = Array.from({ length: numBlocks }, (_, i) => i);
  const rand = rng(seed);
  for (let i = ids.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [ids[i], ids[j]] = [ids[j], ids[i]];
  }
  if (count > numBlocks) throw new Error(`need ${count} blocks, pool has ${numBlocks}`);
  return Int32Array.from(ids.slice(0, count));
}

/** One sequence's part of a step: `tokens` appended at `startPos`. */
export interface SeqChunk {
  tokens: number[];
  startPos: number;
  blockTable: Int32Array;
  sample: boolean;
}

export function buildStep(chunks: SeqChunk[], opts: { returnLogits?: boolean; returnHidden?: boolean } = {}): StepInput {
  const tokenIds: number[] = [];
  const positions: number[] = [];
  const sequences: SequenceInput[] = [];
  for (const c of chunks) {
    sequences.push({
      queryStart: tokenIds.length, queryLength: c.tokens.length, contextLength: c.startPos + c.tokens.length,
      blockTable: c.blockTable, sample: c.sample, sampling: c.sample ? GREEDY : undefined, sampleIndex: 0,
    });
    c.tokens.forEach((t, i) => {
      tokenIds.push(t);
      positions.push(c.startPos + i);
    });
  }
  return { tokenIds: Int32Array.from(tokenIds), positions: Int32Array.from(positions), sequences, ...opts };
}

export interface GreedyRun {
  /** Greedy ids after the prompt, one per step. */
  ids: number[];
  /** Logits that chose each id (when asked). */
  logits: Float32Array[];
}

/**
 * Prefills `promptIds` in chunks of `chunkSize` (Infinity = one step), then decodes one
 * token per step, `numNew` ids in all, through `blockTable`.
 */
export async function greedyRun(
  runner: GpuModelRunner, promptIds: number[], numNew: number, blockTable: Int32Array,
  opts: { chunkSize?: number; returnLogits?: boolean } = {},
): Promise<GreedyRun> {
  const chunkSize = opts.chunkSize ?? Infinity;
  const ids: number[] = [];
  const logits: Float32Array[] = [];
  let pos = 0;
  let pending = promptIds.slice();
  while (ids.length < numNew) {
    const chunk = pending.slice(0, Math.min(chunkSize, pending.length));
    pending = pending.slice(chunk.length);
    const sample = pending.length === 0;
    const out = await runner.step(buildStep([{ tokens: chunk, startPos: pos, blockTable, sample }], { returnLogits: opts.returnLogits && sample }));
    pos += chunk.length;
    if (!sample) continue;
    const next = out.sampled[0].tokenId;
    ids.push(next);
    if (out.logits) logits.push(out.logits);
    pending = [next];
  }
  return { ids, logits };
}
