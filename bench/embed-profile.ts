// Where an embedding batch's GPU time goes: every dispatch of GpuEncoderRunner.embed timed
// with timestamp queries, summed per pipeline, for one short text and for a batch of N.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/embed-profile.ts [N]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGpuContext } from '../src/gpu/device';
import { createGpuEncoderRunner } from '../src/gpu/encoder-runner';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { modelConfigFromGGUF } from '../src/model/config';
import { readGGUF } from '../src/model/gguf/reader';
import { openSource } from '../src/model/gguf/source';
import { Tokenizer } from '../src/model/tokenizer';
import { writeBgeSmallModel } from '../test/helpers/test-embed-model';

const N = Number(process.argv[2] ?? 16);
const REPEATS = Number(process.env.TABLLM_BENCH_REPEATS ?? 3);
const TOPICS = ['the weather', 'a recipe', 'train times', 'a football match', 'the stock market', 'a new phone', 'gardening', 'a museum visit'];
const texts = Array.from({ length: N }, (_, i) => `note ${i}: a short remark about ${TOPICS[i % TOPICS.length]}`);

const dir = await mkdtemp(join(tmpdir(), 'tabllm-embed-profile-'));
const path = join(dir, 'bge-small.gguf');
await writeBgeSmallModel(path);
const ctx = await createGpuContext({ gpu: await createNodeGPU() });
const source = await openSource(path);
const gguf = await readGGUF(source);
const config = modelConfigFromGGUF(gguf);
const runner = await createGpuEncoderRunner({ ctx, gguf, source, config });
const tok = Tokenizer.fromMetadata(gguf.metadata);
const seqs = texts.map((t) => Int32Array.from(tok.encode(t)));

async function run(label: string, sequences: Int32Array[]): Promise<void> {
  runner.profileSteps = false;
  await runner.embed({ sequences }); // warm-up
  // Best of REPEATS: other processes on the machine only ever add time. CPU: this process's
  // user + system time (SwiftShader runs in-process), steadier than wall time under load.
  let wall = Infinity;
  let cpu = Infinity;
  for (let r = 0; r < REPEATS; r++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await runner.embed({ sequences });
    wall = Math.min(wall, performance.now() - t0);
    const used = process.cpuUsage(cpu0);
    cpu = Math.min(cpu, (used.user + used.system) / 1000);
  }
  runner.profileSteps = ctx.features.timestamps === true;
  const sums = new Map<string, { ns: number; count: number }>();
  if (runner.profileSteps) {
    await runner.embed({ sequences });
    for (const d of runner.lastDispatchNs ?? []) {
      const e = sums.get(d.label) ?? { ns: 0, count: 0 };
      e.ns += d.ns;
      e.count++;
      sums.set(d.label, e);
    }
  }
  const tokens = sequences.reduce((s, x) => s + x.length, 0);
  const total = [...sums.values()].reduce((s, e) => s + e.ns, 0) / 1e6;
  console.log(`\n### ${label}: ${sequences.length} texts, ${tokens} tokens\n\nwall ${wall.toFixed(1)} ms, CPU ${cpu.toFixed(1)} ms (unprofiled, best of ${REPEATS}); GPU summed ${total.toFixed(1)} ms\n`);
  console.log('| pipeline | dispatches | GPU ms | share |\n|---|---|---|---|');
  for (const [label, e] of [...sums].sort((a, b) => b[1].ns - a[1].ns)) {
    console.log(`| ${label} | ${e.count} | ${(e.ns / 1e6).toFixed(2)} | ${((100 * e.ns) / 1e6 / total).toFixed(1)}% |`);
  }
}

console.log(`adapter: ${ctx.adapterName}; timestamps: ${ctx.features.timestamps}; software: ${ctx.software}`);
await run('one text', seqs.slice(0, 1));
await run(`batch`, seqs);
runner.destroy();
await rm(dir, { recursive: true, force: true });
process.exit(0);
