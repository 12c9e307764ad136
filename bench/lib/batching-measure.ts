// The batching benchmark's measurement, host-neutral (Node: bench/batching.ts; Chromium:
// bench/batching-chromium.ts): aggregate decode tokens/s at each concurrency in the overhead
// regime (stories260K) and the compute regime (the generated ~28M Q4_0 llama), the KV waste
// of the largest run, and the adapter's own batching ceiling; batchingReport prints it.
import type { SourceInput } from '../../src/model/gguf/source';
import { openTimedEngine, runConcurrent, type ConcurrencyResult, type TimedEngine } from './engine-bench';
import { matmulCeiling, type Ceiling } from './matmul-ceiling';

export const CONCURRENCIES = [1, 4, 16, 32];

export interface BatchingOptions {
  /** stories260K (a path in Node, a URL in a page). */
  stories: SourceInput;
  storyTokens: number;
  /** The ~28M model's GGUF; left out: the compute regime and the ceiling are skipped. */
  model30M?: SourceInput;
  tokens30M: number;
  /** Chain decode steps (EngineCoreOptions.chainSteps); default true. */
  chainSteps?: boolean;
}

export interface BatchingResult {
  adapter: string;
  storiesKvBlocks: number;
  options: { storyTokens: number; tokens30M: number };
  stories: ConcurrencyResult[];
  model30M?: ConcurrencyResult[];
  ceiling?: Ceiling;
}

const NAMES = ['Lily', 'Tom', 'Ben', 'Mia', 'Sue', 'Max', 'Amy', 'Sam'];
const THINGS = ['a ball', 'a cat', 'a tree', 'the sea'];
function storyPrompt(i: number): string {
  return `${NAMES[i % NAMES.length]} saw ${THINGS[Math.floor(i / NAMES.length) % THINGS.length]}`;
}

async function regime(timed: TimedEngine, maxTokens: number, note: (msg: string) => void): Promise<ConcurrencyResult[]> {
  // Warm-up: compiles every pipeline variant a batch of 32 uses.
  await runConcurrent(timed, 32, 2, storyPrompt);
  const rows: ConcurrencyResult[] = [];
  for (const c of CONCURRENCIES) {
    rows.push(await runConcurrent(timed, c, maxTokens, storyPrompt));
    note(`concurrency ${c}: ${rows.at(-1)!.decodeTokensPerSecond.toFixed(1)} tok/s`);
  }
  return rows;
}

export async function measureBatching(gpu: GPU, o: BatchingOptions, note: (msg: string) => void = () => {}): Promise<BatchingResult> {
  const common = { enablePrefixCaching: false, maxRunningSequences: 64, chainSteps: o.chainSteps ?? true };
  const stories = await openTimedEngine(o.stories, gpu, { ...common, kvCacheBytes: 8 << 20 });
  const result: BatchingResult = {
    adapter: stories.adapter,
    storiesKvBlocks: 0,
    options: { storyTokens: o.storyTokens, tokens30M: o.tokens30M },
    stories: [],
  };
  try {
    result.storiesKvBlocks = (await stories.engine.stats()).kvBlocksTotal;
    note('stories260K loaded');
    result.stories = await regime(stories, o.storyTokens, note);
  } finally {
    await stories.engine.destroy();
  }
  if (o.model30M === undefined) return result;

  const big = await openTimedEngine(o.model30M, gpu, { ...common, kvCacheBytes: 64 << 20 });
  try {
    note('~28M model loaded');
    result.model30M = await regime(big, o.tokens30M, note);
  } finally {
    await big.engine.destroy();
  }
  result.ceiling = await matmulCeiling(gpu, 16);
  return result;
}

function regimeTable(title: string, rows: ConcurrencyResult[], maxTokens: number, target: number): string[] {
  const base = rows[0]!.decodeTokensPerSecond;
  const lines = [
    '',
    `### ${title} (${maxTokens} tokens per request)`,
    '',
    '| concurrency | decode tok/s (aggregate) | × concurrency 1 | decode steps timed | runner ms per step (median) | step-to-step ms (median) | preemptions |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.concurrency} | ${r.decodeTokensPerSecond.toFixed(1)} | ${(r.decodeTokensPerSecond / base).toFixed(2)} | ${r.decodeSteps} | ` +
        `${r.msPerStep.toFixed(1)} | ${r.msPerStepEngine.toFixed(1)} | ${r.numPreemptions} |`,
    );
  }
  const at16 = rows.find((r) => r.concurrency === 16)!.decodeTokensPerSecond / base;
  lines.push('', `16 vs 1: ${at16.toFixed(2)}× (target ≥ ${target}×: ${at16 >= target ? 'met' : 'MISSED'})`);
  return lines;
}

function wasteLine(title: string, r: ConcurrencyResult): string[] {
  const unused = r.kvSlotsAllocated - r.kvSlotsFilled;
  const bound = 15 * r.concurrency;
  return [
    '',
    `KV waste (engine.stats()), ${title}, end of the ${r.concurrency}-way run: ${r.kvSlotsFilled} of ${r.kvSlotsAllocated} allocated slots hold a token ` +
      `(${((100 * r.kvSlotsFilled) / Math.max(1, r.kvSlotsAllocated)).toFixed(1)}%); ${unused} unused ≤ 15 × ${r.concurrency} = ${bound}: ${unused <= bound ? 'met' : 'MISSED'}`,
  ];
}

/** The markdown report; `host` names where it ran. */
export function batchingReport(r: BatchingResult, host: string): string {
  const lines = [`Host: ${host}. WebGPU adapter: ${r.adapter}.`, `KV pool (stories260K): ${r.storiesKvBlocks} blocks.`];
  lines.push(...regimeTable('Overhead regime: stories260K', r.stories, r.options.storyTokens, 10));
  lines.push(...wasteLine('stories260K', r.stories.at(-1)!));
  if (r.model30M) {
    lines.push(...regimeTable('Compute regime: generated Q4_0 llama, ~28M parameters', r.model30M, r.options.tokens30M, 3));
    lines.push(...wasteLine('~28M llama', r.model30M.at(-1)!));
  }
  if (r.ceiling) {
    const c = r.ceiling;
    lines.push(
      '',
      `Adapter ceiling (the ~28M model's matmul weights, Q4_0, 8 layers + LM head): one batch-16 pass ${c.batchMs.toFixed(1)} ms, ` +
        `16 batch-1 passes ${c.singlesMs.toFixed(1)} ms → at most ${(c.singlesMs / c.batchMs).toFixed(2)}× from batching 16`,
    );
  }
  return lines.join('\n');
}
