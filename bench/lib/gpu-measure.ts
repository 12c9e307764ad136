// `npm run bench:gpu`'s measurement, host-neutral (Dawn's GPU in Node, navigator.gpu in a
// Chromium page): for each model, through the real runner —
//   decode tok/s at batch 1 / 16 / 64 (every sequence decodes one token per step),
//   prefill tok/s of one 512-token step, JS ms to record a step (batch-1 decode, the least of 5
//   round medians of 100 recordings that are not submitted: GpuModelRunner.recordOnly), bind groups created
//   per warm step, dispatches per layer (dry count, step-plan.ts), compiles after load;
// and with the runner's own kernels on its weights —
//   matvec GB/s per weight type (one token, weight bytes / time) beside a copy-bandwidth
//   microbenchmark of the same run (copyBufferToBuffer: 2 × bytes / time): their ratio is
//   the % of the memory roofline;
//   decode attention ms at context 128 / 1k / 4k (one token, the model's heads, split past
//   ATTENTION_PART_LEN as a decode step runs it on the GPU set);
//   the prefill GEMM of layer 0's gate|up (or up) projection at the prefill's token count
//   with the tiled kernel's 4×4 and 8×4 register tiles forced (the same bits; which one is
//   faster decides matmul.ts chooseTiledTokens' threshold, so only a real GPU's numbers count).
// Each row names its kernel set (src/kernels/README.md): the adapter's own, or one forced
// (GpuBenchModel.kernels; --quick records the Qwen shape with the GPU set, as a real GPU would).
// GPU times are timestamp queries around one pass of `reps` dispatches (median of 3), where
// the adapter has 'timestamp-query', so launch gaps inside the pass count, as they do in a
// step, and the host's wait for the queue does not; elsewhere, wall clock from submit to
// onSubmittedWorkDone. The copy roofline is then a vec4 copy kernel timed the same way
// (copyBufferToBuffer cannot be timestamped); elsewhere copyBufferToBuffer.
import { GREEDY, KV_BLOCK_SIZE, type SequenceInput, type StepInput, type StepOutput } from '../../src/engine/types';
import { GpuContext } from '../../src/gpu/context';
import { createGpuContext } from '../../src/gpu/device';
import { createGpuRunner, type GpuModelRunner } from '../../src/gpu/runner';
import { dispatchesPerLayer } from '../../src/gpu/step-plan';
import type { GpuWeight } from '../../src/gpu/weights';
import { ATTENTION_PART_LEN, attentionScratchBytes, pagedAttention, stepAttentionParts } from '../../src/kernels/attention';
import { MAX_WORKGROUPS_PER_DIM, UniformArena, type KernelEncoder } from '../../src/kernels/encoder';
import { matmul, matmulFlops, type TiledTokensPerThread } from '../../src/kernels/matmul';
import { typeName } from '../../src/kernels/matmul-dequant';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { openSource, type SourceInput } from '../../src/model/gguf/source';

/** The kernels a row runs: the adapter's own ('auto'), or a set forced (GpuContext.software). */
export type KernelSetChoice = 'auto' | 'gpu' | 'software';

export interface GpuBenchModel {
  name: string;
  model: SourceInput;
  /** Measure recording only (R, B, D, compiles; nothing submitted): a full-size shape on a software adapter. */
  recordOnly?: boolean;
  /**
   * Default 'auto'. 'gpu' on a software adapter records what a real GPU records (6-7
   * dispatches per layer); its steps are minutes long there, so only for recordOnly rows.
   */
  kernels?: KernelSetChoice;
}

export interface GpuBenchOptions {
  /** Decode batch sizes (sequences per step). */
  batches: number[];
  /** Timed decode steps per batch size. */
  decodeSteps: number;
  prefillTokens: number;
  /** Contexts of the attention measurement. */
  attentionContexts: number[];
  /** Bytes the copy microbenchmark moves per copy. */
  copyBytes: number;
}

export interface GpuBenchRow {
  model: string;
  /** The kernel set the row recorded and ran. */
  kernels: 'gpu' | 'software';
  layers: number;
  loadS: number;
  /** Chained steps, as the engine decodes: each submitted before the previous one's ids are back. */
  decodeTokS: Array<{ batch: number; tokS: number }>;
  /** Batch 1, each step waiting for the previous one's ids (EngineCoreOptions.chainSteps: false). */
  decodeOneAtATimeTokS?: number;
  prefillTokS?: number;
  /** The least of recordRoundsMs. */
  recordMs: number;
  /** Each round's median record ms/step (RECORD_ROUNDS). */
  recordRoundsMs: number[];
  /** The machine's 1-minute load when R was measured (Node only: the machine is shared, R is CPU time). */
  loadAtRecord?: number;
  bindGroupsPerStep: number;
  dispatchesPerLayer: number | undefined;
  dispatchesPerStep: number;
  compilesAfterLoad: number;
  matvec: Array<{ type: string; name: string; bytes: number; gbS: number }>;
  attention: Array<{ context: number; ms: number }>;
  /** Prefill GEMM ms per register tile (tokens per thread × 4 rows), on `gemmWeight` at `gemmTokens`. */
  gemm?: { weight: string; type: string; rows: number; cols: number; tokens: number; gflop: number; ms: Array<{ tokensPerThread: TiledTokensPerThread; ms: number }> };
}

export interface GpuBenchResult {
  adapter: string;
  software: boolean;
  copyGbS: number;
  /** How GPU times were taken: 'timestamps' (queries around the pass) or 'host' (submit to done). */
  timing: 'timestamps' | 'host';
  rows: GpuBenchRow[];
}

/** Unmeasured decode steps before the first timed decode run of a model (later runs: 2). */
const FIRST_DECODE_WARMUP = 8;

/**
 * Record ms/step: RECORD_ROUNDS rounds of RECORD_ITERATIONS recordings of one decode step,
 * after RECORD_WARMUP unmeasured ones (the first makes the program; the JIT settles); R is
 * the least round median, and the table prints every round's. On a shared machine other
 * tenants slow the CPU in bursts of seconds (here one process read round medians from 0.37
 * to 0.63 ms, its CPU time rising with the wall time, so not time stolen while descheduled):
 * they only ever add time, so the quietest round is the recording's own cost.
 */
const RECORD_ROUNDS = 5;
const RECORD_ITERATIONS = 100;
const RECORD_WARMUP = 50;

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Timestamp queries at the start and end of a compute pass, read back in ms. */
class PassTimer {
  private readonly querySet: GPUQuerySet;
  private readonly resolved: GPUBuffer;
  private readonly read: GPUBuffer;

  constructor(private readonly ctx: GpuContext) {
    this.querySet = ctx.device.createQuerySet({ label: 'bench:timer', type: 'timestamp', count: 2 });
    this.resolved = ctx.buffer('bench:timer-resolve', 16, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
    this.read = ctx.buffer('bench:timer-read', 16, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  }

  get writes(): GPUComputePassTimestampWrites {
    return { querySet: this.querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 };
  }

  /** After the pass ends, in the same encoder. */
  resolve(ce: GPUCommandEncoder): void {
    ce.resolveQuerySet(this.querySet, 0, 2, this.resolved, 0);
    ce.copyBufferToBuffer(this.resolved, 0, this.read, 0, 16);
  }

  async ms(): Promise<number> {
    await this.read.mapAsync(GPUMapMode.READ);
    try {
      const [t0, t1] = new BigUint64Array(this.read.getMappedRange());
      return Number(t1! - t0!) / 1e6;
    } finally {
      this.read.unmap();
    }
  }

  destroy(): void {
    this.querySet.destroy();
    this.resolved.destroy();
    this.read.destroy();
  }
}

/**
 * ms per repetition of `record` (reps in one pass, one submit), median of 3, after one
 * warm-up: GPU time of the pass by timestamp queries where the device has them, else wall
 * clock from submit to done.
 */
async function timeGpu(ctx: GpuContext, record: (enc: KernelEncoder) => void, budgetMs = 200): Promise<number> {
  const uniforms = new UniformArena(ctx, 1 << 20, 'bench:uniforms');
  const timer = ctx.features.timestamps ? new PassTimer(ctx) : undefined;
  try {
    const run = async (reps: number) => {
      const ce = ctx.device.createCommandEncoder({ label: 'bench' });
      const pass = ce.beginComputePass({ label: 'bench', timestampWrites: timer?.writes });
      const enc: KernelEncoder = { ctx, pass, uniforms, dispatches: 0 };
      for (let i = 0; i < reps; i++) record(enc);
      pass.end();
      timer?.resolve(ce);
      uniforms.flush();
      const t0 = performance.now();
      ctx.device.queue.submit([ce.finish()]);
      await ctx.device.queue.onSubmittedWorkDone();
      const ms = timer ? await timer.ms() : performance.now() - t0;
      return ms / reps;
    };
    const once = await run(1);
    const reps = Math.max(1, Math.min(50, Math.round(budgetMs / Math.max(once, 0.01))));
    return median([await run(reps), await run(reps), await run(reps)]);
  } finally {
    uniforms.destroy();
    timer?.destroy();
  }
}

/** A grid-stride copy of vec4 words: the roofline a kernel's loads and stores can reach. */
const COPY_KERNEL = `
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(num_workgroups) n: vec3u) {
  for (var i = g.x; i < arrayLength(&src); i += n.x * 256u) { dst[i] = src[i]; }
}`;

/**
 * Copy bandwidth in GB/s (read + write), the roofline the matvec numbers are compared to:
 * the copy kernel, timestamped, where the device has timestamp queries (bounded by the
 * binding limit); else copyBufferToBuffer, wall clock.
 */
async function copyBandwidth(ctx: GpuContext, bytes: number): Promise<number> {
  if (ctx.features.timestamps) {
    const size = Math.min(bytes, Math.floor(ctx.limits.maxStorageBufferBindingSize / 16) * 16);
    const a = ctx.storage('bench:copy-a', size), b = ctx.storage('bench:copy-b', size);
    const pipeline = ctx.device.createComputePipeline({ label: 'bench:copy', layout: 'auto', compute: { module: ctx.device.createShaderModule({ code: COPY_KERNEL }), entryPoint: 'main' } });
    const groups = [[a, b], [b, a]].map(([src, dst]) => ctx.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: src! } }, { binding: 1, resource: { buffer: dst! } }],
    }));
    let i = 0;
    try {
      const ms = await timeGpu(ctx, (enc) => {
        enc.pass.setPipeline(pipeline);
        enc.pass.setBindGroup(0, groups[i++ % 2]!);
        enc.pass.dispatchWorkgroups(Math.min(MAX_WORKGROUPS_PER_DIM, Math.ceil(size / 16 / 256)));
      });
      return (2 * size) / (ms * 1e6);
    } finally {
      a.destroy();
      b.destroy();
    }
  }
  const a = ctx.storage('bench:copy-a', bytes), b = ctx.storage('bench:copy-b', bytes);
  try {
    const run = async (reps: number) => {
      const ce = ctx.device.createCommandEncoder({ label: 'bench:copy' });
      for (let i = 0; i < reps; i++) ce.copyBufferToBuffer(i % 2 ? b : a, 0, i % 2 ? a : b, 0, bytes);
      const t0 = performance.now();
      ctx.device.queue.submit([ce.finish()]);
      await ctx.device.queue.onSubmittedWorkDone();
      return (performance.now() - t0) / reps;
    };
    await run(1);
    const ms = median([await run(8), await run(8), await run(8)]);
    return (2 * bytes) / (ms * 1e6);
  } finally {
    a.destroy();
    b.destroy();
  }
}

function seqInput(queryStart: number, tokens: number, context: number, blockTable: Int32Array): SequenceInput {
  return { queryStart, queryLength: tokens, contextLength: context, blockTable, sample: true, sampling: GREEDY, sampleIndex: 0 };
}

/** One step: sequence i appends tokens[i] at positions starts[i]..; block tables of `blocksPerSeq` consecutive blocks. */
function step(tokens: number[][], starts: number[], blocksPerSeq: number): StepInput {
  const tokenIds: number[] = [], positions: number[] = [];
  const sequences = tokens.map((t, i) => {
    const q = tokenIds.length;
    t.forEach((id, j) => {
      tokenIds.push(id);
      positions.push(starts[i] + j);
    });
    const table = Int32Array.from({ length: blocksPerSeq }, (_, b) => i * blocksPerSeq + b);
    return seqInput(q, t.length, starts[i] + t.length, table);
  });
  return { tokenIds: Int32Array.from(tokenIds), positions: Int32Array.from(positions), sequences };
}

/**
 * Decodes `n` steps of one token per sequence after `first` (sequence i = sampled row i, at
 * position `pos` on). Chained: each step is submitted before the previous one's ids are back,
 * fed from its sampled rows on the GPU (StepInput.fromPreviousStep), as the engine runs.
 */
function decoder(runner: GpuModelRunner, first: StepOutput, startPos: number, make: (ids: number[][], pos: number) => StepInput, afterStep: () => void) {
  let out = first;
  let pos = startPos;
  return async (n: number, chained: boolean): Promise<void> => {
    if (!chained) {
      for (let i = 0; i < n; i++) {
        out = await runner.step(make(out.sampled.map((t) => [t.tokenId]), pos++));
        afterStep();
      }
      return;
    }
    let pending = runner.step(make(out.sampled.map((t) => [t.tokenId]), pos++));
    for (let i = 1; i < n; i++) {
      const next = make(out.sampled.map(() => [0]), pos++);
      next.fromPreviousStep = next.sequences.map((_, row) => [row, row] as const);
      const submitted = runner.step(next);
      out = await pending;
      afterStep();
      pending = submitted;
    }
    out = await pending;
    afterStep();
  };
}

async function measureModel(
  ctx: GpuContext, m: GpuBenchModel, o: GpuBenchOptions, note: (s: string) => void, loadNow?: () => number,
): Promise<GpuBenchRow> {
  const t0 = performance.now();
  const source = await openSource(m.model);
  let runner: GpuModelRunner;
  const maxBatch = m.recordOnly ? 1 : Math.max(...o.batches);
  const promptLen = 8;
  const perSeqTokens = promptLen + FIRST_DECODE_WARMUP + o.decodeSteps;
  const blocksPerSeq = Math.ceil(perSeqTokens / KV_BLOCK_SIZE);
  const prefillBlocks = m.recordOnly ? 0 : Math.ceil(o.prefillTokens / KV_BLOCK_SIZE);
  try {
    const gguf = await readGGUF(source);
    const config = modelConfigFromGGUF(gguf);
    const kvBytesPerBlock = 2 * config.numLayers * KV_BLOCK_SIZE * config.numKvHeads * config.headDim * 4;
    runner = await createGpuRunner({
      ctx, gguf, source, config, kvCacheBytes: kvBytesPerBlock * (Math.max(maxBatch * blocksPerSeq, prefillBlocks) + 1),
      stepCapacity: { tokens: Math.max(o.prefillTokens, maxBatch * promptLen), sampledRows: maxBatch },
    });
  } finally {
    await source.close?.();
  }
  const loadS = (performance.now() - t0) / 1000;
  note(`${m.name}: loaded in ${loadS.toFixed(1)} s`);
  try {
    const c = runner.config;
    const vocab = c.vocabSize;
    const id = (i: number) => 1 + ((i * 7919) % (vocab - 1));
    const row: GpuBenchRow = {
      model: m.name, kernels: ctx.software ? 'software' : 'gpu', layers: c.numLayers, loadS, decodeTokS: [], recordMs: 0, recordRoundsMs: [], bindGroupsPerStep: 0,
      dispatchesPerLayer: dispatchesPerLayer(ctx, c, runner.weights, runner.kvPool), dispatchesPerStep: 0, compilesAfterLoad: 0, matvec: [], attention: [],
    };
    // Recording alone (R, B, D per step): a batch-1 decode recorded RECORD_ITERATIONS times
    // without submitting (nothing runs, so no prefill is needed); the first one makes the program.
    const recorded = await runner.recordOnly(step([[id(99)]], [promptLen], blocksPerSeq), RECORD_WARMUP + RECORD_ROUNDS * RECORD_ITERATIONS);
    const warm = recorded.slice(RECORD_WARMUP);
    row.recordRoundsMs = Array.from({ length: RECORD_ROUNDS }, (_, i) => median(warm.slice(i * RECORD_ITERATIONS, (i + 1) * RECORD_ITERATIONS).map((s) => s.recordMs)));
    row.recordMs = Math.min(...row.recordRoundsMs);
    row.loadAtRecord = loadNow?.();
    row.bindGroupsPerStep = Math.max(...warm.map((s) => s.bindGroupsCreated));
    row.dispatchesPerStep = recorded[0]!.dispatches;
    note(`${m.name}: record ${row.recordMs.toFixed(3)} ms/step (least of ${RECORD_ROUNDS} round medians: ${row.recordRoundsMs.map((x) => x.toFixed(3)).join(', ')}), ${row.dispatchesPerStep} dispatches`);
    // "@1 one at a time" first, after a warm-up of its own (the first decode after the load
    // also wakes the GPU's clocks: on the H200 the chained @1 run, first then, read half the
    // one-at-a-time rate), then the chained runs.
    const decodeRuns = m.recordOnly ? [] : [{ batch: 1, chained: false, warm: FIRST_DECODE_WARMUP }, ...o.batches.map((batch) => ({ batch, chained: true, warm: 2 }))];
    for (const { batch, chained, warm } of decodeRuns) {
      // Prefill every sequence's prompt in one step, then `warm` unmeasured decode steps, then the timed ones.
      const out = await runner.step(step(Array.from({ length: batch }, (_, s) => Array.from({ length: promptLen }, (_, j) => id(s * 31 + j))), Array(batch).fill(0), blocksPerSeq));
      let timed = false;
      const decode = decoder(runner, out, promptLen, (ids, pos) => step(ids, Array(batch).fill(pos), blocksPerSeq), () => {
        if (timed) row.bindGroupsPerStep = Math.max(row.bindGroupsPerStep, runner.lastStepStats!.bindGroupsCreated);
      });
      await decode(warm, chained);
      timed = true;
      const t1 = performance.now();
      await decode(o.decodeSteps, chained);
      const ms = performance.now() - t1;
      const tokS = (batch * o.decodeSteps * 1000) / ms;
      if (chained) row.decodeTokS.push({ batch, tokS });
      else row.decodeOneAtATimeTokS = tokS;
      note(`${m.name}: decode batch ${batch}${chained ? '' : ', one step at a time'}: ${tokS.toFixed(2)} tok/s`);
    }
    if (!m.recordOnly) {
      const prompt = Array.from({ length: o.prefillTokens }, (_, i) => id(i));
      await runner.step(step([prompt], [0], prefillBlocks)); // warm
      const t2 = performance.now();
      await runner.step(step([prompt], [0], prefillBlocks));
      row.prefillTokS = (o.prefillTokens * 1000) / (performance.now() - t2);
      note(`${m.name}: prefill ${o.prefillTokens}: ${row.prefillTokS.toFixed(1)} tok/s`);
      row.matvec = await measureMatvec(ctx, runner);
      row.attention = await measureAttention(ctx, runner, o.attentionContexts);
    }
    row.compilesAfterLoad = runner.compilesAfterLoad;
    // After the count: forcing a tile compiles pipelines no step of this shape plans.
    if (!m.recordOnly) row.gemm = await measureGemm(ctx, runner, o.prefillTokens);
    return row;
  } finally {
    runner.destroy();
  }
}

/** The first weight of each type among the layers' projections and the LM head, as one token's matvec. */
async function measureMatvec(ctx: GpuContext, runner: GpuModelRunner): Promise<GpuBenchRow['matvec']> {
  const byType = new Map<number, GpuWeight>();
  for (const l of runner.weights.layers) {
    for (const w of [l.wqkv, l.wq, l.wk, l.wv, l.wo, l.wGate, l.wUp, l.wDown]) if (w && !byType.has(w.type)) byType.set(w.type, w);
  }
  if (!byType.has(runner.weights.output.type)) byType.set(runner.weights.output.type, runner.weights.output);
  const rows: GpuBenchRow['matvec'] = [];
  for (const w of byType.values()) {
    const x = ctx.storage('bench:x', w.cols * 4), y = ctx.storage('bench:y', w.rows * 4);
    try {
      const ms = await timeGpu(ctx, (enc) => matmul(enc, { weight: w, x, y, numTokens: 1 }));
      rows.push({ type: typeName(w.type), name: w.name, bytes: w.gpuBytes, gbS: w.gpuBytes / (ms * 1e6) });
    } finally {
      x.destroy();
      y.destroy();
    }
  }
  return rows;
}

/** Layer 0's gate|up (or up) projection over T tokens, tiled with each register tile. */
async function measureGemm(ctx: GpuContext, runner: GpuModelRunner, T: number): Promise<GpuBenchRow['gemm']> {
  const w = runner.weights.layers[0]!.wUp;
  const x = ctx.storage('bench:gemm-x', T * w.cols * 4), y = ctx.storage('bench:gemm-y', T * w.rows * 4);
  try {
    const ms: NonNullable<GpuBenchRow['gemm']>['ms'] = [];
    for (const tokensPerThread of [4, 8] as const) {
      ms.push({ tokensPerThread, ms: await timeGpu(ctx, (enc) => matmul(enc, { weight: w, x, y, numTokens: T, variant: 'tiled', tokensPerThread })) });
    }
    return { weight: w.name, type: typeName(w.type), rows: w.rows, cols: w.cols, tokens: T, gflop: matmulFlops(w, T) / 1e9, ms };
  } finally {
    x.destroy();
    y.destroy();
  }
}

/** One decode token's attention over `context` positions of layer 0's shape (f32 pool, scattered blocks). */
async function measureAttention(ctx: GpuContext, runner: GpuModelRunner, contexts: number[]): Promise<GpuBenchRow['attention']> {
  const c = runner.config;
  const kvDim = c.numKvHeads * c.headDim;
  const maxBlocks = Math.ceil(Math.max(...contexts) / KV_BLOCK_SIZE);
  const kPool = ctx.storage('bench:k', maxBlocks * KV_BLOCK_SIZE * kvDim * 4), vPool = ctx.storage('bench:v', maxBlocks * KV_BLOCK_SIZE * kvDim * 4);
  const tables = ctx.upload('bench:tables', Int32Array.from({ length: maxBlocks }, (_, i) => (i * 7919) % maxBlocks));
  const q = ctx.storage('bench:q', c.numHeads * c.headDim * 4), out = ctx.storage('bench:out', c.numHeads * c.headDim * 4);
  const rows: GpuBenchRow['attention'] = [];
  try {
    for (const context of contexts) {
      const meta = ctx.upload('bench:meta', Int32Array.of(context - 1, 0));
      // As a decode step runs it (forward.ts): split in fixed partitions past ATTENTION_PART_LEN on the GPU set.
      const parts = stepAttentionParts(ctx, context);
      const plan = { numParts: parts, partLen: ATTENTION_PART_LEN };
      const scratch = parts > 1 ? ctx.storage('bench:attn-scratch', attentionScratchBytes(1, c.numHeads, c.headDim, plan)) : undefined;
      const ms = await timeGpu(ctx, (enc) => pagedAttention(enc, {
        q, kPool, vPool, tokenMeta: meta, blockTables: tables, out, numTokens: 1, numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim,
        split: scratch ? { plan, scratch } : undefined,
      }));
      rows.push({ context, ms });
      meta.destroy();
      scratch?.destroy();
    }
  } finally {
    for (const b of [kPool, vPool, tables, q, out]) b.destroy();
  }
  return rows;
}

/** `loadNow`: the machine's 1-minute load average, where the host can tell (Node). */
export async function measureGpu(
  gpu: GPU, models: GpuBenchModel[], o: GpuBenchOptions, note: (s: string) => void = () => {}, loadNow?: () => number,
): Promise<GpuBenchResult> {
  const ctx = await createGpuContext({ gpu, precision: 'f32' });
  try {
    const copyGbS = await copyBandwidth(ctx, o.copyBytes);
    const rows: GpuBenchRow[] = [];
    for (const m of models) {
      const kernels = m.kernels ?? 'auto';
      // A forced set gets a context of its own on the same device (pipelines are cached per context).
      const rowCtx = kernels === 'auto' || (kernels === 'software') === ctx.software ? ctx : new GpuContext(ctx.device, ctx.features, kernels === 'software');
      rows.push(await measureModel(rowCtx, m, o, note, loadNow));
    }
    return { adapter: ctx.adapterName, software: ctx.software, copyGbS, timing: ctx.features.timestamps ? 'timestamps' : 'host', rows };
  } finally {
    ctx.destroy();
  }
}

/** Byte-weighted matvec bandwidth of a row over the copy bandwidth, in %. */
export function rooflinePercent(row: GpuBenchRow, copyGbS: number): number {
  const bytes = row.matvec.reduce((s, m) => s + m.bytes, 0);
  const seconds = row.matvec.reduce((s, m) => s + m.bytes / (m.gbS * 1e9), 0);
  return copyGbS > 0 && seconds > 0 ? (100 * bytes) / seconds / 1e9 / copyGbS : 0;
}

const f = (x: number | undefined, d = 1) => (x === undefined ? '—' : x.toFixed(d));
/** Three significant digits (software adapters give tiny GB/s). */
const sig = (x: number) => (x >= 100 ? x.toFixed(0) : x.toPrecision(3));

/** The markdown report and the summary line (last line, exactly as the issue asks). */
export function gpuReport(r: GpuBenchResult, host: string, label: string): string {
  const lines = [
    `Host: ${host}. WebGPU adapter: ${r.adapter}${r.software ? ' — a software adapter: throughput and roofline are smoke values' : ''}. ${label}`,
    '',
  ];
  const full = r.rows.filter((x) => x.matvec.length > 0);
  if (full.length > 0) {
    const batches = full[0].decodeTokS.map((d) => d.batch);
    lines.push(r.timing === 'timestamps'
      ? `GPU times by timestamp queries around each timed pass. Copy bandwidth (a vec4 copy kernel, read + write): ${sig(r.copyGbS)} GB/s.`
      : `GPU times by wall clock from submit to done (no timestamp queries). Copy bandwidth (copyBufferToBuffer, read + write): ${sig(r.copyGbS)} GB/s.`, '');
    lines.push('Decode steps are chained as the engine runs them (each submitted before the previous ids are back); "@1 one at a time" waits for them.', '');
    lines.push(`| model | layers | load s | ${batches.map((b) => `decode tok/s @${b}`).join(' | ')} | decode tok/s @1 one at a time | prefill tok/s | matvec GB/s by type (% of copy) | attention ms @ctx |`);
    lines.push(`|---|---|---|${batches.map(() => '---|').join('')}---|---|---|---|`);
    for (const x of full) {
      const mv = x.matvec.map((m) => `${m.type} ${sig(m.gbS)} (${sig((100 * m.gbS) / r.copyGbS)}%)`).join(', ');
      const at = x.attention.map((a) => `${a.context}: ${f(a.ms, 3)}`).join(', ');
      lines.push(`| ${x.model} | ${x.layers} | ${f(x.loadS)} | ${x.decodeTokS.map((d) => f(d.tokS, 2)).join(' | ')} | ${f(x.decodeOneAtATimeTokS, 2)} | ${f(x.prefillTokS)} | ${mv} | ${at} |`);
    }
    lines.push('');
  }
  const gemm = r.rows.filter((x) => x.gemm !== undefined);
  if (gemm.length > 0) {
    lines.push('Prefill GEMM, tiled kernel by register tile (tokens × rows per thread; the same bits):', '');
    lines.push('| model | weight [N, K] type | tokens | 4×4 ms | 4×4 GFLOP/s | 8×4 ms | 8×4 GFLOP/s | 8×4 speed-up |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const x of gemm) {
      const g = x.gemm!;
      const [narrow, wide] = [g.ms.find((m) => m.tokensPerThread === 4)!.ms, g.ms.find((m) => m.tokensPerThread === 8)!.ms];
      lines.push(`| ${x.model} | ${g.weight} [${g.rows}, ${g.cols}] ${g.type} | ${g.tokens} | ${f(narrow, 3)} | ${sig(g.gflop / (narrow / 1000))} | ${f(wide, 3)} | ${sig(g.gflop / (wide / 1000))} | ${f(narrow / wide, 2)}× |`);
    }
    lines.push('');
  }
  const withLoad = r.rows.some((x) => x.loadAtRecord !== undefined);
  lines.push(`| model | kernel set | layers | dispatches/layer | dispatches/step (decode, batch 1) | bind groups/step after warm-up | record ms/step (batch-1 decode, least round median) | round medians |${withLoad ? ' load (1 min) then |' : ''} compiles after load |`);
  lines.push(`|---|---|---|---|---|---|---|---|${withLoad ? '---|' : ''}---|`);
  for (const x of r.rows) {
    const load = withLoad ? ` ${f(x.loadAtRecord, 1)} |` : '';
    lines.push(`| ${x.model} | ${x.kernels} | ${x.layers} | ${f(x.dispatchesPerLayer, 2)} | ${x.dispatchesPerStep} | ${x.bindGroupsPerStep} | ${f(x.recordMs, 3)} | ${x.recordRoundsMs.map((v) => f(v, 3)).join(' · ')} |${load} ${x.compilesAfterLoad} |`);
  }
  // The summary: the first model (the Qwen2.5-0.5B shape; in --quick on a software adapter,
  // recorded with the GPU set a real GPU gets) for D, B, R; every measured matvec for P.
  const head = r.rows[0]!;
  if (r.rows.some((x) => x.matvec.length === 0)) lines.push('', 'Rows without throughput columns were measured for recording only (recordings that are not submitted: nothing runs on the adapter).');
  const B = Math.max(...r.rows.map((x) => x.bindGroupsPerStep));
  const P = full.length > 0 ? Math.min(...full.map((x) => rooflinePercent(x, r.copyGbS))) : 0;
  lines.push('', `bench:gpu: dispatches/layer ${f(head.dispatchesPerLayer, 2)}, bind groups/step ${B}, record ms/step ${f(head.recordMs, 3)}, matvec roofline ${P >= 1 ? f(P, 0) : sig(P)}%`);
  return lines.join('\n');
}
