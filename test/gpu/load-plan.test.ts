// The load order of createGpuRunner (#18: peak host memory during load): every pipeline a
// step can need is compiled from a plan of the weights (TensorLoader's dry mode:
// plannedWeight parts, dry buffers, nothing read or allocated) before the first weight
// byte is read, so the compiler's working memory (hundreds of MiB on SwiftShader, host
// memory there) never sits on top of the uploaded weights. The plan must be the weights'
// exact shape, or the load would compile the wrong pipelines (compiles after load).
import { describe, expect, it } from 'vitest';
import { GpuContext } from '../../src/gpu/context';
import { loadModelWeights, type ModelWeights } from '../../src/gpu/model-weights';
import { GREEDY } from '../../src/engine/types';
import { createGpuRunner } from '../../src/gpu/runner';
import { plannedWeight, uploadWeightBytes, type GpuWeight } from '../../src/gpu/weights';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { MemorySource } from '../../src/model/gguf/source';
import type { ByteSource } from '../../src/model/gguf/types';
import { GGMLType } from '../../src/model/gguf/types';
import { getTestDevice } from '../helpers/gpu';
import { makeTestModel } from '../helpers/test-model';
import { randomTensorBytes } from './matmul-fixtures';

async function freshContext(): Promise<GpuContext> {
  const { device } = await getTestDevice();
  return new GpuContext(device, { f16: false, subgroups: false }, true); // its own pipeline cache: nothing compiled yet
}

/** What a kernel can see of a weight: type, shape, and each part's rows, offsets and sizes. */
function shapeOf(w: GpuWeight) {
  return {
    name: w.name, type: w.type, rows: w.rows, cols: w.cols, fileBytes: w.fileBytes, gpuBytes: w.gpuBytes,
    parts: w.parts.map((p) => ({ rowStart: p.rowStart, rows: p.rows, scaleOffsetWords: p.scaleOffsetWords, byteLength: p.byteLength, size: p.buffer.size })),
  };
}

/** Every weight and buffer of a ModelWeights as sizes (buffers) and shapes (weights), by role. */
function layoutOf(w: ModelWeights): unknown {
  const value = (v: unknown): unknown => {
    if (v && typeof v === 'object' && 'parts' in v) return shapeOf(v as GpuWeight);
    if (v && typeof v === 'object' && 'size' in v) return { size: (v as GPUBuffer).size };
    return v;
  };
  return {
    tokenEmbedding: value(w.tokenEmbedding), output: value(w.output), tied: w.output === w.tokenEmbedding, outputNorm: value(w.outputNorm),
    ropeTurns: value(w.ropeTurns), fileBytes: w.fileBytes, gpuBytes: w.gpuBytes,
    layers: w.layers.map((l) => Object.fromEntries(Object.entries(l).map(([k, v]) => [k, value(v)]))),
  };
}

describe('load plan (weights planned before they are read)', () => {
  it('plannedWeight has the parts uploadWeight makes, split across bindings, for odd shapes and several types', async () => {
    const ctx = await freshContext();
    const cases: [GGMLType, number, number][] = [[GGMLType.Q8_0, 96, 37], [GGMLType.Q4_K, 256 * 3, 29], [GGMLType.Q6_K, 256, 41], [GGMLType.F16, 37, 23]];
    for (const [type, cols, rows] of cases) {
      const bytes = randomTensorBytes(type, rows, cols, 5);
      // Small parts: every tensor splits into several bindings, the last one ragged.
      const options = { maxPartBytes: Math.ceil((bytes.length / 3) / 64) * 64 };
      const real = await uploadWeightBytes(ctx, `w${type}`, type, [cols, rows], bytes, options);
      try {
        const planned = plannedWeight(ctx, `w${type}`, type, [cols, rows], options);
        expect(real.parts.length).toBeGreaterThan(1);
        expect(shapeOf(planned)).toEqual(shapeOf(real));
      } finally {
        real.destroy();
      }
    }
  });

  it('a dry loadModelWeights reads no tensor byte and has the layout of the real load (fused and separate projections)', async () => {
    const ctx = await freshContext();
    // Q4_K_M: attn_v / ffn_down of some layers in Q6_K, so some layers fuse q|k|v and some do not.
    const bytes = makeTestModel({ arch: 'qwen2', vocab: 300, dim: 256, layers: 3, heads: 4, kvHeads: 2, headDim: 64, ffn: 512, quant: 'Q4_K_M', seed: 9 });
    const mem = new MemorySource(bytes);
    const gguf = await readGGUF(mem);
    const config = modelConfigFromGGUF(gguf);
    let reads = 0;
    const counting: ByteSource = { size: mem.size, read: (o, n) => (reads++, mem.read(o, n)) };
    const plan = await loadModelWeights(ctx, gguf, counting, config, undefined, { dry: true });
    expect(reads).toBe(0);
    const weights = await loadModelWeights(ctx, gguf, mem, config);
    try {
      expect(weights.layers.some((l) => l.wqkv) && weights.layers.some((l) => l.wq)).toBe(true);
      expect(layoutOf(plan)).toEqual(layoutOf(weights));
    } finally {
      weights.destroy();
    }
  });

  it('createGpuRunner compiles every pipeline before it reads the first weight byte, and none after', async () => {
    const ctx = await freshContext();
    const bytes = makeTestModel({ arch: 'llama', vocab: 300, dim: 128, layers: 2, heads: 4, kvHeads: 2, ffn: 256, quant: 'Q8_0', seed: 11 });
    const mem = new MemorySource(bytes);
    const gguf = await readGGUF(mem);
    const config = modelConfigFromGGUF(gguf);
    let compiledAtFirstRead: number | undefined;
    const watched: ByteSource = {
      size: mem.size,
      read: (o, n) => {
        compiledAtFirstRead ??= ctx.pipelineCompiles.atLoad;
        return mem.read(o, n);
      },
    };
    const runner = await createGpuRunner({ ctx, gguf, source: watched, config, kvCacheBytes: 1 << 20 });
    try {
      expect(ctx.pipelineCompiles.atLoad).toBeGreaterThan(0);
      expect(compiledAtFirstRead).toBe(ctx.pipelineCompiles.atLoad);
      const table = Int32Array.of(0);
      await runner.step({
        tokenIds: Int32Array.of(1, 2), positions: Int32Array.of(0, 1),
        sequences: [{ queryStart: 0, queryLength: 2, contextLength: 2, blockTable: table, sample: true, sampling: GREEDY, sampleIndex: 0 }],
      });
      expect(runner.compilesAfterLoad).toBe(0);
    } finally {
      runner.destroy();
    }
  });

  // Software adapters compile one pipeline at a time on the calling thread (context.ts:
  // Dawn's worker threads keep the compiler's freed memory), with the event loop running
  // between two compiles, and a shader that does not compile still fails the load.
  const KERNEL = (n: number) => `@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@compute @workgroup_size(8) fn main(@builtin(global_invocation_id) id: vec3u) { y[id.x] = f32(id.x) * ${n}.0; }`;

  it('a software context compiles its load-time pipelines one at a time, yielding to the event loop between them', async () => {
    const ctx = await freshContext();
    const requests = [1, 2, 3].map((n) => ({ key: `test:load-plan/${n}`, code: KERNEL(n), entryPoint: 'main' }));
    let timersRun = 0;
    const timer = setInterval(() => timersRun++, 0);
    try {
      await ctx.compilePipelines(requests);
    } finally {
      clearInterval(timer);
    }
    expect(ctx.pipelineCompiles).toEqual({ atLoad: 3, onFirstUse: 0 });
    expect(timersRun).toBeGreaterThanOrEqual(2); // a macrotask between compiles, not one blocking run
    // Cached: asking again compiles nothing, and pipeline() finds them without a first-use compile.
    await ctx.compilePipelines(requests);
    expect(ctx.pipeline(requests[1].key, requests[1].code).label).toBe(requests[1].key);
    expect(ctx.pipelineCompiles).toEqual({ atLoad: 3, onFirstUse: 0 });
  });

  it('a software context rejects a shader that does not compile, naming the pipeline', async () => {
    const ctx = await freshContext();
    const bad = { key: 'test:load-plan/bad', code: 'fn main( {', entryPoint: 'main' };
    await expect(ctx.compilePipelines([bad])).rejects.toThrow(/test:load-plan\/bad/);
    expect(ctx.pipelineCompiles.atLoad).toBe(0);
  });
});
