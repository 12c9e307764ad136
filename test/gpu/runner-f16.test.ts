// The runner's f16 path (KV pool in f16, activations in f32) on the real stories260K model,
// and the `precision` option on this machine's adapter.
//
// The f16 tests need an adapter with 'shader-f16' and report as skipped elsewhere
// (SwiftShader has no f16; Dawn's null backend only validates the f16 path:
// f16-null-backend.test.ts). Their oracle is the float64 reference with its KV cache
// rounded to f16 (RefModel { kvCache: 'f16' }), driven by the GPU's own ids:
// - logits within 5e-2 absolute at every step. Rounding K/V to f16 moves stories260K's
//   logits (magnitude ~20) by up to 2.5e-2 from the exact model; the GPU's f32 K/V differ
//   from the reference's by ~1e-6 relative, enough to round some elements to the other
//   neighbouring f16 value, and perturbing the reference's K/V that much before rounding
//   moved its logits by up to 1.5e-2 (measured offline). 5e-2 keeps margin and still
//   catches any wrong op (errors of order 1).
// - ids equal llama2.c's until the first step where they differ, which must be a near-tie
//   of the f16 reference (top-2 gap < 2 x tolerance). The f16 reference reproduces all 256
//   of llama2.c's ids; its first such near-tie from BOS is at position 61, so at least the
//   first 61 ids must match.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import { GpuContext } from '../../src/gpu/context';
import { GpuError } from '../../src/gpu/device';
import { kvPoolLayout } from '../../src/gpu/kv-pool';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import { createGpuRunner, type GpuModelRunner } from '../../src/gpu/runner';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { openSource } from '../../src/model/gguf/source';
import { getTestDevice } from '../helpers/gpu';
import { greedyCase, referenceIds, STORIES_GGUF } from '../helpers/stories-reference';
import { argmax, RefModel } from '../ref/ref-model';
import { greedyRun, scatteredBlocks, type GreedyRun } from './runner-harness';

const { adapter, device } = await getTestDevice();
const hasShaderF16 = device.features.has('shader-f16');

const LOGIT_TOLERANCE_F16 = 5e-2;
/** First position from BOS where the f16 reference's top-2 logits are within 2 x tolerance. */
const FIRST_NEAR_TIE = 61;


function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

/**
 * Checks a GPU greedy run after `promptIds` against the f16-KV float64 reference (fed the
 * same ids) and llama2.c's `expectedIds`. Returns the position index where the ids first
 * differ from llama2.c's (-1: never).
 */
async function checkAgainstReferences(promptIds: number[], run: GreedyRun, expectedIds: number[]): Promise<number> {
  const ref = await RefModel.fromGGUF(STORIES_GGUF, 512, { kvCache: 'f16' });
  let refLogits = ref.forwardMany(promptIds, 0).at(-1)!;
  let divergedAt = -1;
  for (let i = 0; i < run.ids.length; i++) {
    const pos = promptIds.length - 1 + i;
    expect(maxAbsDiff(run.logits[i], refLogits), `logits at position ${pos}`).toBeLessThan(LOGIT_TOLERANCE_F16);
    expect(run.ids[i]).toBe(argmax(run.logits[i])); // the GPU's sampler agrees with its own logits
    if (divergedAt < 0 && run.ids[i] !== expectedIds[i]) {
      divergedAt = i;
      const gap = Math.abs(refLogits[expectedIds[i]] - refLogits[run.ids[i]]);
      expect(gap, `position ${pos}: ids differ from llama2.c's without a near-tie`).toBeLessThan(2 * LOGIT_TOLERANCE_F16);
    }
    if (i + 1 < run.ids.length) refLogits = ref.forward(run.ids[i], pos + 1);
  }
  return divergedAt;
}

describe.skipIf(!hasShaderF16)('GPU runner with an f16 KV pool on stories260K (needs shader-f16)', () => {
  let runner: GpuModelRunner;
  beforeAll(async () => {
    const ctx = new GpuContext(device, { f16: true, subgroups: false });
    const source = await openSource(STORIES_GGUF);
    try {
      const gguf = await readGGUF(source);
      runner = await createGpuRunner({ ctx, gguf, source, config: modelConfigFromGGUF(gguf), kvCacheBytes: 4 << 20, kvType: 'f16' });
    } finally {
      await source.close?.();
    }
  });
  afterAll(() => runner?.destroy());

  it("decodes from BOS: llama2.c's ids up to a near-tie (at least the first 61), logits within 5e-2 of the f16-KV reference (needs shader-f16)", async () => {
    expect(runner.kvType).toBe('f16');
    const bos = greedyCase('bos_only_256');
    const expected = referenceIds();
    const blockTable = scatteredBlocks(runner.numKvBlocks, 17, 11); // 257 positions
    const run = await greedyRun(runner, bos.prompt_ids, 256, blockTable, { returnLogits: true });
    const divergedAt = await checkAgainstReferences(bos.prompt_ids, run, expected);
    if (divergedAt >= 0) expect(divergedAt).toBeGreaterThanOrEqual(FIRST_NEAR_TIE);
    // llama2.c's own (f32 KV) logits for the first positions: f16 rounding moves them by ~1e-3 there.
    bos.logits_first_positions.forEach((row, pos) => {
      expect(maxAbsDiff(run.logits[pos], row), `position ${pos}`).toBeLessThan(LOGIT_TOLERANCE_F16);
    });
  }, 1_500_000);

  it('continues "Once upon a time" prefilled in chunks of 2 (earlier chunks read back from the f16 pool) (needs shader-f16)', async () => {
    const c = greedyCase('once_upon_a_time_64');
    const expected = c.generated_ids.slice(c.prompt_ids.length - 1); // the argmax at each position from the prompt's last
    const blockTable = scatteredBlocks(runner.numKvBlocks, 5, 22);
    const run = await greedyRun(runner, c.prompt_ids, expected.length, blockTable, { chunkSize: 2, returnLogits: true });
    // Every position here is before the first near-tie: all ids must match.
    expect(await checkAgainstReferences(c.prompt_ids, run, expected)).toBe(-1);
    expect(run.ids).toEqual(expected);
  }, 1_500_000);
});

describe('precision on this adapter', () => {
  it.skipIf(hasShaderF16)("createEngine({ precision: 'f16' }) fails with GpuError unsupported_feature (adapter without shader-f16)", async () => {
    const err = await createEngine({ model: STORIES_GGUF, gpu: await createNodeGPU(), kvCacheBytes: 1 << 20, precision: 'f16' }).catch((e) => e);
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).code).toBe('unsupported_feature');
    expect((err as GpuError).message).toMatch(/shader-f16/);
  });

  it(`'auto' builds the pool this adapter supports (${hasShaderF16 ? 'f16' : 'f32'} here); 'f32' is f32 on any adapter`, async () => {
    const source = await openSource(STORIES_GGUF);
    const config = modelConfigFromGGUF(await readGGUF(source));
    await source.close?.();
    const kvCacheBytes = 1 << 20;
    for (const [precision, kvType] of [['auto', hasShaderF16 ? 'f16' : 'f32'], ['f32', 'f32']] as const) {
      const engine = await createEngine({ model: STORIES_GGUF, gpu: await createNodeGPU(), kvCacheBytes, precision });
      try {
        const blocks = (await engine.stats()).kvBlocksTotal + 1; // the block pool keeps one block back
        expect(blocks, precision).toBe(kvPoolLayout(config, kvCacheBytes, adapter.limits, kvType).numBlocks);
      } finally {
        await engine.destroy();
      }
    }
    // The two layouts differ, so the comparison above tells f16 from f32.
    expect(kvPoolLayout(config, kvCacheBytes, adapter.limits, 'f16').numBlocks).toBe(2 * kvPoolLayout(config, kvCacheBytes, adapter.limits, 'f32').numBlocks);
  });
});
