// The per-step machinery of the GPU runner on generated llama and qwen2 models:
// - dispatches per layer (fused at load: q/k/v and gate/up concatenated; fused in the matmuls: norm, act×up, residual add; rope+kv);
// - no bind group created once a step shape is warm, and a regrown buffer rebuilds once;
// - no pipeline compiled after load, whatever the steps (prefill, decode, batches, hidden
//   states, logits, sampled rows with penalties and logprobs), on both kernel sets;
// - the fused weights give the unfused runner's logits bit for bit;
// - a sequence's logits are the same bits alone as inside batches of T = 3, 16 and 37;
// - on a wider model (dim 1024) whose tiled matmuls split over K, the split's pipelines are
//   compiled at load and a token's logits keep their bits inside a split batch;
// - on a model with a wide FFN (gate|up N = 4096), the 8×4 register tile's pipelines are
//   compiled at load and a token's logits keep their bits inside a batch that runs it.
import { afterAll, describe, expect, it } from 'vitest';
import { GREEDY, type SamplingParams, type StepInput } from '../../src/engine/types';
import { GpuContext } from '../../src/gpu/context';
import { chooseSplitK, chooseTiledTokens } from '../../src/kernels/matmul';
import { createGpuRunner, type CreateGpuRunnerOptions, type GpuModelRunner } from '../../src/gpu/runner';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { openSource } from '../../src/model/gguf/source';
import { getTestDevice } from '../helpers/gpu';
import { makeTestModel } from '../helpers/test-model';
import { buildStep, scatteredBlocks } from './runner-harness';

type Arch = 'llama' | 'qwen2';
const SHAPE = { vocab: 96, dim: 64, heads: 4, kvHeads: 2, ffn: 96, quant: 'Q8_0' as const, seed: 5 };

/** One context per kernel set for the whole file: GPU variants (as on real GPUs) and the software ones (SwiftShader's default). */
const contexts = new Map<boolean, Promise<GpuContext>>();
function context(software: boolean): Promise<GpuContext> {
  if (!contexts.has(software)) contexts.set(software, getTestDevice().then(({ device }) => new GpuContext(device, { f16: false, subgroups: false }, software)));
  return contexts.get(software)!;
}

const runners: GpuModelRunner[] = [];
afterAll(() => runners.forEach((r) => r.destroy()));

async function load(arch: Arch, layers: number, opts: { software?: boolean; shape?: Partial<typeof SHAPE> } & Partial<CreateGpuRunnerOptions> = {}): Promise<GpuModelRunner> {
  const bytes = makeTestModel({ ...SHAPE, ...opts.shape, arch, layers });
  const source = await openSource(bytes);
  const gguf = await readGGUF(source);
  const runner = await createGpuRunner({
    ctx: await context(opts.software ?? false), gguf, source, config: modelConfigFromGGUF(gguf), kvCacheBytes: 1 << 20, ...opts,
  });
  runners.push(runner);
  return runner;
}

const tokens = (seed: number, n: number) => Array.from({ length: n }, (_, i) => 1 + ((seed * 31 + i * 7) % (SHAPE.vocab - 1)));

/** A decode of one token at position 5 through block table [0]. */
const decodeStep = (runner: GpuModelRunner): StepInput => buildStep([{ tokens: [3], startPos: 5, blockTable: Int32Array.of(0), sample: true }]);

describe('step machinery', () => {
  it.each(['llama', 'qwen2'] as const)('%s: 6 dispatches per fused layer (12 unfused; software kernels 7), counted as the difference of 3 and 2 layers', async (arch) => {
    const perLayer = async (fuseWeights: boolean, software = false) => {
      const counts: number[] = [];
      for (const layers of [2, 3]) {
        const runner = await load(arch, layers, { fuseWeights, software });
        await runner.step(decodeStep(runner));
        counts.push(runner.lastStepStats!.dispatches);
      }
      return counts[1] - counts[0];
    };
    // 6 = qkv (norm prologue), rope+kv, attention, wo (+= x), gate|up (norm prologue), down
    // (act×up prologue, += x). Unfused: q, k, v, rope, rope, kv-write, attention, wo, gate, up,
    // act×up, down.
    expect(await perLayer(true)).toBe(6);
    expect(await perLayer(false)).toBe(12);
    // The software set keeps act×up as a pass, in place over gate|up (kernels/matmul.ts usesGluPrologue, elementwise.ts gluInPlace).
    expect(await perLayer(true, true)).toBe(7);
  });

  for (const software of [false, true]) {
    it(`${software ? 'software' : 'GPU'} kernels: no bind group created once a shape is warm; a regrown buffer rebuilds once`, async () => {
      const runner = await load('qwen2', 2, { software, stepCapacity: { tokens: 8, sampledRows: 2 } });
      const blocks = scatteredBlocks(runner.numKvBlocks, 8, 3);
      const created = async (input: StepInput) => {
        await runner.step(input);
        return runner.lastStepStats!.bindGroupsCreated;
      };
      const prefill = () => buildStep([{ tokens: tokens(1, 6), startPos: 0, blockTable: blocks.subarray(0, 1), sample: true }]);
      const decode = (pos: number) => buildStep([{ tokens: [7], startPos: pos, blockTable: blocks.subarray(0, 1), sample: true }]);
      expect(await created(prefill())).toBeGreaterThan(0); // the first step of a shape makes its groups
      expect(await created(prefill())).toBe(0);
      await created(decode(6)); // shares the prefill's groups where the kernels' variants agree
      for (let pos = 7; pos < 12; pos++) expect(await created(decode(pos))).toBe(0);
      // 40 tokens > the capacity (16: StepBuffers rounds 8 up): the buffers regrow, the groups are rebuilt once.
      const big = () => buildStep([{ tokens: tokens(6, 40), startPos: 0, blockTable: blocks.subarray(1, 4), sample: true }]);
      const generation = () => (runner as unknown as { bufs: { generation: number } }).bufs.generation;
      const before = generation();
      expect(await created(big())).toBeGreaterThan(0);
      expect(generation()).toBe(before + 1);
      expect(await created(big())).toBe(0);
      await created(decode(12)); // rebuilt, unless the big prefill's groups serve it (same variants)
      expect(await created(decode(13))).toBe(0);
      expect(runner.compilesAfterLoad).toBe(0);
    });

    it(`${software ? 'software' : 'GPU'} kernels: no pipeline compiled after load, whatever the steps`, async () => {
      const runner = await load('llama', 2, { software });
      const blocks = scatteredBlocks(runner.numKvBlocks, 16, 9);
      const sampled: SamplingParams = {
        ...GREEDY, temperature: 0.8, topK: 20, topP: 0.9, minP: 0.05, seed: 42, repetitionPenalty: 1.2, presencePenalty: 0.5,
        frequencyPenalty: 0.3, logprobs: true, topLogprobs: 5, logitBias: new Map([[4, 2]]),
      };
      const steps: StepInput[] = [
        buildStep([{ tokens: tokens(2, 37), startPos: 0, blockTable: blocks.subarray(0, 3), sample: true }], { returnHidden: true }),
        buildStep([{ tokens: [9], startPos: 37, blockTable: blocks.subarray(0, 3), sample: true }], { returnLogits: true }),
        buildStep(Array.from({ length: 16 }, (_, i) => ({ tokens: [2 + i], startPos: 0, blockTable: blocks.subarray(3 + i % 13, 4 + i % 13), sample: i % 2 === 0 }))
          .slice(0, 13)),
      ];
      const withPenalties = buildStep([{ tokens: [11, 12, 13], startPos: 38, blockTable: blocks.subarray(0, 3), sample: true }], { returnLogits: true });
      withPenalties.sequences[0].sampling = sampled;
      withPenalties.sequences[0].sampleIndex = 1;
      withPenalties.sequences[0].penalties = { tokenIds: Int32Array.of(9, 11), outputCounts: Int32Array.of(1, 0) };
      steps.push(withPenalties);
      for (const step of steps) {
        await runner.step(step);
        expect(runner.lastStepStats!.compilesAfterLoad).toBe(0);
      }
      expect(runner.compilesAfterLoad).toBe(0);
    });
  }

  it('q/k/v (with biases) and gate/up fused at load give the unfused logits bit for bit', async () => {
    const fused = await load('qwen2', 2);
    const unfused = await load('qwen2', 2, { fuseWeights: false });
    expect(fused.weights.layers.every((l) => l.wqkv && l.bqkv && !l.wGate)).toBe(true);
    expect(unfused.weights.layers.every((l) => l.wq && !l.wqkv && l.wGate)).toBe(true);
    const run = async (runner: GpuModelRunner) => {
      const out: Uint32Array[] = [];
      let next = 4;
      for (const [start, toks] of [[0, tokens(3, 21)], [21, [next]], [22, [next]]] as const) {
        const o = await runner.step(buildStep([{ tokens: [...toks], startPos: start, blockTable: Int32Array.of(2, 5), sample: true }], { returnLogits: true }));
        out.push(new Uint32Array(o.logits!.buffer));
        next = o.sampled[0].tokenId;
      }
      return out;
    };
    expect(await run(fused)).toEqual(await run(unfused));
  });

  it('a step of a shape seen before is replayed and gives the bits of its recording', async () => {
    const runner = await load('llama', 2);
    const blocks = scatteredBlocks(runner.numKvBlocks, 4, 23);
    await runner.step(buildStep([{ tokens: tokens(7, 9), startPos: 0, blockTable: blocks.subarray(0, 1), sample: false }]));
    const decode = () => buildStep([{ tokens: [6], startPos: 9, blockTable: blocks.subarray(0, 1), sample: true }], { returnLogits: true });
    const first = await runner.step(decode());
    expect(runner.lastStepStats!.replayed).toBe(false);
    // Another shape in between (3 tokens of another sequence), then the same decode again (it rewrites its KV slot with the same values).
    await runner.step(buildStep([{ tokens: [1, 2, 3], startPos: 0, blockTable: blocks.subarray(1, 2), sample: true }]));
    expect(runner.lastStepStats!.replayed).toBe(false);
    const again = await runner.step(decode());
    expect(runner.lastStepStats!.replayed).toBe(true);
    expect(runner.lastStepStats!.bindGroupsCreated).toBe(0);
    expect(new Uint32Array(again.logits!.buffer)).toEqual(new Uint32Array(first.logits!.buffer));
    expect(again.sampled[0].tokenId).toBe(first.sampled[0].tokenId);
    // The same program right after itself: its uniforms are already in the arena, so only
    // the metadata and the sampler rows go up (and the bits stay those of the recording).
    const uploadedAgain = runner.lastStepStats!.bytesUploaded;
    const third = await runner.step(decode());
    expect(runner.lastStepStats!.replayed).toBe(true);
    expect(uploadedAgain - runner.lastStepStats!.bytesUploaded).toBeGreaterThanOrEqual(256 * runner.lastStepStats!.dispatches - 256);
    expect(new Uint32Array(third.logits!.buffer)).toEqual(new Uint32Array(first.logits!.buffer));
  });

  it("a sequence's logits are the same bits alone as inside batches of T = 3, 16 and 37", async () => {
    const runner = await load('qwen2', 2);
    const blocks = scatteredBlocks(runner.numKvBlocks, 12, 17);
    const mine = tokens(4, 9);
    await runner.step(buildStep([{ tokens: mine, startPos: 0, blockTable: blocks.subarray(0, 1), sample: false }]));
    const decode = { tokens: [6], startPos: 9, blockTable: blocks.subarray(0, 1), sample: true };
    const bits = async (others: number) => {
      // Other sequences' prefill tokens fill the batch to T = 1 + others (they never touch this one's blocks).
      const chunks = others === 0 ? [] : [{ tokens: tokens(5, others), startPos: 0, blockTable: blocks.subarray(1, 4), sample: true }];
      const o = await runner.step(buildStep([decode, ...chunks], { returnLogits: true }));
      return new Uint32Array(o.logits!.slice(0, SHAPE.vocab).buffer);
    };
    const alone = await bits(0);
    for (const T of [3, 16, 37]) expect(await bits(T - 1), `T = ${T}`).toEqual(alone);
  });

  // K = 1024 (32 units): chooseSplitK splits qkv (N 1536), wo (N 1024) and gate|up (N 192) at
  // T = 37 over 8 workgroups per tile (each adds a combine); down (K = 96) stays unsplit.
  it('GPU kernels, split-K (dim 1024): no compile after load; a decode gets the same bits alone (vec) as inside T = 37 (split tiled)', async () => {
    const wide = { dim: 1024, heads: 8, kvHeads: 2 };
    expect([chooseSplitK(1536, 1024, 37), chooseSplitK(1024, 1024, 37), chooseSplitK(192, 1024, 37), chooseSplitK(1024, 96, 37)]).toEqual([8, 8, 8, 1]);
    const runner = await load('qwen2', 2, { shape: wide });
    const blocks = scatteredBlocks(runner.numKvBlocks, 12, 23);
    await runner.step(buildStep([{ tokens: tokens(3, 9), startPos: 0, blockTable: blocks.subarray(0, 1), sample: false }]));
    const decode = { tokens: [6], startPos: 9, blockTable: blocks.subarray(0, 1), sample: true };
    const run = async (others: number) => {
      const chunks = others === 0 ? [] : [{ tokens: tokens(8, others), startPos: 0, blockTable: blocks.subarray(1, 4), sample: false }];
      const o = await runner.step(buildStep([decode, ...chunks], { returnLogits: true }));
      expect(runner.lastStepStats!.compilesAfterLoad).toBe(0);
      return { bits: new Uint32Array(o.logits!.slice(0, SHAPE.vocab).buffer), dispatches: runner.lastStepStats!.dispatches };
    };
    const alone = await run(0);
    const batch = await run(36);
    // the split ran: 3 combines per layer over the 2 layers
    expect(batch.dispatches - alone.dispatches).toBe(6);
    expect(batch.bits).toEqual(alone.bits);
    expect(runner.compilesAfterLoad).toBe(0);
  });

  // ffn 2048: gate|up has N = 4096 (64 row tiles), so at T = 129 (two 128-token tiles) it runs
  // the 8×4 register tile; the other projections (N ≤ 128) keep the 4×4 tile.
  it('GPU kernels, 8×4 register tile (ffn 2048): no compile after load; a decode gets the same bits alone (vec) as inside T = 129 (8×4 tiled gate|up)', async () => {
    expect([chooseTiledTokens(4096, 129), chooseTiledTokens(4096, 128), chooseTiledTokens(128, 129)]).toEqual([8, 4, 4]);
    const runner = await load('qwen2', 2, { shape: { ffn: 2048 } });
    const blocks = scatteredBlocks(runner.numKvBlocks, 12, 29);
    const decode = { tokens: [6], startPos: 0, blockTable: blocks.subarray(0, 1), sample: true };
    const bits = async (others: number) => {
      const chunks = others === 0 ? [] : [{ tokens: tokens(8, others), startPos: 0, blockTable: blocks.subarray(1, 10), sample: false }];
      const o = await runner.step(buildStep([decode, ...chunks], { returnLogits: true }));
      expect(runner.lastStepStats!.compilesAfterLoad).toBe(0);
      return new Uint32Array(o.logits!.slice(0, SHAPE.vocab).buffer);
    };
    expect(await bits(128)).toEqual(await bits(0));
    expect(runner.compilesAfterLoad).toBe(0);
  });
});
