// Embedding throughput: 256 short texts on a generated bge-small-shaped model (bert, 12
// layers, hidden 384, 12 heads, FFN 1536, the bge WordPiece vocabulary, CLS pooling, random
// F16 weights: test/helpers/test-embed-model.ts writeBgeSmallModel), embedded
//   one request at a time (one text each, awaited in turn),
//   in one batched request (all 256 texts in `input`),
//   by 16 concurrent clients (one text per request; the EmbedQueue gathers what waits),
// through engine.embeddings.create (tokenize → EmbedQueue → runner.embed → unit vectors).
// Target: batched ≥ 8× one-at-a-time. Prints a markdown table with wall and CPU seconds (the
// process's own CPU time: on SwiftShader, the work itself, whatever else loads the machine).
//   node --import tsx --import ./scripts/raw-loader.mjs bench/embeddings.ts
// Env: TABLLM_BENCH_EMBED_TEXTS (default 256).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine } from '../src/create-engine';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { writeBgeSmallModel } from '../test/helpers/test-embed-model';
import { machineLoad, nodeHost } from './lib/node-bench';

const NUM_TEXTS = Number(process.env.TABLLM_BENCH_EMBED_TEXTS ?? 256);
const CONCURRENCY = 16;
const TOPICS = ['the weather', 'a recipe', 'train times', 'a football match', 'the stock market', 'a new phone', 'gardening', 'a museum visit'];
const texts = Array.from({ length: NUM_TEXTS }, (_, i) => `note ${i}: a short remark about ${TOPICS[i % TOPICS.length]}`);

const log = (msg: string) => console.error(`[embeddings] ${msg}`);
const loadAtStart = machineLoad();
const dir = await mkdtemp(join(tmpdir(), 'tabllm-bench-embed-'));
const path = join(dir, 'bge-small-random-f16.gguf');
await writeBgeSmallModel(path);
const engine = await createEngine({ model: path, gpu: await createNodeGPU() });
const info = await engine.info();
log(`${info.id}: ${info.arch}, ${info.quant}, dim ${info.embeddingDim}, context ${info.contextLength}`);

await engine.embeddings.create({ input: texts.slice(0, 2) }); // warm-up (the pipelines were compiled at load)
let tokens = 0;

/** Wall seconds, and this process's CPU seconds: SwiftShader runs in-process, so CPU time is the work done, steadier than wall time when other processes share the cores. */
async function timed(run: () => Promise<unknown>): Promise<{ seconds: number; cpuSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await run();
  const cpu = process.cpuUsage(cpu0);
  return { seconds: (performance.now() - t0) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const batchesBefore = async () => (await engine.stats()).embedBatches ?? 0;
const rows: { mode: string; seconds: number; cpuSeconds: number; calls: number }[] = [];
async function measure(mode: string, run: () => Promise<unknown>): Promise<void> {
  const before = await batchesBefore();
  const t = await timed(run);
  rows.push({ mode, ...t, calls: (await batchesBefore()) - before });
  log(`${mode}: ${t.seconds.toFixed(2)} s (CPU ${t.cpuSeconds.toFixed(2)} s)`);
}

await measure('one request at a time', async () => {
  for (const input of texts) await engine.embeddings.create({ input });
});
await measure('one batched request', async () => {
  tokens = (await engine.embeddings.create({ input: texts })).usage.prompt_tokens;
});
await measure(`${CONCURRENCY} concurrent clients`, async () => {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < texts.length) await engine.embeddings.create({ input: texts[next++]! });
  }));
});
await engine.destroy();
await rm(dir, { recursive: true, force: true });

const base = rows[0]!;
console.log(`# Embeddings benchmark (Node, Dawn)\n`);
console.log(`${nodeHost()}; ${loadAtStart} at start, ${machineLoad()} at end.`);
console.log(`Model: generated bge-small shape (bert, 12 layers, hidden 384, F16, CLS pooling), ${NUM_TEXTS} texts, ${tokens} tokens in all. Target: batched ≥ 8× one at a time.\n`);
console.log('| mode | runner calls | seconds | texts/s | × one at a time | CPU seconds | × one at a time (CPU) |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.mode} | ${r.calls} | ${r.seconds.toFixed(2)} | ${(NUM_TEXTS / r.seconds).toFixed(2)} | ${(base.seconds / r.seconds).toFixed(2)}× | ` +
      `${r.cpuSeconds.toFixed(2)} | ${(base.cpuSeconds / r.cpuSeconds).toFixed(2)}× |`,
  );
}
process.exit(0);
