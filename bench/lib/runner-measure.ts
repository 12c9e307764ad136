// The runner benchmark's measurement, host-neutral: it takes a `GPU` (Dawn's in Node,
// `navigator.gpu` in a Chromium page) and model sources (paths, bytes or URLs), and returns
// plain numbers that bench/runner.ts and bench/runner-chromium.ts print with runnerReport.
// Per model: load, warm up, time one prefill step and `decodeSteps` single-token steps, and
// read the runner's per-step counters and weight bytes.
import { GREEDY, type StepInput } from '../../src/engine/types';
import { createGpuContext, type DeviceContext } from '../../src/gpu/device';
import { createGpuRunner, type GpuModelRunner } from '../../src/gpu/runner';
import { modelConfigFromGGUF } from '../../src/model/config';
import { readGGUF } from '../../src/model/gguf/reader';
import { openSource, type SourceInput } from '../../src/model/gguf/source';

export interface RunnerBenchModel {
  name: string;
  model: SourceInput;
}

export interface RunnerBenchOptions {
  /** Tokens in the timed prefill step. */
  prefillTokens: number;
  /** Timed single-token decode steps. */
  decodeSteps: number;
}

export interface RunnerRow {
  model: string;
  params: number;
  weightsGpuBytes: number;
  weightsFileBytes: number;
  prefillTokS: number;
  decodeTokS: number;
  /** Counters of the last decode step. */
  dispatches: number;
  submits: number;
  bytesUploaded: number;
  bytesReadBack: number;
}

export interface RunnerBenchResult {
  adapter: string;
  precision: string;
  options: RunnerBenchOptions;
  rows: RunnerRow[];
}

/** The adapter's name as the runner reports it, and whether it is a software one (SwiftShader). */
export async function benchAdapter(gpu: GPU): Promise<{ name: string; software: boolean }> {
  const ctx = await createGpuContext({ gpu, precision: 'f32' });
  try {
    return { name: ctx.adapterName, software: ctx.software };
  } finally {
    ctx.destroy();
  }
}

function step(tokens: number[], startPos: number, blockTable: Int32Array): StepInput {
  return {
    tokenIds: Int32Array.from(tokens),
    positions: Int32Array.from(tokens.map((_, i) => startPos + i)),
    sequences: [{ queryStart: 0, queryLength: tokens.length, contextLength: startPos + tokens.length, blockTable, sample: true, sampling: GREEDY, sampleIndex: 0 }],
  };
}

async function load(ctx: DeviceContext, input: SourceInput): Promise<{ runner: GpuModelRunner; params: number }> {
  const source = await openSource(input);
  try {
    const gguf = await readGGUF(source);
    const config = modelConfigFromGGUF(gguf);
    const params = gguf.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    const runner = await createGpuRunner({ ctx, gguf, source, config, kvCacheBytes: 64 << 20 });
    return { runner, params };
  } finally {
    await source.close?.();
  }
}

async function measureOne(ctx: DeviceContext, m: RunnerBenchModel, o: RunnerBenchOptions): Promise<RunnerRow> {
  const { runner, params } = await load(ctx, m.model);
  try {
    const vocab = runner.config.vocabSize;
    const total = o.prefillTokens + o.decodeSteps + 1;
    const blockTable = Int32Array.from({ length: Math.ceil(total / 16) }, (_, i) => i);
    const prompt = Array.from({ length: o.prefillTokens }, (_, i) => (i === 0 ? 1 : 3 + ((i * 37) % (vocab - 3))));
    // Warm-up: the same shapes once (pipelines for both matmul variants compiled, buffers sized).
    const warm = await runner.step(step(prompt, 0, blockTable));
    await runner.step(step([warm.sampled[0]!.tokenId], o.prefillTokens, blockTable));
    const t0 = performance.now();
    let out = await runner.step(step(prompt, 0, blockTable));
    const prefillMs = performance.now() - t0;
    let pos = o.prefillTokens;
    const t1 = performance.now();
    for (let i = 0; i < o.decodeSteps; i++) {
      out = await runner.step(step([out.sampled[0]!.tokenId], pos, blockTable));
      pos++;
    }
    const decodeMs = performance.now() - t1;
    const s = runner.lastStepStats!;
    const w = runner.weightBytes;
    return {
      model: m.name,
      params,
      weightsGpuBytes: w.gpu,
      weightsFileBytes: w.file,
      prefillTokS: (o.prefillTokens * 1000) / prefillMs,
      decodeTokS: (o.decodeSteps * 1000) / decodeMs,
      dispatches: s.dispatches,
      submits: s.submits,
      bytesUploaded: s.bytesUploaded,
      bytesReadBack: s.bytesReadBack,
    };
  } finally {
    runner.destroy();
  }
}

/** Measures each model in turn on one device (f32 path). */
export async function measureRunner(gpu: GPU, models: RunnerBenchModel[], options: RunnerBenchOptions): Promise<RunnerBenchResult> {
  const ctx = await createGpuContext({ gpu, precision: 'f32' });
  try {
    const rows: RunnerRow[] = [];
    for (const m of models) rows.push(await measureOne(ctx, m, options));
    return { adapter: ctx.adapterName, precision: ctx.precision, options, rows };
  } finally {
    ctx.destroy();
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(2);
}

/** The markdown report; `host` names where it ran ("Node v20…, Dawn", "Chromium 1…, headless"). */
export function runnerReport(r: RunnerBenchResult, host: string): string {
  const lines = [
    `Host: ${host}. WebGPU adapter: ${r.adapter} (precision ${r.precision}).`,
    `Prefill: one step of ${r.options.prefillTokens} tokens. Decode: ${r.options.decodeSteps} steps of one token; per-step columns are the last decode step.`,
    '',
    '| model | params | weights on GPU (MiB) | tensor bytes in file (MiB) | GPU/file | prefill tok/s | decode tok/s | dispatches/step | submits/step | bytes uploaded/step | bytes read back/step |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const x of r.rows) {
    lines.push(
      `| ${x.model} | ${(x.params / 1e6).toFixed(2)}M | ${mib(x.weightsGpuBytes)} | ${mib(x.weightsFileBytes)} | ${(x.weightsGpuBytes / x.weightsFileBytes).toFixed(4)} | ` +
        `${x.prefillTokS.toFixed(1)} | ${x.decodeTokS.toFixed(2)} | ${x.dispatches} | ${x.submits} | ${x.bytesUploaded} | ${x.bytesReadBack} |`,
    );
  }
  return lines.join('\n');
}

/** The ~100M-parameter Q4_0 llama of issue #4 (dim 768, ffn 2048, vocab 32000, 12 layers); `layers` to run fewer. */
export function model100MOptions(layers: number) {
  return { arch: 'llama', vocab: 32000, dim: 768, layers, heads: 12, kvHeads: 12, ffn: 2048, quant: 'Q4_0', seed: 1 } as const;
}
