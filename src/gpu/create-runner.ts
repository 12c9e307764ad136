// The default model runner for createEngine: WebGPU. Kept behind a dynamic import so an
// engine built on another runner (tests) never loads GPU code.
//
// `precision` picks the KV pool's element type: createGpuContext resolves 'auto' to f16
// where the adapter has shader-f16 (else f32) and refuses 'f16' without it
// (`unsupported_feature`); activations are f32 on both paths.
import type { ModelRunner, RunnerFactoryArgs } from '../engine/types';
import { createGpuContext } from './device';
import { createGpuEncoderRunner } from './encoder-runner';
import { createGpuRunner } from './runner';

export async function createWebGpuRunner(args: RunnerFactoryArgs): Promise<ModelRunner> {
  // The contract types the entry point structurally (no @webgpu/types in the published
  // declarations); what callers pass is a real `GPU`.
  const ctx = await createGpuContext({ gpu: args.gpu as GPU | undefined, precision: args.precision });
  const totalBytes = args.gguf.tensors.reduce((s, t) => s + t.byteLength, 0);
  const onProgress = args.onProgress
    ? (p: { loadedBytes: number }) => args.onProgress!({ stage: 'weights', loaded: p.loadedBytes, total: totalBytes })
    : undefined;
  try {
    // Encoders (bert, nomic-bert) embed only: no KV pool, no LM head.
    if (args.config.encoder) {
      return await createGpuEncoderRunner({ ctx, gguf: args.gguf, source: args.source, config: args.config, ownsContext: true, onProgress });
    }
    return await createGpuRunner({
      ctx,
      gguf: args.gguf,
      source: args.source,
      config: args.config,
      kvCacheBytes: args.kvCacheBytes,
      kvType: ctx.precision,
      ownsContext: true,
      onProgress,
    });
  } catch (e) {
    ctx.destroy();
    throw e;
  }
}
