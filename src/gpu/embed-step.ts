// One embedding batch on the GPU (ModelRunner.embed, #17), for both runners: the encoder
// (encoder-runner.ts) and decoder models with pooling (runner.ts). Same shape as a step:
// pack metadata → ONE compute pass (forward + pooling) → ONE submit → map the pooled rows.
//
// KV: the batch gets its own scratch KvPool, created for this call and destroyed as soon as
// the vectors are read back, so embedding never touches the engine's paged pool. Sequence s
// takes blocks [b_s, b_s + ceil(len_s / 16)) of it, one after another:
//
//   lengths 20, 5      blocks  seq 0: [0, 1]   seq 1: [2]
//   slots   seq 0: 0..19 (block 0: 0..15, block 1: 16..19)   seq 1: 32..36
//
// Encoders keep one layer's K/V (every layer rewrites it before reading); decoders keep all
// layers, as their forward writes each layer's pool. Bidirectional models
// (attention.causal = false) give every token its sequence's last position as context end.
import { KV_BLOCK_SIZE, type EmbedInput, type SequenceInput } from '../engine/types';
import type { DispatchProfiler, KernelEncoder, UniformArena } from '../kernels/encoder';
import { poolingRows, poolRows } from '../kernels/pool';
import type { ModelConfig } from '../model/config';
import type { GpuContext } from './context';
import { KvPool } from './kv-pool';
import { RunnerError } from './runner-errors';
import type { StepBuffers } from './step-buffers';
import { packStep } from './step-pack';
import type { StepProfiler } from './step-profiler';

export interface EmbedStepDeps {
  ctx: GpuContext;
  config: ModelConfig;
  bufs: StepBuffers;
  uniforms: UniformArena;
  /** Layers of K/V the forward needs in the scratch pool (encoders: 1, reused; decoders: all). */
  scratchLayers: number;
  /** The forward writes its final hidden states to bufs.hidden (decoders), which must then exist. */
  usesHiddenBuffer: boolean;
  /** Records the forward; returns the buffer with the final hidden states [T, dim]. */
  record(enc: KernelEncoder, scratch: KvPool, numTokens: number): GPUBuffer;
  /** Bench only: time every dispatch (one pass each) into `onDispatchNs`. */
  profiler?: StepProfiler;
  onDispatchNs?: (ns: Array<{ label: string; ns: number }>) => void;
}

function bad(message: string): RunnerError {
  return new RunnerError('bad_step_input', message);
}

/** Checks an EmbedInput against the contract (the engine validates user input first). */
export function checkEmbedInput(input: EmbedInput, config: ModelConfig): void {
  const seqs = input?.sequences;
  if (!Array.isArray(seqs) || seqs.length === 0) throw bad('embed() needs at least one sequence');
  seqs.forEach((ids, s) => {
    if (!(ids instanceof Int32Array) || ids.length === 0) throw bad(`sequences[${s}] must be a non-empty Int32Array`);
    if (ids.length > config.contextLength) throw bad(`sequences[${s}] has ${ids.length} tokens, more than the context length ${config.contextLength}`);
    for (let i = 0; i < ids.length; i++) {
      if (!(ids[i] >= 0 && ids[i] < config.vocabSize)) throw bad(`sequences[${s}][${i}] = ${ids[i]} is outside the vocabulary [0, ${config.vocabSize})`);
    }
  });
}

export async function runEmbedStep(d: EmbedStepDeps, input: EmbedInput): Promise<Float32Array[]> {
  const { ctx, config: c, bufs } = d;
  checkEmbedInput(input, c);
  const lengths = input.sequences.map((ids) => ids.length);
  const T = lengths.reduce((a, b) => a + b, 0);
  const S = lengths.length;

  // Flattened batch, positions 0..len-1, contiguous scratch blocks per sequence.
  const tokenIds = new Int32Array(T);
  const positions = new Int32Array(T);
  const sequences: SequenceInput[] = [];
  let t = 0;
  let block = 0;
  input.sequences.forEach((ids, s) => {
    const numBlocks = Math.ceil(ids.length / KV_BLOCK_SIZE);
    tokenIds.set(ids, t);
    for (let i = 0; i < ids.length; i++) positions[t + i] = i;
    sequences.push({
      queryStart: t, queryLength: lengths[s], contextLength: lengths[s], sample: false,
      blockTable: Int32Array.from({ length: numBlocks }, (_, i) => block + i),
    });
    t += ids.length;
    block += numBlocks;
  });
  const packed = packStep({ tokenIds, positions, sequences }, c.vocabSize, block);
  if (c.bidirectional) {
    // tokenMeta [T, 2] (context end, table start): every token sees its whole sequence.
    for (const seq of sequences) {
      for (let i = 0; i < seq.queryLength; i++) packed.tokenMeta[2 * (seq.queryStart + i)] = seq.contextLength - 1;
    }
  }

  const kvDim = c.numKvHeads * c.headDim;
  const scratchConfig = { ...c, numLayers: d.scratchLayers };
  const scratch = new KvPool(ctx, scratchConfig, block * 2 * d.scratchLayers * KV_BLOCK_SIZE * kvDim * 4, 'f32');
  const owned: { destroy(): void }[] = [scratch];
  try {
    if (scratch.numBlocks < block) {
      throw new RunnerError('kv_cache_too_small', `an embedding batch of ${T} tokens needs ${block} KV blocks; one buffer holds ${scratch.numBlocks}`);
    }
    bufs.ensure(T, 0, packed.blockTables.length, d.usesHiddenBuffer);
    const seqRows = ctx.upload('embed:seq-rows', poolingRows(lengths, c.pooling!)); // [S, 2] u32
    const pooled = ctx.storage('embed:pooled', S * c.dim * 4); // [S, dim] f32
    const readback = ctx.buffer('embed:readback', S * c.dim * 4, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    owned.push(seqRows, pooled, readback);

    const { device } = ctx;
    device.pushErrorScope('validation');
    let validation: Promise<GPUError | null>;
    let profiled: DispatchProfiler | undefined;
    try {
      const encoder = device.createCommandEncoder({ label: 'embed' });
      bufs.uploadMeta(encoder, packed);
      const pass = encoder.beginComputePass({ label: 'embed:forward' });
      const enc: KernelEncoder = { ctx, pass, uniforms: d.uniforms, dispatches: 0, profiler: d.profiler?.attach(encoder) };
      profiled = enc.profiler;
      const hidden = d.record(enc, scratch, T); // [T, dim]
      poolRows(enc, { x: hidden, seqRows, out: pooled, numSeqs: S, dim: c.dim });
      enc.pass.end();
      if (enc.profiler) d.profiler!.resolve(encoder, enc.profiler);
      encoder.copyBufferToBuffer(pooled, 0, readback, 0, S * c.dim * 4);
      d.uniforms.flush();
      device.queue.submit([encoder.finish()]);
    } catch (e) {
      d.uniforms.flush(); // drop what the failed recording pushed
      throw e;
    } finally {
      validation = device.popErrorScope();
    }
    try {
      await readback.mapAsync(GPUMapMode.READ);
    } catch (e) {
      const error = await validation;
      if (error) throw new RunnerError('gpu_rejected', `WebGPU rejected the embedding batch: ${error.message}`);
      throw e;
    }
    const error = await validation;
    if (error) throw new RunnerError('gpu_rejected', `WebGPU rejected the embedding batch: ${error.message}`);
    const all = new Float32Array(readback.getMappedRange().slice(0));
    readback.unmap();
    if (profiled && profiled.labels.length > 0) d.onDispatchNs?.(await d.profiler!.read(profiled));
    return lengths.map((_, s) => all.slice(s * c.dim, (s + 1) * c.dim));
  } finally {
    owned.forEach((o) => o.destroy());
  }
}
