// PromptFlow batch run: flows/named-entity-recognition (llm node → Python node) over 16
// data lines at concurrency 16 and at concurrency 1, on stories260K with a ChatML template
// (Node, Dawn), greedy. Each run gets a fresh engine; Pyodide is loaded before timing.
// Checks that both runs give the same outputs (exit 1 if not) and prints, from polling
// `engine.stats()` during each run, the most requests running at once and the largest step
// (tokens) — concurrent lines' LLM calls batched into one step — and the wall-time ratio
// (printed, not a target).
//   node --import tsx --import ./scripts/raw-loader.mjs bench/flow-batch.ts
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createEngine } from '../src/create-engine';
import { createNodeGPU } from '../src/gpu/node-gpu';
import { batchRun, type BatchResult } from '../src/flow';
import { readFlowFolder } from '../src/cli/flow-files';
import { CHATML } from '../test/helpers/fake-chat-runner';
import { machineLoad, nodeHost, STORIES } from './lib/node-bench';

const NER = resolve(STORIES, '../../promptflow/flows/named-entity-recognition');
const LINES = 16;
const COLUMN_MAPPING = { text: '${data.text}', entity_type: '${data.entity_type}' };

interface Measured {
  concurrency: number;
  wallMs: number;
  result: BatchResult;
  maxRunning: number;
  maxStepTokens: number;
}

const loadAtStart = machineLoad();
const gpu = await createNodeGPU();
const folder = await readFlowFolder(NER);
// The fixture's 15 lines and one more: 16.
const rows = readFileSync(resolve(NER, 'data.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
rows.push({ text: 'Ada Lovelace met Charles Babbage.', entity_type: "people's full name" });
if (rows.length !== LINES) throw new Error(`expected ${LINES} data lines, got ${rows.length}`);

async function measure(concurrency: number, data: Record<string, unknown>[]): Promise<Measured> {
  const engine = await createEngine({ model: STORIES, gpu, chatTemplate: CHATML });
  let maxRunning = 0;
  let maxStepTokens = 0;
  const poll = setInterval(() => {
    void engine.stats().then((s) => {
      maxRunning = Math.max(maxRunning, s.running);
      maxStepTokens = Math.max(maxStepTokens, s.lastStepBatchSize);
    });
  }, 5);
  const started = performance.now();
  const result = await batchRun(folder.files, data, { engine, concurrency, columnMapping: COLUMN_MAPPING, llmParameters: { temperature: 0 } });
  const wallMs = performance.now() - started;
  clearInterval(poll);
  await engine.destroy();
  return { concurrency, wallMs, result, maxRunning, maxStepTokens };
}

// Warm-up: Pyodide and the flow's Python load once per process; not part of either timing.
await measure(1, rows.slice(0, 1));
const wide = await measure(16, rows);
const narrow = await measure(1, rows);

const outputs = (m: Measured) => JSON.stringify(m.result.lines.map((l) => [l.status, l.outputs ?? null]));
const same = outputs(wide) === outputs(narrow);

console.log(`# PromptFlow batch run (Node, Dawn)\n\n${loadAtStart} at start, ${machineLoad()} at end.\n`);
console.log(`Host: ${nodeHost()}. Model: stories260K with a ChatML template, temperature 0. Flow: flows/named-entity-recognition (llm node, max_tokens 64 → Python node), ${LINES} lines.\n`);
console.log('| concurrency | wall s | lines completed | completion tokens | most requests running at once (stats) | largest step, tokens (stats) |');
console.log('|---|---|---|---|---|---|');
for (const m of [narrow, wide]) {
  const t = m.result.metrics;
  console.log(`| ${m.concurrency} | ${(m.wallMs / 1000).toFixed(2)} | ${t.completed} / ${t.lines} | ${t.completionTokens} | ${m.maxRunning} | ${m.maxStepTokens} |`);
}
console.log(`\nSame outputs at concurrency 16 and 1: ${same ? 'yes' : 'NO'}`);
console.log(`Wall time, concurrency 1 / concurrency 16: ${(narrow.wallMs / wide.wallMs).toFixed(2)}× (printed, not a target)`);
process.exit(same && wide.result.metrics.failed === 0 ? 0 : 1);
