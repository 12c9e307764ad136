// ModelRunner for BERT-family encoders (bert, nomic-bert): embeddings only. embed() runs the
// encoder forward (encoder-forward.ts) over the whole batch and pools each sequence
// (embed-step.ts); there is no LM head and no paged KV pool, so numKvBlocks is 0 and step()
// is refused with a coded error.
import type { EmbedInput, ModelRunner, StepInput, StepOutput } from '../engine/types';
import { KV_BLOCK_SIZE } from '../engine/types';
import { KernelArgError, UniformArena } from '../kernels/encoder';
import { poolRows } from '../kernels/pool';
import type { ModelConfig } from '../model/config';
import type { ByteSource, GGUFFile } from '../model/gguf/types';
import type { GpuContext } from './context';
import { runEmbedStep } from './embed-step';
import { encodeEncoderForward } from './encoder-forward';
import { loadEncoderWeights, uniformBlocksPerEncoderForward, type EncoderWeights } from './encoder-weights';
import type { KvPool } from './kv-pool';
import { RunnerError } from './runner-errors';
import { StepBuffers, type ProjectionLayout } from './step-buffers';
import { dryAllocator, dryBuffer, dryEncoder, plannedTokenCounts } from './step-plan';
import { StepProfiler } from './step-profiler';
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

/** Encoders keep gate and up separate (bert has no gate); q/k/v are fused where the file fuses them (nomic-bert). */
function encoderLayout(weights: EncoderWeights): ProjectionLayout {
  const fused = weights.layers.some((l) => l.wqkv !== undefined);
  return { fusedQkv: fused, separateQkv: !fused || weights.layers.some((l) => l.wqkv === undefined), fusedGateUp: false, separateGateUp: true };
}

export class GpuEncoderRunner implements ModelRunner {
  readonly blockSize = KV_BLOCK_SIZE;
  /** No paged pool: an encoder never decodes. */
  readonly numKvBlocks = 0;
  private readonly bufs: StepBuffers;
  private readonly uniforms: UniformArena;
  /** Bench only: time every dispatch of the next embed() calls into lastDispatchNs (needs 'timestamp-query'). */
  profileSteps = false;
  lastDispatchNs: Array<{ label: string; ns: number }> | undefined;
  private readonly profiler: StepProfiler;
  private busy = false;
  private destroyed = false;

  constructor(
    readonly ctx: GpuContext,
    readonly config: ModelConfig,
    readonly weights: EncoderWeights,
    private readonly ownsContext = false,
  ) {
    this.bufs = new StepBuffers(ctx, config, encoderLayout(weights));
    const align = Math.max(256, ctx.limits.minUniformBufferOffsetAlignment);
    this.uniforms = new UniformArena(ctx, (uniformBlocksPerEncoderForward(weights) + 16) * align, 'embed:uniforms');
    this.profiler = new StepProfiler(ctx);
  }

  /**
   * Compiles (createComputePipelineAsync) every pipeline an embed() batch can need, from dry
   * runs of the forward and the pooling at every planned token count (the matmul and
   * attention variants change with the batch size). Without it the first batch compiled
   * them synchronously: seconds on a software adapter, inside the first request.
   */
  async preparePipelines(): Promise<void> {
    const { ctx, config: c, weights: w } = this;
    const bufs = new StepBuffers(ctx, c, encoderLayout(w), dryAllocator);
    const counts = plannedTokenCounts();
    bufs.ensure(counts[counts.length - 1], 0, 1, false);
    const scratch = { kPools: [dryBuffer('dry:k', 1 << 30)], vPools: [dryBuffer('dry:v', 1 << 30)], kvType: 'f32' } as unknown as KvPool;
    const enc = dryEncoder(ctx);
    const missing = ctx.collectPipelines(() => {
      for (const T of counts) {
        try {
          const hidden = encodeEncoderForward(enc, c, w, scratch, bufs, T);
          poolRows(enc, { x: hidden, seqRows: dryBuffer('dry:seq-rows', 8 * T), out: dryBuffer('dry:pooled', T * c.dim * 4), numSeqs: T, dim: c.dim });
        } catch (e) {
          // A shape the kernels refuse is refused the same way when a batch brings it.
          if (!(e instanceof KernelArgError)) throw e;
        }
      }
    });
    try {
      await ctx.compilePipelines(missing);
    } catch (e) {
      throw new RunnerError('model_load_failed', `compiling the encoder's pipelines failed: ${(e as Error)?.message ?? String(e)}`);
    }
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
        profiler: this.profileSteps ? this.profiler : undefined,
        onDispatchNs: (ns) => (this.lastDispatchNs = ns),
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
    this.profiler.destroy();
    this.weights.destroy();
    if (this.ownsContext) this.ctx.destroy();
  }
}

export async function createGpuEncoderRunner(o: CreateEncoderRunnerOptions): Promise<GpuEncoderRunner> {
  const weights = await loadEncoderWeights(o.ctx, o.gguf, o.source, o.config, o.onProgress);
  const runner = new GpuEncoderRunner(o.ctx, o.config, weights, o.ownsContext);
  try {
    await runner.preparePipelines(); // the first request never waits for a compile
  } catch (e) {
    runner.destroy();
    throw e;
  }
  return runner;
}
