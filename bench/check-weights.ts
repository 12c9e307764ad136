// Cost of the NaN/Inf weight check (src/model/gguf/finite.ts) that every model load runs:
// a generated ~110M-parameter llama (dim 768, 12 layers, ffn 2048, vocab 16000) in F32, F16,
// Q8_0 and Q4_K, every tensor scanned the way the loader does (the bytes it holds anyway).
// Next to it, a copy of the same bytes — the least a load does with them — for scale.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/check-weights.ts
// Times are medians of RUNS runs: wall clock, and in parentheses this process's CPU time.
import { cpus } from 'node:os';
import { findNonFinite } from '../src/model/gguf/finite';
import { readGGUF } from '../src/model/gguf/reader';
import { makeTestModel, type TestQuant } from '../test/helpers/test-model';

const RUNS = 5;
const QUANTS: TestQuant[] = ['F32', 'F16', 'Q8_0', 'Q4_K'];
const SHAPE = { arch: 'llama', vocab: 16000, dim: 768, layers: 12, heads: 12, kvHeads: 12, ffn: 2048 } as const;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timed(fn: () => void): { wallMs: number; cpuMs: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

function fmt(runs: { wallMs: number; cpuMs: number }[]): string {
  return `${median(runs.map((r) => r.wallMs)).toFixed(0)} (${median(runs.map((r) => r.cpuMs)).toFixed(0)})`;
}

console.log(`# NaN/Inf weight check cost (${cpus()[0]?.model ?? 'cpu'}, ${cpus().length} cores, node ${process.version})\n`);
console.log('| file | parameters | tensor MiB | check ms (cpu) | check GB/s | copy ms (cpu) |');
console.log('|---|---|---|---|---|---|');
for (const quant of QUANTS) {
  const file = makeTestModel({ ...SHAPE, quant, seed: 1 });
  const gguf = await readGGUF(file);
  const tensors = gguf.tensors.map((t) => ({ type: t.type, bytes: file.subarray(t.offset, t.offset + t.byteLength) }));
  const params = gguf.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  const bytes = tensors.reduce((s, t) => s + t.bytes.byteLength, 0);
  const check: { wallMs: number; cpuMs: number }[] = [];
  const copy: { wallMs: number; cpuMs: number }[] = [];
  for (let r = 0; r < RUNS; r++) {
    check.push(timed(() => {
      for (const t of tensors) if (findNonFinite(t.type, t.bytes)) throw new Error('generated weights are finite');
    }));
    copy.push(timed(() => {
      for (const t of tensors) t.bytes.slice();
    }));
  }
  const gbps = bytes / 1e9 / (median(check.map((c) => c.wallMs)) / 1000);
  console.log(`| ${quant} | ${(params / 1e6).toFixed(1)} M | ${(bytes / 2 ** 20).toFixed(0)} | ${fmt(check)} | ${gbps.toFixed(2)} | ${fmt(copy)} |`);
}
console.log('\nQuantized types scan only each block\'s f16 d/min fields (one per 32 or 256 weights), which is the whole check for them.');
