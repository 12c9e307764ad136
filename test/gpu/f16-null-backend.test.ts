// The f16 path, validated where no adapter has shader-f16: Dawn's null backend advertises
// the feature, Tint parses and validates every WGSL module, and pipelines, bind groups and
// submits are validated — but nothing executes (test/helpers/null-gpu.ts). So these tests
// check that the f16 kernels compile and that whole runner steps with an f16 KV pool are
// valid WebGPU; the numbers are checked in runner-f16.test.ts and kernels/attention-f16.test.ts,
// which need a real adapter with shader-f16.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import { GREEDY, type SequenceInput, type StepInput } from '../../src/engine/types';
import { GpuContext } from '../../src/gpu/context';
import { createGpuContext, GpuError, type DeviceContext } from '../../src/gpu/device';
import { kvPoolLayout } from '../../src/gpu/kv-pool';
import { createGpuRunner, type GpuModelRunner } from '../../src/gpu/runner';
import { attentionGroup, attentionScratchBytes, pagedAttention, splitPlan } from '../../src/kernels/attention';
import { UniformArena, type KernelEncoder } from '../../src/kernels/encoder';
import { withKvType } from '../../src/kernels/kv-type';
import { kvWrite } from '../../src/kernels/kv-write';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { openSource, type SourceInput } from '../../src/model/gguf/source';
import { createNullGPU, isNullAdapter } from '../helpers/null-gpu';
import { STORIES_GGUF } from '../helpers/stories-reference';
import { makeTestModel } from '../helpers/test-model';

const KERNELS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/kernels');
/** Shared WGSL a kernel's .ts prepends (rope-kv.ts: the per-head RoPE of rope-common.wgsl). */
const KERNEL_PREFIXES: Record<string, string[]> = { 'rope-kv.wgsl': ['rope-common.wgsl'] };
const KV_ALIAS = 'alias KvT = f32;';

let gpu: GPU;
let ctx: DeviceContext;
/** Every pipeline key the kernels asked the context for (the key names the KV type). */
const pipelineKeys: string[] = [];

beforeAll(async () => {
  gpu = await createNullGPU();
  ctx = await createGpuContext({ gpu }); // 'auto'
  const pipeline = ctx.pipeline.bind(ctx);
  ctx.pipeline = (key, code, constants, entryPoint) => {
    pipelineKeys.push(key);
    return pipeline(key, code, constants, entryPoint);
  };
});
afterAll(() => ctx?.destroy());

/** Runs `body` inside validation and internal error scopes; returns its result and the errors' messages. */
async function scoped<T>(body: () => Promise<T> | T): Promise<{ result: T; errors: string[] }> {
  const { device } = ctx;
  device.pushErrorScope('validation');
  device.pushErrorScope('internal');
  const settled = await Promise.resolve().then(body).then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const internal = await device.popErrorScope();
  const validation = await device.popErrorScope();
  if (!settled.ok) throw settled.error;
  return { result: settled.value, errors: [internal, validation].filter((e): e is GPUError => e !== null).map((e) => e.message) };
}

/** Records `body` into one compute pass and submits it. */
function submitPass(body: (enc: KernelEncoder) => void): void {
  const uniforms = new UniformArena(ctx, 1 << 16, 'f16-null:uniforms');
  const cmd = ctx.device.createCommandEncoder({ label: 'f16-null' });
  const pass = cmd.beginComputePass({ label: 'f16-null' });
  const enc: KernelEncoder = { ctx, pass, uniforms, dispatches: 0 };
  body(enc);
  enc.pass.end();
  uniforms.flush();
  ctx.device.queue.submit([cmd.finish()]);
  uniforms.destroy();
}

describe('Dawn null backend (Tint validation, nothing executes)', () => {
  it("gives an adapter with 'shader-f16'; precision 'auto' resolves to f16 there", async () => {
    const adapter = (await gpu.requestAdapter())!;
    expect(isNullAdapter(adapter)).toBe(true);
    expect(adapter.features.has('shader-f16')).toBe(true);
    expect(ctx.precision).toBe('f16');
    expect(ctx.features.f16).toBe(true);
    expect(ctx.device.features.has('shader-f16')).toBe(true);
  });

  it('compiles every KV kernel module in its f16 form without errors (and rejects f16 without `enable f16;`)', async () => {
    const kvKernels = readdirSync(KERNELS_DIR)
      .filter((f) => f.endsWith('.wgsl'))
      .map((f) => ({ name: f, code: (KERNEL_PREFIXES[f] ?? []).map((p) => readFileSync(resolve(KERNELS_DIR, p), 'utf8')).join('\n') + readFileSync(resolve(KERNELS_DIR, f), 'utf8') }))
      .filter((k) => k.code.includes(KV_ALIAS));
    expect(kvKernels.map((k) => k.name)).toEqual(expect.arrayContaining(['attention.wgsl', 'kv-write.wgsl', 'rope-kv.wgsl']));
    for (const k of kvKernels) {
      const code = withKvType(k.name, k.code, 'f16');
      expect(code.startsWith('enable f16;')).toBe(true);
      const { result: messages, errors } = await scoped(async () => {
        const module = ctx.device.createShaderModule({ label: `f16-null:${k.name}`, code });
        return (await module.getCompilationInfo()).messages;
      });
      const compileErrors = messages.filter((m) => m.type === 'error').map((m) => `${k.name}:${m.lineNum}: ${m.message}`);
      expect(compileErrors).toEqual([]);
      expect(errors).toEqual([]);
    }
    // The control: the same f16 code without the extension must fail here, or this backend validates nothing.
    const noEnable = withKvType('kv-write', kvKernels.find((k) => k.name === 'kv-write.wgsl')!.code, 'f16').replace('enable f16;', '');
    const { result: bad, errors: badErrors } = await scoped(async () =>
      (await ctx.device.createShaderModule({ label: 'f16-null:no-enable', code: noEnable }).getCompilationInfo()).messages);
    expect(bad.filter((m) => m.type === 'error').length).toBeGreaterThan(0);
    expect(badErrors.length).toBeGreaterThan(0);
  });

  const GQA_RATIOS = [1, 2, 3, 4, 5, 6, 7, 8, 16];
  for (const headDim of [8, 64, 80, 128, 256]) {
    it(`f16 kv-write and attention main/partial/combine/thread pipelines, headDim ${headDim}, GQA ${GQA_RATIOS.join(', ')}: valid`, async () => {
      const numKvHeads = 2, numTokens = 3, numBlocks = 4;
      const kvDim = numKvHeads * headDim;
      const first = pipelineKeys.length;
      const { errors } = await scoped(() => {
        const bufs: GPUBuffer[] = [];
        const buf = (label: string, bytes: number) => {
          const b = ctx.storage(`f16-null:${label}`, bytes);
          bufs.push(b);
          return b;
        };
        const kPool = buf('k-pool', numBlocks * 16 * kvDim * 2); // [numBlocks, 16, nKvHeads, headDim] f16
        const vPool = buf('v-pool', numBlocks * 16 * kvDim * 2);
        const tokenMeta = buf('token-meta', numTokens * 8); // [numTokens, 2] i32
        const blockTables = buf('block-tables', numBlocks * 4); // [numBlocks] i32
        submitPass((enc) => {
          const k = buf('k', numTokens * kvDim * 4), v = buf('v', numTokens * kvDim * 4), slots = buf('slots', numTokens * 4);
          kvWrite(enc, { k, v, slotMapping: slots, kPool, vPool, kvType: 'f16', numTokens, kvDim });
          for (const ratio of GQA_RATIOS) {
            const numHeads = numKvHeads * ratio;
            const q = buf('q', numTokens * numHeads * headDim * 4), out = buf('out', numTokens * numHeads * headDim * 4);
            const args = { q, kPool, vPool, kvType: 'f16' as const, tokenMeta, blockTables, out, numTokens, numHeads, numKvHeads, headDim };
            pagedAttention(enc, args);
            pagedAttention(enc, { ...args, variant: 'thread' }); // software adapters' variant
            const plan = splitPlan(numBlocks * 16, 2);
            const scratch = buf('scratch', attentionScratchBytes(numTokens, numHeads, headDim, plan));
            pagedAttention(enc, { ...args, split: { plan, scratch } });
          }
        });
        for (const b of bufs) b.destroy();
      });
      expect(errors).toEqual([]);
      const keys = [...new Set(pipelineKeys.slice(first))];
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.filter((k) => !k.includes('f16'))).toEqual([]);
      // One main, partial and combine pipeline per head group the GQA ratios give.
      const groups = new Set(GQA_RATIOS.map((r) => attentionGroup(r, headDim))).size;
      for (const entry of ['attention/', 'attention-partial/', 'attention-combine/']) {
        expect(keys.filter((k) => k.startsWith(entry)).length, entry).toBe(groups);
      }
      expect(keys.some((k) => k.startsWith('kv-write/'))).toBe(true);
    });
  }
});

function seq(queryStart: number, queryLength: number, contextLength: number, table: number[]): SequenceInput {
  return { queryStart, queryLength, contextLength, blockTable: Int32Array.from(table), sample: true, sampling: GREEDY, sampleIndex: 0 };
}

function tokens(n: number, from: number, vocab: number): number[] {
  return Array.from({ length: n }, (_, i) => (from + 7 * i) % vocab);
}

async function loadRunner(input: SourceInput, kvCacheBytes: number): Promise<GpuModelRunner> {
  const source = await openSource(input);
  try {
    const gguf = await readGGUF(source);
    return await createGpuRunner({ ctx, gguf, source, config: modelConfigFromGGUF(gguf), kvCacheBytes }); // kvType from ctx.precision
  } finally {
    await source.close?.();
  }
}

const MODELS: Array<{ name: string; input: () => SourceInput }> = [
  { name: 'stories260K (llama, headDim 8, GQA 2)', input: () => STORIES_GGUF },
  {
    name: 'generated qwen2 (q/k/v bias, headDim 64, GQA 4, Q4_0)',
    input: () => makeTestModel({ arch: 'qwen2', vocab: 96, dim: 256, layers: 2, heads: 4, kvHeads: 1, ffn: 96, quant: 'Q4_0', seed: 41 }),
  },
  {
    name: 'generated phi3 (fused qkv rows into the f16 pool, headDim 16, F16)',
    input: () => makeTestModel({ arch: 'phi3', vocab: 96, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 96, quant: 'F16', seed: 42 }),
  },
];

describe('runner steps with an f16 KV pool on the null backend', () => {
  for (const m of MODELS) {
    it(`${m.name}: prefill, decode and a copy-on-write fork are valid WebGPU`, async () => {
      const kvCacheBytes = 1 << 20;
      const first = pipelineKeys.length;
      const { result: runner, errors: loadErrors } = await scoped(() => loadRunner(m.input(), kvCacheBytes));
      expect(loadErrors).toEqual([]);
      try {
        const c = runner.config;
        const kvDim = c.numKvHeads * c.headDim;
        expect(runner.kvType).toBe('f16');
        expect(runner.numKvBlocks).toBe(kvPoolLayout(c, kvCacheBytes, ctx.limits, 'f16').numBlocks);
        expect(runner.numKvBlocks).toBe(2 * kvPoolLayout(c, kvCacheBytes, ctx.limits, 'f32').numBlocks);
        expect(runner.kvPool.kPools[0].size).toBe(runner.numKvBlocks * 16 * kvDim * 2); // [numBlocks, 16, nKvHeads, headDim] f16
        expect(runner.kvPool.blockBytes).toBe(16 * kvDim * 2);

        const V = c.vocabSize;
        const a = [5, 9], b = [2, 7], fork = [2, 11]; // scattered blocks; the fork shares b's first block
        const steps: Array<{ input: StepInput; sampled: number }> = [
          // Prefill: a 7-token prompt and a 20-token prompt crossing a block boundary.
          { input: { tokenIds: Int32Array.from([...tokens(7, 1, V), ...tokens(20, 3, V)]), positions: Int32Array.from([...Array(7).keys(), ...Array(20).keys()]), sequences: [seq(0, 7, 7, a), seq(7, 20, 20, b)], returnLogits: true, returnHidden: true }, sampled: 2 },
          // Decode one token each.
          { input: { tokenIds: Int32Array.from([4, 6]), positions: Int32Array.from([7, 20]), sequences: [seq(0, 1, 8, a), seq(1, 1, 21, b)] }, sampled: 2 },
          // Fork b copy-on-write: its partly filled block 7 is copied to 11; both decode at 21.
          { input: { tokenIds: Int32Array.from([8, 10]), positions: Int32Array.from([21, 21]), sequences: [seq(0, 1, 22, b), seq(1, 1, 22, fork)], blockCopies: [[7, 11]] }, sampled: 2 },
        ];
        const copyCommands: number[] = [];
        for (const [i, s] of steps.entries()) {
          const { result: out, errors } = await scoped(() => runner.step(s.input));
          expect(errors, `step ${i}`).toEqual([]);
          expect(out.sampled.length).toBe(s.sampled);
          expect(runner.lastStepStats!.submits).toBe(1);
          if (i === 0) {
            expect(out.logits!.length).toBe(2 * V);
            expect(out.hidden!.length).toBe(27 * c.dim);
          }
          copyCommands.push(runner.lastStepStats!.copyCommands);
        }
        // The fork step records one block copy per layer per K and V, out to scratch and back.
        expect(copyCommands[2] - copyCommands[1]).toBe(2 * 2 * c.numLayers);
      } finally {
        runner.destroy();
      }
      // The KV kernels the runner asked for are the f16 ones, never the f32 ones (rope-kv writes the pool in fused layers).
      const kvKeys = [...new Set(pipelineKeys.slice(first))].filter((k) => k.startsWith('kv-write') || k.startsWith('rope-kv') || k.startsWith('attention'));
      expect(kvKeys.length).toBeGreaterThanOrEqual(2);
      expect(kvKeys.filter((k) => !k.includes('f16'))).toEqual([]);
    });
  }

  it("an f16 pool on a context without 'shader-f16' is refused before any upload (unsupported_feature)", async () => {
    const bare = new GpuContext(ctx.device, { f16: false, subgroups: false });
    const source = await openSource(STORIES_GGUF);
    const gguf = await readGGUF(source);
    const err = await createGpuRunner({ ctx: bare, gguf, source, config: modelConfigFromGGUF(gguf), kvType: 'f16' }).catch((e) => e);
    await source.close?.();
    expect(err).toBeInstanceOf(GpuError);
    expect((err as GpuError).code).toBe('unsupported_feature');
  });
});

describe('createEngine precision reaches the runner (null backend)', () => {
  it("'f16' and 'auto' build an f16 pool (twice the blocks of 'f32' for the same bytes)", async () => {
    const blocks: Record<string, number> = {};
    for (const precision of ['f32', 'f16', 'auto'] as const) {
      const engine = await createEngine({ model: STORIES_GGUF, gpu, kvCacheBytes: 1 << 20, precision });
      try {
        blocks[precision] = (await engine.stats()).kvBlocksTotal + 1; // the pool keeps one block back
      } finally {
        await engine.destroy();
      }
    }
    expect(blocks.f16).toBe(2 * blocks.f32);
    expect(blocks.auto).toBe(blocks.f16);
  });
});
