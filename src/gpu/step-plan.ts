// Every pipeline a runner's steps can use, compiled at load. The kernels name their
// pipelines while they record (src/kernels/<op>.ts), and which ones a step needs depends
// on its shape (matmul variant by batch size, the last layer's hidden-state norm, the
// sampling passes). So the runner records dry runs of the forward pass and the sampler
// for every shape class — token counts around every power of two up to
// MAX_PLANNED_TOKENS, with and without hidden states, one sampled row or all, the split
// attention of contexts past one partition (GPU set), the tiled matmul's split-K variants
// (chooseSplitK picks S from the token tiles; the planned counts reach every S a step can
// pick: test/gpu/matmul.test.ts), every sampling branch — with buffers that allocate nothing and an encoder that dispatches
// nothing (KernelEncoder.dry). GpuContext.collectPipelines gathers what is missing and
// compilePipelines compiles it (context.ts: in parallel on a GPU, one at a time on a
// software adapter); the load awaits that.
// A shape outside this plan still works (compiled on first use, counted as a compile
// after load, which the tests and the bench assert is zero).
import type { KernelEncoder, UniformSink } from '../kernels/encoder';
import { ATTENTION_PART_LEN, stepAttentionParts } from '../kernels/attention';
import { KernelArgError } from '../kernels/encoder';
import { OUT_WORDS, ROW_WORDS, sample } from '../kernels/sample';
import type { ModelConfig } from '../model/config';
import type { GpuContext, PipelineRequest } from './context';
import { dryBuffer } from './dry-buffer';
import { sampleGroupRows } from './sample-groups';
import { encodeForward, projectionLayout } from './forward';
import type { KvPool } from './kv-pool';
import type { ModelWeights } from './model-weights';
import { StepBuffers, type StepAllocator } from './step-buffers';

/** Largest step planned for; the CLI allows --max-batch-tokens up to 65536. */
export const MAX_PLANNED_TOKENS = 1 << 16;

/** 1..16, then 2^k - 1, 2^k, 2^k + 1 up to `max`: every kernel switches variants at a small count or a power of two. */
export function plannedTokenCounts(max = MAX_PLANNED_TOKENS): number[] {
  const counts = new Set<number>();
  for (let t = 1; t <= Math.min(16, max); t++) counts.add(t);
  for (let p = 32; p <= max; p *= 2) for (const t of [p - 1, p, p + 1]) if (t <= max) counts.add(t);
  return [...counts].sort((a, b) => a - b);
}

export { dryBuffer };
export const dryAllocator: StepAllocator = (label, size) => dryBuffer(label, size);

export function dryEncoder(ctx: GpuContext): KernelEncoder {
  const uniforms: UniformSink = { push: (_kernel, words) => ({ buffer: dryBuffer('dry:uniform', 16), offset: 0, size: Math.max(16, words.length * 4) }) };
  return { ctx, pass: undefined as unknown as GPUComputePassEncoder, uniforms, dispatches: 0, dry: true };
}

/**
 * Dispatches per layer of a step of `numTokens` tokens (one sampled row), counted in dry
 * runs of all layers and of the first layer alone: (all - first) / (layers - 1). The bench
 * reports it; undefined for a one-layer model.
 */
export function dispatchesPerLayer(ctx: GpuContext, config: ModelConfig, weights: ModelWeights, pool: KvPool, numTokens = 1): number | undefined {
  if (config.numLayers < 2) return undefined;
  const bufs = new StepBuffers(ctx, config, projectionLayout(weights), dryAllocator);
  bufs.ensure(numTokens, 1, 1, false);
  const count = (layers: number): number => {
    const enc = dryEncoder(ctx);
    const c = { ...config, numLayers: layers };
    const w = { ...weights, layers: weights.layers.slice(0, layers) };
    ctx.collectPipelines(() => encodeForward(enc, c, w, pool, bufs, { numTokens, numSampled: 1, wantHidden: false })); // names, never compiles
    return enc.dispatches;
  };
  return (count(config.numLayers) - count(1)) / (config.numLayers - 1);
}

/** The pipelines the steps of this runner can need that `ctx` has not compiled yet. */
export function collectStepPipelines(ctx: GpuContext, config: ModelConfig, weights: ModelWeights, pool: KvPool): PipelineRequest[] {
  const counts = plannedTokenCounts();
  const bufs = new StepBuffers(ctx, config, projectionLayout(weights), dryAllocator);
  const enc = dryEncoder(ctx);
  const tryShape = (record: () => void) => {
    try {
      record();
    } catch (e) {
      // A shape the kernels refuse is refused the same way when a step brings it: nothing to compile.
      if (!(e instanceof KernelArgError)) throw e;
    }
  };
  return ctx.collectPipelines(() => {
    // The LM head runs a group of at most G rows at a time (sample-groups.ts): T sampled rows
    // for T ≤ G meet every group size (the counts cover 1..16 and 2^k ± 1), and G + 1 two groups.
    const groupRows = sampleGroupRows(ctx.software);
    const maxSampled = groupRows + 1;
    bufs.ensure(counts[counts.length - 1], maxSampled, 1, true);
    for (const T of counts) {
      for (const numSampled of new Set([0, 1, Math.min(T, maxSampled)])) {
        for (const wantHidden of [false, true]) {
          tryShape(() => encodeForward(enc, config, weights, pool, bufs, { numTokens: T, numSampled, wantHidden }));
        }
      }
    }
    // The split's pipelines (partial, combine) do not depend on the token count or the partitions.
    const parts = stepAttentionParts(ctx, ATTENTION_PART_LEN + 1);
    if (parts > 1) {
      bufs.ensureAttentionScratch(parts);
      tryShape(() => encodeForward(enc, config, weights, pool, bufs, { numTokens: 1, numSampled: 1, wantHidden: false, attentionParts: parts }));
    }
    // Sampling: every branch of sample() (copy, penalties, grammar masks, greedy, draw, logprobs) for a few row counts.
    const maskWords = Math.ceil(config.vocabSize / 32);
    const V = config.vocabSize;
    for (const numRows of [1, 2, sampleGroupRows(ctx.software)]) {
      for (const preserve of [false, true]) {
        for (const numEntries of [0, 1]) {
          for (const allGreedy of [false, true]) {
            for (const withLogprobs of [false, true]) {
              for (const masked of [false, true]) tryShape(() => sample(enc, {
                logits: dryBuffer('dry:logits', numRows * V * 4), processed: preserve ? dryBuffer('dry:processed', numRows * V * 4) : undefined,
                rowParams: dryBuffer('dry:rows', numRows * ROW_WORDS * 4), entries: dryBuffer('dry:entries', 16), numEntries, numRows, vocabSize: V,
                withLogprobs, allGreedy, out: dryBuffer('dry:out', numRows * OUT_WORDS * 4),
                masks: masked ? { numMasked: 1, masks: dryBuffer('dry:masks', maskWords * 4), maskRows: dryBuffer('dry:mask-rows', 4) } : undefined,
              }));
            }
          }
        }
      }
    }
  });
}
