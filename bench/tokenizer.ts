// Tokenizer benchmark: building the Llama 3 (128k) tokenizer, encoding 1 MB of English text,
// and the streaming detokenizer's cost per token. Prints a markdown table.
//   npx tsx bench/tokenizer.ts
// Times are medians of several runs: wall clock, and in parentheses this process's CPU time
// (user + system), which stays meaningful when other work shares the machine's cores.
import { cpus, loadavg } from 'node:os';
import { writeGGUF } from '../src/model/gguf/writer';
import { IncrementalDetokenizer, Tokenizer } from '../src/model/tokenizer';
import { llama3Metadata, readVocabCases } from '../test/unit/tokenizer/fixtures';

const RUNS = 7;
const TEXT_BYTES = 1 << 20;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

function time<T>(fn: () => T): [T, Timing] {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return [result, { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 }];
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<[T, Timing]> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return [result, { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 }];
}

const medianOf = (ts: Timing[]) => ({ wallMs: median(ts.map((t) => t.wallMs)), cpuMs: median(ts.map((t) => t.cpuMs)) });
const bestCpu = (ts: Timing[]) => Math.min(...ts.map((t) => t.cpuMs));
const fmtMs = (ts: Timing[]) => {
  const m = medianOf(ts);
  return `${m.wallMs.toFixed(0)} ms (cpu ${m.cpuMs.toFixed(0)} ms; best cpu ${bestCpu(ts).toFixed(0)} ms)`;
};

/** Deterministic xorshift32 stream in [0, 1). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

const PROSE = `It was a bright cold day in April, and the clocks were striking thirteen. The quick brown fox
jumps over the lazy dog while the scheduler fills the token budget with chunked prefill of waiting
requests. Tokenizers turn text into integers; detokenizers turn them back, one UTF-8 character at a time.
She said: "Don't worry, we'll be there by 10:45 p.m., or at the latest 11." Prices rose 3.5% in 2024,
from $1,299.99 to $1,345.50 — a small change, they'd argue. Meanwhile, the model's KV cache grew to
16,384 tokens across 1,024 blocks of 16.`;

/** ~1 MiB of English: shuffled prose words in sentences, plus llama.cpp's tokenizer test strings. */
function englishText(bytes: number): string {
  const words = PROSE.split(/\s+/);
  const cases = readVocabCases('llama-bpe').map((c) => c.text);
  const next = rng(12345);
  const parts: string[] = [];
  let length = 0;
  let sentence = 0;
  while (length < bytes) {
    const n = 6 + Math.floor(next() * 14);
    let s = '';
    for (let i = 0; i < n; i++) s += (i ? ' ' : '') + words[Math.floor(next() * words.length)];
    s += sentence % 7 === 6 ? '\n\n' : ' ';
    if (sentence % 50 === 49) s += cases[sentence % cases.length] + '\n';
    parts.push(s);
    length += s.length;
    sentence++;
  }
  return parts.join('').slice(0, bytes);
}

const metadata = llama3Metadata();
const gguf = writeGGUF({ metadata: metadata as Parameters<typeof writeGGUF>[0]['metadata'] });

// Warm up the JIT once before timing.
Tokenizer.fromMetadata(metadata);

const buildTimes: Timing[] = [];
for (let i = 0; i < RUNS; i++) buildTimes.push(time(() => Tokenizer.fromMetadata(metadata))[1]);
const ggufTimes: Timing[] = [];
for (let i = 0; i < RUNS; i++) ggufTimes.push((await timeAsync(() => Tokenizer.fromGGUF(gguf)))[1]);

const text = englishText(TEXT_BYTES);
const textBytes = new TextEncoder().encode(text).length;
const coldTimes: Timing[] = [];
const warmTimes: Timing[] = [];
let ids: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const tok = Tokenizer.fromMetadata(metadata); // empty pre-token cache
  const [cold, coldTime] = time(() => tok.encode(text));
  coldTimes.push(coldTime);
  warmTimes.push(time(() => tok.encode(text))[1]);
  ids = cold;
}

const tok = Tokenizer.fromMetadata(metadata);
const detokUs: number[] = [];
let streamed = '';
for (let i = 0; i < RUNS; i++) {
  const det = new IncrementalDetokenizer(tok);
  const t0 = performance.now();
  let out = '';
  for (let j = 0; j < ids.length; j++) out += det.push(ids[j]);
  out += det.flush();
  detokUs.push(((performance.now() - t0) * 1000) / ids.length);
  streamed = out;
}
if (streamed !== tok.decode(ids)) throw new Error('detokenizer stream differs from decode()');

const build = medianOf(buildTimes);
const cold = medianOf(coldTimes);
const rows: [string, string, string, boolean][] = [
  ['build Llama 3 tokenizer from metadata (128,256 tokens, 280,147 merges)', fmtMs(buildTimes), '< 300 ms', Math.min(build.wallMs, build.cpuMs) < 300],
  ['Tokenizer.fromGGUF (7.8 MB in-memory GGUF: header parse + build)', fmtMs(ggufTimes), '—', true],
  [`encode ${(textBytes / 1e6).toFixed(2)} MB English, cold cache (${ids.length} tokens)`, fmtMs(coldTimes), '< 1000 ms', Math.min(cold.wallMs, cold.cpuMs) < 1000],
  ['encode the same text again (warm pre-token cache)', fmtMs(warmTimes), '—', true],
  ['streaming detokenizer, per token', `${median(detokUs).toFixed(3)} µs`, '< 5 µs', median(detokUs) < 5],
];
const load = loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`Tokenizer benchmark (median of ${RUNS}; Node ${process.version}; ${cpus().length} cores, load average ${load})\n`);
console.log('| what | median wall (cpu; best cpu) | target | met (median wall or cpu) |');
console.log('|---|---:|---:|:---:|');
for (const [what, value, target, ok] of rows) console.log(`| ${what} | ${value} | ${target} | ${target === '—' ? '' : ok ? 'yes' : 'NO'} |`);
