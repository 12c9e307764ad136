// Continuous batching throughput: aggregate decode tokens/s at concurrency 1, 4, 16, 32,
// in two regimes, and the KV waste at the end of the 32-way run. Prints markdown tables.
//   node --import tsx --import ./scripts/raw-loader.mjs bench/batching.ts
//
// Overhead regime — stories260K (real, ../shared/fixtures): compute is negligible, so
//   what is measured is the engine's per-step cost (the regime of a real GPU). Target ≥ 10× at 16.
// Compute regime — a generated ~28M-parameter Q4_0 llama (bench/lib/engine-bench.ts): on a
//   software adapter (SwiftShader, a few GFLOP/s) a step's time grows with its tokens. Target
//   ≥ 3× at 16; the adapter's own ceiling is printed beside it: one batch-16 pass over the
//   model's matmul weights against 16 batch-1 passes (src/kernels/matmul.ts directly).
// Env: TABLLM_BENCH_TOKENS (stories260K, default 32), TABLLM_BENCH_TOKENS_30M (default 8),
//   TABLLM_BENCH_SKIP_30M=1.
import { coreOf, machineLoad, model30M, openEngine, runConcurrent, STORIES, type ConcurrencyResult } from './lib/engine-bench';
import { matmulCeiling } from './lib/matmul-ceiling';
import type { LocalEngine } from '../src/engine/local-engine';

const CONCURRENCIES = [1, 4, 16, 32];
const STORY_TOKENS = Number(process.env.TABLLM_BENCH_TOKENS ?? 32);
const TOKENS_30M = Number(process.env.TABLLM_BENCH_TOKENS_30M ?? 8);

const NAMES = ['Lily', 'Tom', 'Ben', 'Mia', 'Sue', 'Max', 'Amy', 'Sam'];
const THINGS = ['a ball', 'a cat', 'a tree', 'the sea'];
function storyPrompt(i: number): string {
  return `${NAMES[i % NAMES.length]} saw ${THINGS[Math.floor(i / NAMES.length) % THINGS.length]}`;
}

async function regime(engine: LocalEngine, maxTokens: number): Promise<ConcurrencyResult[]> {
  // Warm-up: compiles every pipeline variant a batch of 32 uses.
  await runConcurrent(engine, 32, 2, storyPrompt);
  const rows: ConcurrencyResult[] = [];
  for (const c of CONCURRENCIES) rows.push(await runConcurrent(engine, c, maxTokens, storyPrompt));
  return rows;
}

function printRegime(title: string, rows: ConcurrencyResult[], maxTokens: number, target: number): void {
  const base = rows[0]!.decodeTokensPerSecond;
  console.log(`\n### ${title} (${maxTokens} tokens per request)\n`);
  console.log('| concurrency | decode tok/s (aggregate) | × concurrency 1 | decode steps timed | runner ms per step (median) | step-to-step ms (median) |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.concurrency} | ${r.decodeTokensPerSecond.toFixed(1)} | ${(r.decodeTokensPerSecond / base).toFixed(2)} | ${r.decodeSteps} | ` +
        `${r.msPerStep.toFixed(1)} | ${r.msPerStepEngine.toFixed(1)} |`,
    );
  }
  const at16 = rows.find((r) => r.concurrency === 16)!.decodeTokensPerSecond / base;
  console.log(`\n16 vs 1: ${at16.toFixed(2)}× (target ≥ ${target}×: ${at16 >= target ? 'met' : 'MISSED'})`);
}

function printWaste(title: string, r: ConcurrencyResult): void {
  const unused = r.kvSlotsAllocated - r.kvSlotsFilled;
  const bound = 15 * r.concurrency;
  console.log(
    `\nKV waste, ${title}, end of the ${r.concurrency}-way run: ${r.kvSlotsFilled} of ${r.kvSlotsAllocated} allocated slots hold a token ` +
      `(${((100 * r.kvSlotsFilled) / Math.max(1, r.kvSlotsAllocated)).toFixed(1)}%); ${unused} unused ≤ 15 × ${r.concurrency} = ${bound}: ${unused <= bound ? 'met' : 'MISSED'}`,
  );
}

async function main(): Promise<void> {
  console.log(`# Batching benchmark (Node, Dawn)\n\n${machineLoad()} at start`);
  const stories = await openEngine(STORIES, { kvCacheBytes: 8 << 20, enablePrefixCaching: false, maxRunningSequences: 64 });
  try {
    console.log(`KV pool: ${coreOf(stories).stats().kvBlocksTotal} blocks`);
    const rows = await regime(stories, STORY_TOKENS);
    printRegime('Overhead regime: stories260K', rows, STORY_TOKENS, 10);
    printWaste('stories260K', rows[rows.length - 1]!);
  } finally {
    await stories.destroy();
  }
  console.log(`\n${machineLoad()}`);
  if (process.env.TABLLM_BENCH_SKIP_30M === '1') return;

  const big = await openEngine(model30M(), { kvCacheBytes: 64 << 20, enablePrefixCaching: false, maxRunningSequences: 64 });
  try {
    const rows = await regime(big, TOKENS_30M);
    printRegime('Compute regime: generated Q4_0 llama, ~28M parameters', rows, TOKENS_30M, 3);
    printWaste('~28M llama', rows[rows.length - 1]!);
  } finally {
    await big.destroy();
  }
  const ceiling = await matmulCeiling(16);
  console.log(
    `\nAdapter ceiling (the ~28M model's matmul weights, Q4_0, 8 layers + LM head): one batch-16 pass ${ceiling.batchMs.toFixed(1)} ms, ` +
      `16 batch-1 passes ${ceiling.singlesMs.toFixed(1)} ms → at most ${(ceiling.singlesMs / ceiling.batchMs).toFixed(2)}× from batching 16`,
  );
  console.log(`\n${machineLoad()} at end`);
}

await main();
