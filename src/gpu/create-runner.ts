// The default model runner for createEngine: WebGPU. Kept behind a dynamic import so an
// engine built on another runner (tests) never loads GPU code.
//
// The kernels run the f32 path everywhere today (activations and KV in f32); a device
// with shader-f16 is still created with the feature, for the f16 kernels to come.
import type { RunnerFactoryArgs } from '../engine/engine';
import type { ModelRunner } from '../engine/types';
import { createGpuContext } from './device';
import { createGpuRunner } from './runner';

export async function createWebGpuRunner(args: RunnerFactoryArgs): Promise<ModelRunner> {
  const ctx = await createGpuContext({ gpu: args.gpu, precision: args.precision });
  const totalBytes = args.gguf.tensors.reduce((s, t) => s + t.byteLength, 0);
  try {
    return await createGpuRunner({
      ctx,
      gguf: args.gguf,
      source: args.source,
      config: args.config,
      kvCacheBytes: args.kvCacheBytes,
      ownsContext: true,
      onProgress: args.onProgress
        ? (p) => args.onProgress!({ stage: 'weights', loaded: p.loadedBytes, total: totalBytes })
        : undefined,
    });
  } catch (e) {
    ctx.destroy();
    throw e;
  }
}
