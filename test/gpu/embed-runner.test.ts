// ModelRunner.embed beyond agreement with llama.cpp: batch invariance, what it refuses
// (coded errors), and that a decoder's embeddings leave the engine's KV pool alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEmbedModel } from '../helpers/test-embed-model';
import { makeTestModel } from '../helpers/test-model';
import { loadEmbedRunner, type EmbedRunner } from './embed-harness';
import { buildStep, getRunnerTestContext, loadRunner } from './runner-harness';

const ids = (n: number, k: number) => Int32Array.from({ length: n }, (_, i) => (i === 0 ? 101 : 1000 + ((i * 131 + k * 17) % 20000)));

describe('encoder runner (bert)', () => {
  let runner: EmbedRunner;
  beforeAll(async () => {
    runner = await loadEmbedRunner(await makeEmbedModel({ arch: 'bert', dim: 64, layers: 2, heads: 4, ffn: 96, quant: 'F32', seed: 601, pooling: 1, contextLength: 64 }));
  });
  afterAll(() => runner.destroy());

  it('compiles every pipeline at load: batches of any size compile none', async () => {
    const ctx = await getRunnerTestContext();
    const compiles = ctx.pipelineCompiles.onFirstUse;
    await runner.embed({ sequences: [ids(5, 0)] });
    await runner.embed({ sequences: [ids(40, 0), ids(33, 1), ids(64, 2)] });
    expect(ctx.pipelineCompiles.onFirstUse).toBe(compiles);
  });

  it('a text alone gives the same vector as in a ragged batch (bitwise)', async () => {
    const seqs = [ids(9, 0), ids(23, 1), ids(1, 2), ids(40, 3)];
    const batch = await runner.embed({ sequences: seqs });
    for (let s = 0; s < seqs.length; s++) {
      const [alone] = await runner.embed({ sequences: [seqs[s]] });
      expect(Array.from(alone), `sequence ${s}`).toEqual(Array.from(batch[s]));
    }
  });

  it('refuses broken input with bad_step_input, and stays usable', async () => {
    const code = (p: Promise<unknown>) => p.then(() => 'no error', (e: { code?: string }) => e.code);
    expect(await code(runner.embed({ sequences: [] }))).toBe('bad_step_input');
    expect(await code(runner.embed({ sequences: [new Int32Array(0)] }))).toBe('bad_step_input');
    expect(await code(runner.embed({ sequences: [Int32Array.of(101, 30522)] }))).toBe('bad_step_input');
    expect(await code(runner.embed({ sequences: [Int32Array.of(-1)] }))).toBe('bad_step_input');
    expect(await code(runner.embed({ sequences: [ids(65, 0)] }))).toBe('bad_step_input'); // context 64
    expect(await code(runner.embed({ sequences: [[101, 102] as unknown as Int32Array] }))).toBe('bad_step_input');
    expect(await code(runner.step(buildStep([{ tokens: [101], startPos: 0, blockTable: Int32Array.of(0), sample: true }])))).toBe('bad_step_input');
    expect(runner.numKvBlocks).toBe(0);
    const [v] = await runner.embed({ sequences: [ids(64, 5)] }); // exactly the context length
    expect(v).toHaveLength(64);
    expect(v.every(Number.isFinite)).toBe(true);
  });

  it('refuses a second batch while one runs (runner_unavailable)', async () => {
    const first = runner.embed({ sequences: [ids(30, 1)] });
    await expect(runner.embed({ sequences: [ids(3, 1)] })).rejects.toMatchObject({ code: 'runner_unavailable' });
    await first;
  });
});

describe('decoder embedding model (qwen3, last-token pooling)', () => {
  it('embed() between two steps leaves the engine-managed KV pool untouched', async () => {
    const bytes = makeTestModel({
      arch: 'qwen3', vocab: 300, dim: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 24, ffn: 96, quant: 'F32', seed: 602, pooling: 3,
    });
    const prompt = [1, 5, 9, 13, 17, 21, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61, 65];
    // Blocks 0..3: exactly the ones the embed batch below numbers its own blocks with, so a
    // batch that wrote into the engine's pool instead of its scratch pool would overwrite them.
    const table = () => Int32Array.of(0, 1, 2, 3);
    const runSteps = async (interleave: boolean) => {
      const r = await loadRunner(bytes, 1 << 20);
      try {
        const bt = table();
        const first = await r.step(buildStep([{ tokens: prompt, startPos: 0, blockTable: bt, sample: true }], { returnLogits: true }));
        if (interleave) {
          // Fills every block a bump allocator would hand out first: must not land in the pool.
          await r.embed!({ sequences: [Int32Array.from({ length: 60 }, (_, i) => 3 + (i % 200)), Int32Array.of(1, 2, 3)] });
        }
        const next = await r.step(buildStep([{ tokens: [first.sampled[0].tokenId], startPos: prompt.length, blockTable: bt, sample: true }], { returnLogits: true }));
        return next.logits!;
      } finally {
        r.destroy();
      }
    };
    const plain = await runSteps(false);
    const interleaved = await runSteps(true);
    expect(Array.from(interleaved)).toEqual(Array.from(plain));
  });

  it('a decoder without pooling_type has no embed()', async () => {
    const r = await loadRunner(makeTestModel({ arch: 'qwen3', vocab: 300, dim: 64, layers: 1, heads: 4, kvHeads: 2, headDim: 24, ffn: 96, quant: 'F32', seed: 603 }), 1 << 20);
    try {
      expect(r.embed).toBeUndefined();
    } finally {
      r.destroy();
    }
  });
});
