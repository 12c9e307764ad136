// Generates the full-size models of `npm run bench:gpu` (bench/lib/gpu-models.ts) on every
// core: the tensors are cut into pieces of whole rows, split among child processes; each
// draws its pieces' values (test-model.ts testModelPlan: each from its own place in the
// seeded sequence) and encodes them; this process writes the file from their bytes. The
// file is byte for byte the one makeTestModel writes, at the path the benchmark reads
// (bench/lib/node-bench.ts). One core takes ~10 minutes for the Llama-3.2-1B shape.
//   node --import tsx --import ./scripts/raw-loader.mjs scripts/gen-bench-models.ts qwen|llama [--jobs N]
// (scripts/device/run.sh runs the bundled copy, .gpucarry/gen-bench-models.mjs.)
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { availableParallelism } from 'node:os';
import { quantize } from '../src/model/gguf/quantize';
import { tensorByteLength } from '../src/model/gguf/quant';
import { writeGGUF, type TensorInput } from '../src/model/gguf/writer';
import { LLAMA_1B, QWEN_05B, type BenchModelSpec } from '../bench/lib/gpu-models';
import { benchModelPath, writeBenchModel } from '../bench/lib/node-bench';
import { testModelPlan, type PlannedTensor } from '../test/helpers/test-model';

const SPECS: Record<string, BenchModelSpec> = { qwen: QWEN_05B, llama: LLAMA_1B };

/** A piece of one tensor: whole rows, `count` values from element `from` (rows are encoded independently). */
interface Unit {
  tensor: number;
  from: number;
  count: number;
}

/** Values per unit at most: the embedding (a fifth of the Llama shape) must not bound the run. */
const UNIT_VALUES = 1 << 23;

/** The tensors cut into units of whole rows, each assigned to a job, largest first onto the least-loaded (the same in every process). */
function split(tensors: PlannedTensor[], jobs: number): Unit[][] {
  const units: Unit[] = [];
  tensors.forEach((t, tensor) => {
    const rowLength = t.shape[0]!;
    const total = t.shape.reduce((a, b) => a * b, 1);
    const step = Math.max(1, Math.floor(UNIT_VALUES / rowLength)) * rowLength;
    for (let from = 0; from < total; from += step) units.push({ tensor, from, count: Math.min(step, total - from) });
  });
  const parts = Array.from({ length: jobs }, () => ({ load: 0, units: [] as Unit[] }));
  const bySize = units.map((u, i) => ({ u, i })).sort((a, b) => b.u.count - a.u.count || a.i - b.i);
  for (const { u } of bySize) {
    const least = parts.reduce((m, p) => (p.load < m.load ? p : m));
    least.load += u.count;
    least.units.push(u);
  }
  return parts.map((p) => p.units);
}

const partFile = (file: string, job: number) => `${file}.job${job}`;

/** A child: encodes its units and writes their bytes, one after another, into its part file. */
function encodePart(spec: BenchModelSpec, job: number, jobs: number): void {
  const plan = testModelPlan(spec.options);
  const chunks = split(plan.tensors, jobs)[job]!.map((u) => quantize(plan.tensors[u.tensor]!.type, plan.tensors[u.tensor]!.values(u.from, u.count)));
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  writeFileSync(partFile(benchModelPath(spec), job), out);
}

function runChild(key: string, job: number, jobs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, key, '--part', String(job), '--jobs', String(jobs)], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`part ${job} of ${key} exited with ${code}`))));
  });
}

async function generate(key: string, spec: BenchModelSpec, jobs: number): Promise<string> {
  const file = benchModelPath(spec);
  if (existsSync(file)) return file;
  const plan = testModelPlan(spec.options);
  const parts = split(plan.tensors, jobs);
  mkdirSync(dirname(file), { recursive: true }); // the jobs write their parts beside it
  try {
    await Promise.all(parts.map((_, job) => runChild(key, job, jobs)));
    // Each tensor's bytes: its units' bytes at their offsets (a unit's bytes start at the encoded length of the values before it).
    const data = plan.tensors.map((t) => new Uint8Array(tensorByteLength(t.type, t.shape.reduce((a, b) => a * b, 1))));
    parts.forEach((units, job) => {
      const bytes = readFileSync(partFile(file, job));
      let at = 0;
      for (const u of units) {
        const type = plan.tensors[u.tensor]!.type;
        const length = tensorByteLength(type, u.count);
        data[u.tensor]!.set(bytes.subarray(at, at + length), tensorByteLength(type, u.from));
        at += length;
      }
      if (at !== bytes.byteLength) throw new Error(`part ${job} of ${key}: ${bytes.byteLength} bytes, ${at} expected`);
    });
    const tensors: TensorInput[] = plan.tensors.map((t, i) => ({ name: t.name, type: t.type, shape: t.shape, data: data[i]! }));
    return writeBenchModel(spec, writeGGUF({ metadata: plan.metadata, tensors }));
  } finally {
    for (let job = 0; job < jobs; job++) rmSync(partFile(file, job), { force: true });
  }
}

const args = process.argv.slice(2);
const key = args[0] ?? '';
const spec = SPECS[key];
const flag = (name: string) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : undefined);
const jobs = flag('--jobs') ?? Math.max(1, Math.min(16, availableParallelism()));
if (!spec || !Number.isInteger(jobs) || jobs < 1) {
  console.error(`usage: gen-bench-models ${Object.keys(SPECS).join('|')} [--jobs N]`);
  process.exit(2);
}
const part = flag('--part');
if (part !== undefined && !(Number.isInteger(part) && part >= 0 && part < jobs)) {
  console.error(`gen-bench-models: --part must be a job number below --jobs (${jobs})`);
  process.exit(2);
}
if (part !== undefined) {
  encodePart(spec, part, jobs);
} else {
  const started = Date.now();
  const file = await generate(key, spec, jobs);
  console.log(`${spec.name}: ${file} (${jobs} jobs, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
