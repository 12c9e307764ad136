// ModelRunner on WebGPU: one batched, paged forward pass and sampling per step.
//
// One step (src/engine/types.ts has the contract):
//   packStep (CPU checks, flat metadata) → one writeBuffer of metadata + section copies
//   → KV block copies (copy-on-write) → ONE compute pass: forward + sampling (src/kernels/sample.ts),
//     the LM head and sampling a group of sampled rows at a time (sample-groups.ts; returned
//     logits of several groups leave the pass after each group)
//   → copy ids (and logits / hidden when asked) to a MAP_READ buffer → ONE submit → map.
// Decoder embedding models (pooling_type set) also get embed(): the same forward on a scratch
// KV pool per batch, pooled on the GPU (embed-step.ts). Encoders have their own runner
// (encoder-runner.ts).
//
// What a step costs the CPU is kept near zero: every pipeline is compiled at load
// (step-plan.ts; none after), step buffers are sized at load for `stepCapacity`, and bind
// groups are made once and reused (kernels/bind-group-cache.ts), and a step of a shape seen
// before replays that shape's recorded dispatches (step-program.ts): a warm step only
// uploads its metadata and records set-pipeline / set-bind-group / dispatch (its uniforms
// are uploaded again only when the step before it ran another program).
import type { EmbedInput, ModelRunner, StepInput, StepOutput } from '../engine/types';
import { KV_BLOCK_SIZE } from '../engine/types';
import { ATTENTION_PART_LEN, splitChunkTokens, stepAttentionParts } from '../kernels/attention';
import { BindGroupCache } from '../kernels/bind-group-cache';
import { UniformArena, type KernelEncoder } from '../kernels/encoder';
import type { KvType } from '../kernels/kv-type';
import { packSampleRows, requestsFromSequences, sample, sampledBytes, type PackedSampleRows, type SampleRequest } from '../kernels/sample';
import type { ModelConfig } from '../model/config';
import type { ByteSource, GGUFFile } from '../model/gguf/types';
import type { GpuContext } from './context';
import { DeviceContext, GpuError } from './device';
import { runEmbedStep } from './embed-step';
import { encodeForward, projectionLayout, uniformBlocksPerForward } from './forward';
import { defaultKvCacheBytes, KvPool } from './kv-pool';
import { loadModelWeights, type ModelWeights, type WeightProgress } from './model-weights';
import { RunnerError } from './runner-errors';
import { GroupSamplers, sampleGroups, type SampleGroup } from './sample-groups';
import { READBACK_SLOTS, StepBuffers } from './step-buffers';
import { planChain, type ChainCopy } from './step-chain';
import { StepProfiler } from './step-profiler';
import { packStep } from './step-pack';
import { compileProgram, replay, stepProgramKey, StepPrograms, type StepProgram } from './step-program';
import { collectStepPipelines } from './step-plan';

export { RunnerError } from './runner-errors';

export interface CreateGpuRunnerOptions {
  ctx: GpuContext;
  gguf: GGUFFile;
  source: ByteSource;
  config: ModelConfig;
  /** KV pool budget in bytes; default defaultKvCacheBytes (kv-pool.ts). */
  kvCacheBytes?: number;
  /**
   * Element type of the KV pool. Default: the DeviceContext's precision (f16 where the
   * adapter has shader-f16 and the caller did not ask for f32), 'f32' for a bare GpuContext.
   * 'f16' on a context without the feature throws GpuError `unsupported_feature`.
   */
  kvType?: KvType;
  /** Called after every tensor is on the GPU. */
  onProgress?: (p: WeightProgress) => void;
  /** destroy() also destroys the context (the runner created it). */
  ownsContext?: boolean;
  /**
   * Step buffers are allocated at load for this many tokens and sampled rows (a bigger
   * step regrows them once, and rebuilds the bind groups). Default DEFAULT_STEP_CAPACITY.
   */
  stepCapacity?: StepCapacity;
  /** Concatenate q/k/v and gate/up weights at load (model-weights.ts). Default true. */
  fuseWeights?: boolean;
}

export interface StepCapacity {
  tokens: number;
  sampledRows: number;
}

/** The scheduler's defaults (maxBatchTokens 512, maxRunningSequences 64). */
export const DEFAULT_STEP_CAPACITY: StepCapacity = { tokens: 512, sampledRows: 64 };

/** What the last step cost (bench). */
export interface StepStats {
  numTokens: number;
  dispatches: number;
  /** Always 1: the whole step is one queue.submit. */
  submits: number;
  /** Block copies (copy-on-write) + metadata section copies + readback copies. */
  copyCommands: number;
  /** writeBuffer bytes: metadata and uniform arena. */
  bytesUploaded: number;
  bytesReadBack: number;
  /** Bind groups this step had to create (0 once the step's shape class is warm). */
  bindGroupsCreated: number;
  /** Pipelines compiled since the runner loaded (0: every one was compiled at load). */
  compilesAfterLoad: number;
  /** JS milliseconds from the first command recorded to the submit (bench: record ms/step). */
  recordMs: number;
  /** The dispatches were replayed from an earlier step of the same shape (step-program.ts). */
  replayed: boolean;
  /** Only when `profileSteps` was on: GPU nanoseconds per dispatch, in recording order. */
  dispatchNs?: Array<{ label: string; ns: number }>;
}

/** A step's descriptors, made once (record ms/step counts every object a step allocates). */
const STEP_ENCODER: GPUCommandEncoderDescriptor = { label: 'step' };
const STEP_PASS: GPUComputePassDescriptor = { label: 'step:forward' };

export class GpuModelRunner implements ModelRunner {
  readonly blockSize = KV_BLOCK_SIZE;
  readonly numKvBlocks: number;
  readonly chainsSteps = true;
  /** Element type of the KV pool (activations are f32 on both paths). */
  readonly kvType: KvType;
  lastStepStats: StepStats | undefined;
  /**
   * Bench only: time every dispatch with timestamp queries (one pass per dispatch, so the
   * step itself runs slower) into lastStepStats.dispatchNs. Needs 'timestamp-query'.
   */
  profileSteps = false;
  private readonly profiler: StepProfiler;
  /** Set by recordOnlyMs: record and finish steps, never submit them. */
  private dropCommands = false;
  /** Re-made (bigger) when a step's attention split runs in more chunks than it was sized for. */
  private uniforms: UniformArena;
  /** Split chunks per layer the arena holds. */
  private uniformChunks = 1;
  private readonly bufs: StepBuffers;
  private readonly bindGroups = new BindGroupCache();
  private readonly programs = new StepPrograms();
  /** samplers.generation the programs were recorded with. */
  private programsSamplerGeneration = 0;
  /** bufs.generation the cached bind groups were made for. */
  private bindGroupsGeneration = -1;
  /** GPU sampling (src/kernels/sample.ts), one sampler per group of sampled rows (sample-groups.ts); grows when a step samples more. */
  private readonly samplers: GroupSamplers;
  /** ctx.pipelineCompiles.onFirstUse when the load finished. */
  private firstUseCompilesAtLoad = 0;
  /** An embed() runs (it uses the step buffers and the arena: nothing else may). */
  private busy = false;
  /** Steps submitted whose readback has not finished (at most READBACK_SLOTS: a step and one chained behind it). */
  private stepsInFlight = 0;
  /** Which readback slots a step in flight holds. */
  private readonly readbackInUse: boolean[] = Array(READBACK_SLOTS).fill(false);
  /** Rows the last submitted step sampled (0 when it failed or sampled nothing): what fromPreviousStep may name. */
  private previousRows = 0;
  private destroyed = false;
  /**
   * Decoder embedding models (`pooling_type` set, e.g. Qwen3-Embedding: last token after the
   * final norm): one pooled vector per sequence, before normalisation. The batch runs through
   * the same forward as a step, on its own scratch KV blocks (embed-step.ts), never the pool
   * the engine manages. Absent on models without pooling.
   */
  readonly embed?: (input: EmbedInput) => Promise<Float32Array[]>;

  constructor(
    readonly ctx: GpuContext,
    readonly config: ModelConfig,
    readonly weights: ModelWeights,
    readonly kvPool: KvPool,
    private readonly ownsContext = false,
    capacity: StepCapacity = DEFAULT_STEP_CAPACITY,
  ) {
    this.numKvBlocks = kvPool.numBlocks;
    this.kvType = kvPool.kvType;
    this.bufs = new StepBuffers(ctx, config, projectionLayout(weights));
    // Block tables: every sequence of a full batch at a long context (shared prefixes repeat blocks).
    this.bufs.ensure(capacity.tokens, capacity.sampledRows, Math.max(256, 2 * kvPool.numBlocks), false);
    this.samplers = new GroupSamplers(ctx, config.vocabSize, this.bufs.sampleCapacity);
    this.profiler = new StepProfiler(ctx);
    this.uniforms = this.makeUniformArena(1);
    this.firstUseCompilesAtLoad = ctx.pipelineCompiles.onFirstUse;
    if (config.pooling) this.embed = (input) => this.exclusive('embed', () => this.runEmbed(input));
  }

  private makeUniformArena(attentionChunks: number): UniformArena {
    const align = Math.max(256, this.ctx.limits.minUniformBufferOffsetAlignment);
    this.uniformChunks = attentionChunks;
    return new UniformArena(this.ctx, (uniformBlocksPerForward(this.weights, attentionChunks) + 16) * align, 'step:uniforms');
  }

  private async exclusive<T>(what: string, run: () => Promise<T>): Promise<T> {
    if (this.destroyed) throw new RunnerError('runner_unavailable', `${what}() after destroy()`);
    if (this.busy || this.stepsInFlight > 0) throw new RunnerError('runner_unavailable', `${what}() while another step is running (steps are sequential)`);
    this.busy = true;
    this.previousRows = 0; // the embed batch overwrites the step buffers
    try {
      return await run();
    } finally {
      this.busy = false;
    }
  }

  private runEmbed(input: EmbedInput): Promise<Float32Array[]> {
    return runEmbedStep({
      ctx: this.ctx, config: this.config, bufs: this.bufs, uniforms: this.uniforms, scratchLayers: this.config.numLayers, usesHiddenBuffer: true,
      record: (enc, scratch, numTokens) => {
        encodeForward(enc, this.config, this.weights, scratch, this.bufs, { numTokens, numSampled: 0, wantHidden: true });
        return this.bufs.hidden!; // [T, dim] after the final norm
      },
    }, input);
  }

  /**
   * Bench only: records `input` `iterations` times without submitting (the GPU does no
   * work; metadata and uniform writes land, and the next real step rewrites them) and
   * returns each recording's stats: JS ms to record (R), bind groups created, dispatches.
   */
  async recordOnly(input: StepInput, iterations: number): Promise<StepStats[]> {
    const stats: StepStats[] = [];
    this.dropCommands = true;
    try {
      for (let i = 0; i < iterations; i++) {
        await this.step(input);
        stats.push(this.lastStepStats!);
      }
    } finally {
      this.dropCommands = false;
    }
    return stats;
  }

  /**
   * Compiles what a step can need and this runner's context lacks (nothing after
   * createGpuRunner, which compiles from the weight plan before the upload).
   */
  async preparePipelines(): Promise<void> {
    await compileStepPipelines(this.ctx, this.config, this.weights, this.kvPool);
    this.firstUseCompilesAtLoad = this.ctx.pipelineCompiles.onFirstUse;
  }

  /** Pipelines compiled on first use since the load (each one stalled the step that needed it). */
  get compilesAfterLoad(): number {
    return this.ctx.pipelineCompiles.onFirstUse - this.firstUseCompilesAtLoad;
  }

  /** Bind groups created so far (bench: after warm-up a step creates none). */
  get bindGroupsCreated(): number {
    return this.bindGroups.created;
  }

  /** Weight bytes on the GPU and in the file (the runner bench reports their ratio). */
  get weightBytes(): { gpu: number; file: number } {
    return { gpu: this.weights.gpuBytes, file: this.weights.fileBytes };
  }

  async step(input: StepInput): Promise<StepOutput> {
    if (this.destroyed) throw new RunnerError('runner_unavailable', 'step() after destroy()');
    if (this.busy) throw new RunnerError('runner_unavailable', 'step() while an embed() is running');
    if (this.stepsInFlight >= READBACK_SLOTS) {
      throw new RunnerError('runner_unavailable', `step() while ${this.stepsInFlight} steps are in flight (one, and one chained behind it, at most)`);
    }
    const packed = packStep(input, this.config.vocabSize, this.numKvBlocks);
    const chain = planChain(input, packed.numTokens, this.previousRows);
    const copies = input.blockCopies ?? [];
    this.kvPool.checkCopies(copies);
    let requests: SampleRequest[];
    let groupPacked: PackedSampleRows[];
    try {
      requests = requestsFromSequences(packed.sampledSequences);
      // Checks every row's parameters before recording; one block per LM-head group, as each group's sampler takes it.
      groupPacked = sampleGroups(requests.length, this.samplers.groupRows).map((g) => packSampleRows(requests.slice(g.start, g.start + g.count), this.config.vocabSize));
    } catch (e) {
      throw new RunnerError('bad_step_input', (e as Error).message);
    }
    // Everything up to the submit runs before this returns its promise (run() awaits nothing
    // before it): the caller may then record the next step, chained or not.
    const slot = this.readbackInUse.indexOf(false);
    this.readbackInUse[slot] = true;
    this.stepsInFlight++;
    try {
      return await this.run(input, packed, copies, requests, groupPacked, chain, slot);
    } finally {
      this.stepsInFlight--;
      this.readbackInUse[slot] = false;
    }
  }

  private async run(
    input: StepInput, packed: ReturnType<typeof packStep>, copies: ReadonlyArray<readonly [number, number]>, requests: SampleRequest[],
    groupPacked: PackedSampleRows[], chain: ChainCopy[], slot: number,
  ): Promise<StepOutput> {
    const { device } = this.ctx;
    const c = this.config;
    const T = packed.numTokens;
    const S = packed.numSampled;
    const wantLogits = input.returnLogits === true && S > 0;
    const wantHidden = input.returnHidden === true;
    const bufs = this.bufs;
    const recordStart = performance.now();
    this.previousRows = 0; // until this step is submitted
    bufs.ensure(T, S, packed.blockTables.length, wantHidden);
    // GPU set: attention split in fixed partitions of the longest context (1: one pass).
    let longestContext = 0;
    for (const seq of input.sequences) longestContext = Math.max(longestContext, seq.contextLength);
    const attentionParts = stepAttentionParts(this.ctx, longestContext);
    if (attentionParts > 1) {
      bufs.ensureAttentionScratch(attentionParts);
      const plan = { numParts: attentionParts, partLen: ATTENTION_PART_LEN };
      const chunks = Math.ceil(T / splitChunkTokens(c.numHeads, c.headDim, plan, bufs.attnScratch!.size));
      if (chunks > this.uniformChunks) {
        this.uniforms.destroy();
        this.uniforms = this.makeUniformArena(chunks);
        this.bindGroups.clear(); // they name the old arena
        this.programs.clear();
      }
    }
    // More groups add samplers; none is replaced, so a chained step still finds the previous step's ids.
    this.samplers.ensure(S);
    const groups = sampleGroups(S, this.samplers.groupRows);
    const groupRequests = groups.map((g) => requests.slice(g.start, g.start + g.count));
    if (bufs.generation !== this.bindGroupsGeneration) {
      // They name buffers that were just replaced.
      this.bindGroups.clear();
      this.programs.clear();
      this.bindGroupsGeneration = bufs.generation;
    }
    this.bindGroups.beginStep();
    const groupsBefore = this.bindGroups.created;
    let recordMs = 0;
    let replayed = false;

    // Bind groups are validated as they are created: the scope spans recording and submit.
    device.pushErrorScope('validation');
    let validation: Promise<GPUError | null>;
    let enc: KernelEncoder;
    let copyCommands: number;
    let bytesUploaded: number;
    let readback: GPUBuffer | undefined;
    // Each group's sampler output (ids, logprobs when asked), one after another.
    const groupIdBytes = groupRequests.map((r) => sampledBytes(r));
    const idsBytes = groupIdBytes.reduce((a, b) => a + b, 0);
    const logitsBytes = wantLogits ? S * c.vocabSize * 4 : 0;
    const hiddenBytes = wantHidden ? T * c.dim * 4 : 0;
    const totalBytes = idsBytes + logitsBytes + hiddenBytes;
    try {
      const encoder = device.createCommandEncoder(STEP_ENCODER);
      const meta = bufs.uploadMeta(encoder, packed);
      bytesUploaded = meta.bytes;
      copyCommands = meta.copies + this.kvPool.encodeCopies(encoder, copies);
      // After the metadata copy wrote the placeholders, before the embedding reads them.
      copyCommands += this.samplers.encodeChain(encoder, chain, bufs.tokenIds);

      // Sampling reads the logits; returned logits must stay raw (no bias / penalties in place).
      const samplings = groups.map((_, g) => this.samplers.samplers[g].upload(bufs.logits, groupRequests[g], { preserveLogits: wantLogits, packed: groupPacked[g] }));
      for (const s of samplings) bytesUploaded += s.bytes;
      if (this.samplers.generation !== this.programsSamplerGeneration) {
        this.programs.clear(); // the sampling dispatches bind a buffer that was just replaced or added
        this.programsSamplerGeneration = this.samplers.generation;
      }
      // Readback layout: each group's sampler output | logits [S, vocab] f32 | hidden [T, dim] f32.
      readback = totalBytes > 0 ? bufs.readbackBuffer(totalBytes, slot) : undefined;
      const pass = encoder.beginComputePass(STEP_PASS);
      enc = { ctx: this.ctx, pass, uniforms: this.uniforms, dispatches: 0, bindGroups: this.bindGroups };
      const key = groups.length === 0
        ? stepProgramKey(T, 0, wantHidden, undefined, false, attentionParts)
        : groups.map((_, g) => stepProgramKey(T, S, wantHidden, groupPacked[g], samplings[g].args?.processed !== undefined, attentionParts)).join('/');
      // Returned logits of several groups leave the pass after each group (afterLogits): such a
      // step is recorded afresh, never replayed. One group's are copied after the pass.
      const logitsPerGroup = logitsBytes > 0 && groups.length > 1;
      const program = this.profileSteps || logitsPerGroup ? undefined : this.programs.get(key);
      replayed = program !== undefined;
      let recorded: StepProgram | undefined;
      if (program) {
        replay(enc, program);
      } else {
        if (this.profileSteps) enc.profiler = this.profiler.attach(encoder);
        else if (!logitsPerGroup) enc.capture = [];
        const afterLogits = (e: KernelEncoder, group: SampleGroup, g: number) => {
          const args = samplings[g].args;
          if (args) sample(e, args); // reads this group's logits before the next group's LM head overwrites them
          if (logitsPerGroup) {
            e.pass.end();
            encoder.copyBufferToBuffer(bufs.logits, 0, readback!, idsBytes + group.start * c.vocabSize * 4, group.count * c.vocabSize * 4);
            copyCommands++;
            e.pass = encoder.beginComputePass(STEP_PASS);
          }
        };
        encodeForward(enc, c, this.weights, this.kvPool, bufs, { numTokens: T, numSampled: S, wantHidden, attentionParts, afterLogits });
        if (enc.capture) {
          recorded = compileProgram(enc.capture, this.uniforms.snapshot());
          this.programs.set(key, recorded);
        }
      }
      enc.pass.end();
      if (enc.profiler) this.profiler.resolve(encoder, enc.profiler);

      if (readback) {
        copyCommands += this.samplers.copyOut(encoder, groupIdBytes, readback);
        if (logitsBytes && !logitsPerGroup) encoder.copyBufferToBuffer(bufs.logits, 0, readback, idsBytes, logitsBytes);
        if (hiddenBytes) encoder.copyBufferToBuffer(bufs.hidden!, 0, readback, idsBytes + logitsBytes, hiddenBytes);
        copyCommands += (logitsBytes && !logitsPerGroup ? 1 : 0) + (hiddenBytes ? 1 : 0);
      }
      bytesUploaded += program ? this.uniforms.flushSnapshot(program.uniforms) : this.uniforms.flush(recorded?.uniforms);
      const commands = encoder.finish();
      recordMs = performance.now() - recordStart;
      if (!this.dropCommands) {
        device.queue.submit([commands]);
        this.previousRows = S;
      }
    } catch (e) {
      this.uniforms.flush(); // drop what the failed recording pushed
      throw e;
    } finally {
      validation = device.popErrorScope();
    }

    const output: StepOutput = { sampled: [] };
    if (readback && !this.dropCommands) {
      try {
        await readback.mapAsync(GPUMapMode.READ, 0, Math.ceil(totalBytes / 4) * 4);
      } catch (e) {
        // An invalid submit also fails the map: report the validation error, which says why.
        const error = await validation;
        if (error) throw new RunnerError('gpu_rejected', `WebGPU rejected the step: ${error.message}`);
        throw e;
      }
      try {
        const mapped = readback.getMappedRange(0, Math.ceil(totalBytes / 4) * 4);
        output.sampled = this.samplers.read(mapped, groupIdBytes, groupRequests);
        if (logitsBytes) output.logits = new Float32Array(mapped.slice(idsBytes, idsBytes + logitsBytes));
        if (hiddenBytes) output.hidden = new Float32Array(mapped.slice(idsBytes + logitsBytes, totalBytes));
      } finally {
        readback.unmap();
      }
    }
    const error = await validation;
    if (error) throw new RunnerError('gpu_rejected', `WebGPU rejected the step: ${error.message}`);
    this.lastStepStats = {
      numTokens: T, dispatches: enc.dispatches, submits: 1, copyCommands, bytesUploaded, bytesReadBack: totalBytes,
      bindGroupsCreated: this.bindGroups.created - groupsBefore, compilesAfterLoad: this.compilesAfterLoad, recordMs, replayed,
    };
    if (enc.profiler && enc.profiler.labels.length > 0) this.lastStepStats.dispatchNs = await this.profiler.read(enc.profiler);
    return output;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.bufs.destroy();
    this.uniforms.destroy();
    this.samplers.destroy();
    this.bindGroups.clear();
    this.profiler.destroy();
    this.kvPool.destroy();
    this.weights.destroy();
    if (this.ownsContext) this.ctx.destroy();
  }
}

/** Uploads the model's weights, allocates the KV pool, and returns a runner ready to step. */
export async function createGpuRunner(o: CreateGpuRunnerOptions): Promise<GpuModelRunner> {
  if (o.config.encoder) {
    throw new RunnerError('model_load_failed', `${o.config.arch} is an encoder (embeddings only): load it with createGpuEncoderRunner (encoder-runner.ts)`);
  }
  const kvType = o.kvType ?? (o.ctx instanceof DeviceContext ? o.ctx.precision : 'f32');
  if (kvType === 'f16' && !o.ctx.features.f16) {
    throw new GpuError('unsupported_feature', "an f16 KV pool needs a device created with the 'shader-f16' feature");
  }
  const kvCacheBytes = o.kvCacheBytes ?? defaultKvCacheBytes(o.config, o.ctx.limits, kvType);
  // Size the pool first: a bad budget should fail before minutes of weight upload.
  const kvPool = new KvPool(o.ctx, o.config, kvCacheBytes, kvType);
  let weights: ModelWeights;
  try {
    // Every pipeline a step can need, compiled before the first weight byte is read, from a
    // plan of the weights (the same parts, nothing allocated): no request ever waits for a
    // compile, and the compiler's working memory (hundreds of MiB on SwiftShader, where it
    // is host memory, as the weights are) is spent and returned before the weights arrive,
    // not on top of them (bench/load-memory.ts).
    const plan = await loadModelWeights(o.ctx, o.gguf, o.source, o.config, undefined, { fuse: o.fuseWeights, dry: true });
    await compileStepPipelines(o.ctx, o.config, plan, kvPool);
    weights = await loadModelWeights(o.ctx, o.gguf, o.source, o.config, o.onProgress, { fuse: o.fuseWeights });
  } catch (e) {
    kvPool.destroy();
    throw e;
  }
  try {
    return new GpuModelRunner(o.ctx, o.config, weights, kvPool, o.ownsContext, o.stepCapacity);
  } catch (e) {
    weights.destroy();
    kvPool.destroy();
    throw e;
  }
}

/** Compiles (createComputePipelineAsync) every pipeline a step of this model can need that `ctx` lacks. */
export async function compileStepPipelines(ctx: GpuContext, config: ModelConfig, weights: ModelWeights, pool: KvPool): Promise<void> {
  const missing = collectStepPipelines(ctx, config, weights, pool);
  try {
    await ctx.compilePipelines(missing);
  } catch (e) {
    throw new RunnerError('model_load_failed', `compiling the step's pipelines failed: ${(e as Error)?.message ?? String(e)}`);
  }
}
