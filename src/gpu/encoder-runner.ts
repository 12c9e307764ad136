// ModelRunner for BERT-family encoders (bert, nomic-bert): embeddings only. embed() runs the
// encoder forward (encoder-forward.ts) over the whole batch and pools each sequence
// (embed-step.ts); there is no LM head and no paged KV pool, so numKvBlocks is 0 and step()
// is refused with a coded error.
import type { EmbedInput, ModelRunner, StepInput, StepOutput } from '../engine/types';
import { KV_BLOCK_SIZE } from '../engine/types';
import { UniformArena } from '../kernels/encoder';
import type { ModelConfig } from '../model/config';
import type { ByteSource, GGUFFile } from '../model/gguf/types';
import type { GpuContext } from './context';
import { runEmbedStep } from './embed-step';
import { encodeEncoderForward } from './encoder-forward';
import { loadEncoderWeights, uniformBlocksPerEncoderForward, type EncoderWeights } from './encoder-weights';
import { RunnerError } from './runner-errors';
import { StepBuffers } from './step-buffers';
import type { WeightProgress } from './tensor-loader';

export interface CreateEncoderRunnerOptions {
  ctx: GpuContext;
  gguf: GGUFFile;
  source: ByteSource;
  config: ModelConfig;
  onProgress?: (p: WeightProgress) => void;
  /** destroy() also destroys the context (the runner created it). */
  ownsContext?: boolean;
}

export class GpuEncoderRunner implements ModelRunner {
  readonly blockSize = KV_BLOCK_SIZE;
  /** No paged pool: an encoder never decodes. */
  readonly numKvBlocks = 0;
  private readonly bufs: StepBuffers;
  private readonly uniforms: UniformArena;
  private busy = false;
  private destroyed = false;

  constructor(
    readonly ctx: GpuContext,
    readonly config: ModelConfig,
    readonly weights: EncoderWeights,
    private readonly ownsContext = false,
  ) {
    // Encoders keep gate and up separate (bert has no gate); q/k/v are fused where the file fuses them (nomic-bert).
    const fused = weights.layers.some((l) => l.wqkv !== undefined);
    this.bufs = new StepBuffers(ctx, config, { fusedQkv: fused, separateQkv: !fused || weights.layers.some((l) => l.wqkv === undefined), fusedGateUp: false, separateGateUp: true });
    const align = Math.max(256, ctx.limits.minUniformBufferOffsetAlignment);
    this.uniforms = new UniformArena(ctx, (uniformBlocksPerEncoderForward(weights) + 16) * align, 'embed:uniforms');
  }

  step(_input: StepInput): Promise<StepOutput> {
    return Promise.reject(new RunnerError('bad_step_input', `${this.config.arch} is an embedding model: it has no LM head to step (use embed())`));
  }

  /** One pooled vector per sequence ([dim] each, the model's pooling, before normalisation). */
  async embed(input: EmbedInput): Promise<Float32Array[]> {
    if (this.destroyed) throw new RunnerError('runner_unavailable', 'embed() after destroy()');
    if (this.busy) throw new RunnerError('runner_unavailable', 'embed() while another batch is running (batches are sequential)');
    this.busy = true;
    try {
      return await runEmbedStep({
        ctx: this.ctx, config: this.config, bufs: this.bufs, uniforms: this.uniforms, scratchLayers: 1, usesHiddenBuffer: false,
        record: (enc, scratch, numTokens) => encodeEncoderForward(enc, this.config, this.weights, scratch, this.bufs, numTokens),
      }, input);
    } finally {
      this.busy = false;
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.bufs.destroy();
    this.uniforms.destroy();
    this.weights.destroy();
    if (this.ownsContext) this.ctx.destroy();
  }
}

export async function createGpuEncoderRunner(o: CreateEncoderRunnerOptions): Promise<GpuEncoderRunner> {
  const weights = await loadEncoderWeights(o.ctx, o.gguf, o.source, o.config, o.onProgress);
  return new GpuEncoderRunner(o.ctx, o.config, weights, o.ownsContext);
}
