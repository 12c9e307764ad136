// The default model runner for createEngine: WebGPU. Kept behind a dynamic import so an
// engine built on another runner (tests) never loads GPU code.
//
// `precision` picks the KV pool's element type: createGpuContext resolves 'auto' to f16
// where the adapter has shader-f16 (else f32) and refuses 'f16' without it
// (`unsupported_feature`); activations are f32 on both paths.
import type { ModelRunner, RunnerFactoryArgs } from '../engine/types';
import { createGpuContext, type DeviceContext } from './device';
import { createGpuEncoderRunner } from './encoder-runner';
import { createGpuRunner } from './runner';

/**
 * One device for every model of an engine (#17): the first runner creates it, later ones
 * reuse it, and the engine destroys it once with itself (runners built on it do not own it).
 */
export class SharedGpuDevice {
  private ctx: Promise<DeviceContext> | undefined;
  private destroyed = false;

  constructor(private readonly options: Pick<RunnerFactoryArgs, 'gpu' | 'precision'>) {}

  get(): Promise<DeviceContext> {
    // The contract types the entry point structurally (no @webgpu/types in the published
    // declarations); what callers pass is a real `GPU`.
    this.ctx ??= createGpuContext({ gpu: this.options.gpu as GPU | undefined, precision: this.options.precision });
    // A failed start is not kept: the next model may try again.
    this.ctx.catch(() => (this.ctx = undefined));
    return this.ctx;
  }

  async destroy(): Promise<void> {
    if (this.destroyed || !this.ctx) return;
    this.destroyed = true;
    (await this.ctx.catch(() => undefined))?.destroy();
  }
}

/** A runner on its own device, or on `shared` (which then outlives it). */
export async function createWebGpuRunner(args: RunnerFactoryArgs, shared?: SharedGpuDevice): Promise<ModelRunner> {
  const ctx = shared ? await shared.get() : await createGpuContext({ gpu: args.gpu as GPU | undefined, precision: args.precision });
  const ownsContext = shared === undefined;
  const totalBytes = args.gguf.tensors.reduce((s, t) => s + t.byteLength, 0);
  const onProgress = args.onProgress
    ? (p: { loadedBytes: number }) => args.onProgress!({ stage: 'weights', loaded: p.loadedBytes, total: totalBytes })
    : undefined;
  try {
    // Encoders (bert, nomic-bert) embed only: no KV pool, no LM head.
    if (args.config.encoder) {
      return await createGpuEncoderRunner({ ctx, gguf: args.gguf, source: args.source, config: args.config, ownsContext, onProgress });
    }
    return await createGpuRunner({
      ctx,
      gguf: args.gguf,
      source: args.source,
      config: args.config,
      kvCacheBytes: args.kvCacheBytes,
      kvType: ctx.precision,
      stepCapacity: args.stepCapacity,
      ownsContext,
      onProgress,
    });
  } catch (e) {
    if (ownsContext) ctx.destroy();
    throw e;
  }
}
