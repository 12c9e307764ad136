// Matmul and embedding helpers: one kernel call in one submit (through the kernel harness,
// test/gpu/kernels/harness.ts), its output read back.
import type { GpuContext } from '../../src/gpu/context';
import type { GpuWeight } from '../../src/gpu/weights';
import { embedding } from '../../src/kernels/embedding';
import type { KernelEncoder } from '../../src/kernels/encoder';
import { matmul, splitKScratchBytes, type MatmulVariant, type SplitK, type TiledTokensPerThread } from '../../src/kernels/matmul';
import { readBuffer } from '../helpers/gpu';
import { getTestContext, runPass } from './kernels/harness';

/** The f32 kernel context of these tests (harness.ts). */
export const testContext = (): Promise<GpuContext> => getTestContext({ f16: false });

/** Records `body` in one pass and submits it (harness.ts); resolves to the dispatch count. */
export async function record(ctx: GpuContext, body: (enc: KernelEncoder) => void): Promise<number> {
  return (await runPass(ctx, body)).dispatches;
}

/** y = x · Wᵀ (+ bias) on the GPU; x is [T, K] f32. */
export async function runMatmul(
  ctx: GpuContext,
  weight: GpuWeight,
  x: Float32Array<ArrayBuffer>,
  T: number,
  opts: { bias?: Float32Array<ArrayBuffer>; variant?: MatmulVariant; maxWorkgroupsPerDim?: number; splitK?: SplitK; tokensPerThread?: TiledTokensPerThread } = {},
): Promise<Float32Array> {
  const xBuf = ctx.upload('test-x', x);
  const biasBuf = opts.bias ? ctx.upload('test-bias', opts.bias) : undefined;
  const yBuf = ctx.storage('test-y', T * weight.rows * 4);
  // NaN-filled scratch: a subtree sum the split kernel failed to write cannot pass as a value
  const scratch = opts.splitK ? ctx.upload('test-splitk', new Float32Array(Math.max(1, splitKScratchBytes(opts.splitK, T, weight.rows) / 4)).fill(NaN)) : undefined;
  await record(ctx, (enc) => matmul(enc, {
    weight, x: xBuf, y: yBuf, bias: biasBuf, numTokens: T, variant: opts.variant, maxWorkgroupsPerDim: opts.maxWorkgroupsPerDim,
    splitK: opts.splitK, splitScratch: scratch, tokensPerThread: opts.tokensPerThread,
  }));
  const y = new Float32Array(await readBuffer(ctx.device, yBuf, T * weight.rows * 4));
  for (const b of [xBuf, biasBuf, yBuf, scratch]) b?.destroy();
  return y;
}

export async function runEmbedding(ctx: GpuContext, weight: GpuWeight, ids: Int32Array<ArrayBuffer>): Promise<Float32Array> {
  const idBuf = ctx.upload('test-ids', ids);
  const outBuf = ctx.storage('test-emb', ids.length * weight.cols * 4);
  // NaN fill so that an unwritten element cannot pass as a zero
  ctx.device.queue.writeBuffer(outBuf, 0, new Float32Array(ids.length * weight.cols).fill(NaN));
  await record(ctx, (enc) => embedding(enc, { weight, tokenIds: idBuf, out: outBuf, numTokens: ids.length }));
  const out = new Float32Array(await readBuffer(ctx.device, outBuf, ids.length * weight.cols * 4));
  idBuf.destroy();
  outBuf.destroy();
  return out;
}
