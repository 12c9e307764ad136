// GPU runner benchmark: per decode step dispatches, submits, bytes uploaded and read back;
// prefill and decode tokens/s; weight bytes on the GPU vs in the file. Prints markdown tables.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/runner.ts
// Models: stories260K (real, ../shared/fixtures) and a generated Q4_0 llama of ~100M
// parameters (dim 768, ffn 2048, vocab 32000, 12 layers). On a software adapter
// (SwiftShader) the generated model gets fewer layers (TABLLM_BENCH_LAYERS, default 2
// there) so the run ends in minutes; the table says how many layers ran.
import { loadavg } from 'node:os';
import { GREEDY, type StepInput } from '../src/engine/types';
import { createGpuContext, type DeviceContext } from '../src/gpu/device';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { createGpuRunner, type GpuModelRunner } from '../src/gpu/runner';
import { modelConfigFromGGUF } from '../src/model/config';
import { readGGUF } from '../src/model/gguf/reader';
import { openSource, type SourceInput } from '../src/model/gguf/source';
import { makeTestModel } from '../test/helpers/test-model';

const PREFILL_TOKENS = Number(process.env.TABLLM_BENCH_PREFILL ?? 64);
const DECODE_STEPS = Number(process.env.TABLLM_BENCH_DECODE ?? 16);

interface Row {
  model: string;
  params: string;
  weightsGpuMiB: string;
  weightsFileMiB: string;
  ratio: string;
  prefillTokS: string;
  decodeTokS: string;
  dispatches: number;
  submits: number;
  uploadedB: number;
  readBackB: number;
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(2);
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
  const gguf = await readGGUF(source);
  const config = modelConfigFromGGUF(gguf);
  const params = gguf.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  try {
    const runner = await createGpuRunner({ ctx, gguf, source, config, kvCacheBytes: 64 << 20 });
    return { runner, params };
  } finally {
    await source.close?.();
  }
}

async function measure(name: string, ctx: DeviceContext, input: SourceInput): Promise<Row> {
  const { runner, params } = await load(ctx, input);
  try {
    const vocab = runner.config.vocabSize;
    const total = PREFILL_TOKENS + DECODE_STEPS + 1;
    const blockTable = Int32Array.from({ length: Math.ceil(total / 16) }, (_, i) => i);
    const prompt = Array.from({ length: PREFILL_TOKENS }, (_, i) => (i === 0 ? 1 : 3 + ((i * 37) % (vocab - 3))));
    // Warm-up: the same shapes once (pipelines for both matmul variants compiled, buffers sized).
    const warm = await runner.step(step(prompt, 0, blockTable));
    await runner.step(step([warm.sampled[0].tokenId], PREFILL_TOKENS, blockTable));
    const t0 = performance.now();
    let out = await runner.step(step(prompt, 0, blockTable));
    const prefillMs = performance.now() - t0;
    let pos = PREFILL_TOKENS;
    const t1 = performance.now();
    for (let i = 0; i < DECODE_STEPS; i++) {
      out = await runner.step(step([out.sampled[0].tokenId], pos, blockTable));
      pos++;
    }
    const decodeMs = performance.now() - t1;
    const s = runner.lastStepStats!;
    const w = runner.weightBytes;
    return {
      model: name,
      params: `${(params / 1e6).toFixed(2)}M`,
      weightsGpuMiB: mib(w.gpu),
      weightsFileMiB: mib(w.file),
      ratio: (w.gpu / w.file).toFixed(4),
      prefillTokS: ((PREFILL_TOKENS * 1000) / prefillMs).toFixed(1),
      decodeTokS: ((DECODE_STEPS * 1000) / decodeMs).toFixed(2),
      dispatches: s.dispatches,
      submits: s.submits,
      uploadedB: s.bytesUploaded,
      readBackB: s.bytesReadBack,
    };
  } finally {
    runner.destroy();
  }
}

const ctx = await createGpuContext({ gpu: await createNodeGPU(), precision: 'f32' });
const software = /swiftshader/i.test(ctx.adapterName);
const layers = Number(process.env.TABLLM_BENCH_LAYERS ?? (software ? 2 : 12));
const rows: Row[] = [];
rows.push(await measure('stories260K (F32)', ctx, '../shared/fixtures/stories260K/stories260K.gguf'));
const generated = makeTestModel({ arch: 'llama', vocab: 32000, dim: 768, layers, heads: 12, kvHeads: 12, ffn: 2048, quant: 'Q4_0', seed: 1 });
rows.push(await measure(`generated llama Q4_0, ${layers} of 12 layers`, ctx, generated));
ctx.destroy();

console.log(`Adapter: ${ctx.adapterName} (precision f32); Node ${process.version}; load average ${loadavg()[0].toFixed(1)}.`);
console.log(`Prefill: one step of ${PREFILL_TOKENS} tokens. Decode: ${DECODE_STEPS} steps of one token; per-step columns are the last decode step.\n`);
console.log('| model | params | weights on GPU (MiB) | tensor bytes in file (MiB) | GPU/file | prefill tok/s | decode tok/s | dispatches/step | submits/step | bytes uploaded/step | bytes read back/step |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(`| ${r.model} | ${r.params} | ${r.weightsGpuMiB} | ${r.weightsFileMiB} | ${r.ratio} | ${r.prefillTokS} | ${r.decodeTokS} | ${r.dispatches} | ${r.submits} | ${r.uploadedB} | ${r.readBackB} |`);
}
process.exit(0);
