// The adapter's own batching ceiling for the ~28M model: the matmuls of one forward pass
// (8 layers of q, k, v, o, gate, up, down + the LM head, Q4_0 weights) run once with 16
// tokens against 16 times with 1 token, each time in its own submit awaited like an engine
// step. Attention, norms and sampling are left out: this is the weights' part only.
// Host-neutral: it takes the `GPU` (Dawn's in Node, navigator.gpu in a page).
import { createGpuContext } from '../../src/gpu/device';
import { uploadWeightBytes, type GpuWeight } from '../../src/gpu/weights';
import { UniformArena, type KernelEncoder } from '../../src/kernels/encoder';
import { matmul } from '../../src/kernels/matmul';
import { quantize } from '../../src/model/gguf/quantize';
import { GGMLType } from '../../src/model/gguf/types';
import { MODEL_30M } from './engine-bench';

export interface Ceiling {
  /** One pass over the weights with `batch` tokens. */
  batchMs: number;
  /** `batch` passes with one token each. */
  singlesMs: number;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function matmulCeiling(gpu: GPU, batch: number, runs = 3): Promise<Ceiling> {
  const ctx = await createGpuContext({ gpu, precision: 'f32' });
  try {
    const { dim, ffn, vocab, layers, heads, kvHeads } = MODEL_30M;
    const kvDim = (dim / heads) * kvHeads;
    // GGUF order [cols (in), rows (out)]
    const layerShapes: [number, number][] = [[dim, dim], [dim, kvDim], [dim, kvDim], [dim, dim], [dim, ffn], [dim, ffn], [ffn, dim]];
    const upload = (i: number, [cols, rows]: [number, number]): Promise<GpuWeight> => {
      const values = Float32Array.from({ length: cols * rows }, (_, j) => Math.sin(j * 0.37 + i) * 0.05);
      return uploadWeightBytes(ctx, `ceiling-${i}`, GGMLType.Q4_0, [cols, rows], quantize(GGMLType.Q4_0, values));
    };
    const layerWeights = await Promise.all(layerShapes.map((s, i) => upload(i, s)));
    const head = await upload(99, [dim, vocab]);
    const maxIn = Math.max(dim, ffn);
    const x = ctx.upload('ceiling-x', Float32Array.from({ length: batch * maxIn }, (_, i) => Math.cos(i * 0.11)));
    const y = ctx.storage('ceiling-y', batch * vocab * 4);
    const uniforms = new UniformArena(ctx, 1 << 20, 'ceiling-uniforms');

    const pass = async (numTokens: number): Promise<void> => {
      const ce = ctx.device.createCommandEncoder({ label: 'ceiling' });
      const cp = ce.beginComputePass({ label: 'ceiling' });
      const enc: KernelEncoder = { ctx, pass: cp, uniforms, dispatches: 0 };
      for (let l = 0; l < layers; l++) for (const weight of layerWeights) matmul(enc, { weight, x, y, numTokens });
      matmul(enc, { weight: head, x, y, numTokens });
      cp.end();
      uniforms.flush();
      ctx.device.queue.submit([ce.finish()]);
      await ctx.device.queue.onSubmittedWorkDone();
    };
    await pass(batch); // warm-up: compiles both variants
    await pass(1);
    const batchRuns: number[] = [];
    const singleRuns: number[] = [];
    for (let r = 0; r < runs; r++) {
      let t0 = performance.now();
      await pass(batch);
      batchRuns.push(performance.now() - t0);
      t0 = performance.now();
      for (let i = 0; i < batch; i++) await pass(1);
      singleRuns.push(performance.now() - t0);
    }
    return { batchMs: median(batchRuns), singlesMs: median(singleRuns) };
  } finally {
    ctx.destroy();
  }
}
