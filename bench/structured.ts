// Structured-output benchmark (#16): what constrained decoding costs.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/structured.ts
//   STRUCTURED_BENCH=masks … bench/structured.ts   (parts 1 and 2 only: a minute, not ten)
// 1. schema compile time over the test schemas (test/helpers/json-schemas.ts), p50 / p99,
//    with the one-time start (XGrammar loaded, TokenizerInfo built) apart;
// 2. mask time per sequence per token (SequenceMatcher.nextMask: XGrammar's bitmask + the
//    UTF-8 filter), p50 / p99, while walking each schema's grammar with allowed tokens: CPU
//    time (process.cpuUsage, what the target counts) and wall time (which on a loaded
//    machine also counts the time the process waited for a core);
// 3. engine step time, constrained ('string' schema, which never ends on its own) against
//    unconstrained, at batch 1 and 16, on the WebGPU runner (this machine's adapter).
// Vocabularies: stories260K (SentencePiece, 512 tokens) and Llama 3's (byte-level, 128,256 tokens,
// a generated model with tiny dims).
import { resolve } from 'node:path';
import { createEngine } from '../src/create-engine';
import type { EngineCore } from '../src/engine/core';
import { GREEDY } from '../src/engine/types';
import { GrammarCompilerService } from '../src/grammar/compiler';
import { grammarVocab } from '../src/grammar/vocab';
import { createNodeGPU } from '../src/gpu/node-gpu';
import type { GGUFMetadata } from '../src/model/gguf/types';
import type { MetaInput } from '../src/model/gguf/writer';
import { Tokenizer } from '../src/model/tokenizer';
import { engineCore } from '../test/helpers/engine-core';
import { SCHEMA_CASES } from '../test/helpers/json-schemas';
import { makeTestModel } from '../test/helpers/test-model';
import { FIXTURES, llama3Metadata } from '../test/unit/tokenizer/fixtures';
import { machineLoad, nodeHost } from './lib/node-bench';

const STEPS = 24;

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}
const fmt = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(1)} ms`);

interface VocabCase {
  name: string;
  tokenizer: Tokenizer;
  model: () => Uint8Array | string;
}

function llama3Model(): Uint8Array {
  const md = llama3Metadata();
  const tokenizer: Record<string, MetaInput> = {};
  for (const [k, v] of Object.entries(md)) if (k.startsWith('tokenizer.')) tokenizer[k] = v as MetaInput;
  return makeTestModel({ arch: 'llama', vocab: 128256, dim: 64, layers: 2, heads: 4, kvHeads: 4, ffn: 128, quant: 'F32', seed: 1, tokenizer, contextLength: 1024 });
}

async function compileAndMask(v: VocabCase): Promise<string[]> {
  const svc = new GrammarCompilerService(() => grammarVocab(v.tokenizer));
  const t0 = performance.now();
  await svc.compile({ kind: 'json_object' });
  const startMs = performance.now() - t0;
  const compileMs: number[] = [];
  const maskMs: number[] = [];
  const maskCpuMs: number[] = [];
  for (const c of SCHEMA_CASES) {
    const t = performance.now();
    const compiled = await svc.compile({ kind: 'json_schema', schema: JSON.stringify(c.schema) });
    compileMs.push(performance.now() - t);
    const m = await compiled.createMatcher();
    const buffer = new Uint32Array(Math.ceil(svc.grammarVocab.vocabSize / 32)); // reused, as the engine does
    // Walk up to 64 tokens: each step takes the allowed token `k * 7919 mod numAllowed` (spread, deterministic).
    for (let k = 0; k < 64 && !m.isTerminated; k++) {
      const cpu1 = process.cpuUsage();
      const t1 = performance.now();
      const mask = await m.nextMask(buffer);
      maskMs.push(performance.now() - t1);
      const cpu = process.cpuUsage(cpu1);
      maskCpuMs.push((cpu.user + cpu.system) / 1000);
      const allowed: number[] = [];
      for (let w = 0; w < mask.length; w++) for (let bits = mask[w]; bits !== 0; bits &= bits - 1) allowed.push(w * 32 + 31 - Math.clz32(bits & -bits));
      if (!m.accept(allowed[(k * 7919) % allowed.length])) throw new Error('an allowed token was refused');
    }
    m.dispose();
  }
  return [
    `| ${v.name} | ${fmt(startMs)} | ${fmt(quantile(compileMs, 0.5))} | ${fmt(quantile(compileMs, 0.99))} | ${fmt(quantile(maskCpuMs, 0.5))} | ${fmt(quantile(maskCpuMs, 0.99))} | ${fmt(quantile(maskMs, 0.5))} | ${fmt(quantile(maskMs, 0.99))} | ${maskMs.length} |`,
  ];
}

/** ms per engine step with `batch` requests of STEPS tokens each, constrained or not. */
async function stepMs(core: EngineCore, prompt: number[], batch: number, constrained: boolean): Promise<number> {
  const run = async (i: number) => {
    const stream = core.addRequest({
      promptIds: [...prompt, i + 3], maxTokens: STEPS, ignoreEos: true, sampling: GREEDY,
      constraint: constrained ? { kind: 'json_schema', schema: '{"type": "string"}' } : undefined,
    });
    await stream.collect();
  };
  await Promise.all(Array.from({ length: batch }, (_, i) => run(i))); // warm (compile, pipelines)
  const steps0 = core.stats().numSteps;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: batch }, (_, i) => run(i + 100)));
  return (performance.now() - t0) / (core.stats().numSteps - steps0);
}

async function steps(v: VocabCase): Promise<string[]> {
  const engine = await createEngine({ model: v.model(), gpu: await createNodeGPU(), kvCacheBytes: 32 << 20 });
  try {
    const core = engineCore(engine);
    const prompt = v.tokenizer.encode('Once upon a time');
    const rows: string[] = [];
    for (const batch of [1, 16]) {
      const plain = await stepMs(core, prompt, batch, false);
      const constrained = await stepMs(core, prompt, batch, true);
      rows.push(`| ${v.name} | ${batch} | ${plain.toFixed(2)} ms | ${constrained.toFixed(2)} ms | ${(constrained / plain).toFixed(2)} |`);
    }
    return rows;
  } finally {
    await engine.destroy();
  }
}

const vocabs: VocabCase[] = [
  { name: 'stories260K (SPM, 512)', tokenizer: await Tokenizer.fromGGUF(resolve(FIXTURES, 'stories260K/stories260K.gguf')), model: () => resolve(FIXTURES, 'stories260K/stories260K.gguf') },
  { name: 'Llama 3 vocab (BPE, 128,256)', tokenizer: Tokenizer.fromMetadata(llama3Metadata() as GGUFMetadata), model: llama3Model },
];

const compileRows: string[] = [];
for (const v of vocabs) compileRows.push(...(await compileAndMask(v)));
const masksOnly = process.env.STRUCTURED_BENCH === 'masks';
const stepRows: string[] = [];
if (!masksOnly) for (const v of vocabs) stepRows.push(...(await steps(v)));

console.log(`${nodeHost()}; ${machineLoad()}. ${SCHEMA_CASES.length} schemas.\n`);
console.log('| vocabulary | start (load + TokenizerInfo) | compile p50 | compile p99 | mask / seq / token CPU p50 | mask CPU p99 | mask wall p50 | mask wall p99 | masks timed |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const r of compileRows) console.log(r);
if (masksOnly) process.exit(0);
console.log(`\nEngine steps (greedy, ${STEPS} tokens per request, warm; constrained = JSON string schema, masks on every row):\n`);
console.log('| model | batch | unconstrained step | constrained step | ratio |');
console.log('|---|---|---|---|---|');
for (const r of stepRows) console.log(r);
