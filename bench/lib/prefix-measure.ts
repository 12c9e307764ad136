// The prefix-cache benchmark's measurement, host-neutral (Node: bench/prefix-cache.ts;
// Chromium: bench/prefix-cache-chromium.ts): time to first token of a prompt whose first
// `prefixTokens` tokens (BOS included) are cached vs not, through the public API.
//
// Prompts are text made of words that are one token each in the model's vocabulary (found
// with engine.tokenize), so the prompt is exactly `prefixTokens` shared tokens followed by
// `suffixTokens` of each request's own; the token counts are checked, not assumed. TTFT is
// the engine's own (arrival → first token: `timings.queuedMs + timings.promptMs`), so
// tokenizing is not in it.
import type { Completion } from '../../src/openai/engine-api';
import type { MultiEngine } from '../../src/openai/multi-engine';
import type { SourceInput } from '../../src/model/gguf/source';
import { openTimedEngine } from './engine-bench';

export interface PrefixOptions {
  prefixTokens: number;
  suffixTokens: number;
}

export interface PrefixRow {
  promptTokens: number;
  cachedTokens: number;
  ttftMs: number;
}

export interface PrefixResult {
  adapter: string;
  options: PrefixOptions;
  uncached: PrefixRow;
  cached: PrefixRow;
  kvBlocksUsedAfter: number;
}

// Candidates: one-letter and two-letter words (the generated vocabulary has every `▁xy`) and
// common TinyStories words (stories260K's 512-token vocabulary has few two-letter pieces).
const COMMON = (
  'the a and was to he she it they in on of day big little girl boy named with her his saw had said ' +
  'one time very happy mom dad play fun but not so you can we see is are be at for sun tree ball cat dog'
).split(' ');
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** Words that the engine's tokenizer encodes as exactly one token (with the leading space). */
async function singleTokenWords(engine: MultiEngine): Promise<string[]> {
  const candidates = [...new Set([...COMMON, ...LETTERS, ...[...LETTERS].flatMap((a) => [...LETTERS].map((b) => a + b))])];
  const words: string[] = [];
  for (const w of candidates) if ((await engine.tokenize({ prompt: w, add_special_tokens: false })).count === 1) words.push(w);
  if (words.length < 8) throw new Error(`only ${words.length} one-token words in this vocabulary`);
  return words;
}

/** `n` words, a deterministic walk through `words` from `seed`. */
function wordRun(words: string[], seed: number, n: number): string[] {
  return Array.from({ length: n }, (_, i) => words[(seed * 7919 + i * 104729) % words.length]!);
}

async function firstToken(engine: MultiEngine, prompt: string, expectTokens: number): Promise<PrefixRow> {
  const r = (await engine.completions.create({ prompt, max_tokens: 1, temperature: 0 })) as Completion;
  const promptTokens = r.usage!.prompt_tokens;
  if (promptTokens !== expectTokens) throw new Error(`prompt has ${promptTokens} tokens, expected ${expectTokens}`);
  const t = r.timings!;
  return { promptTokens, cachedTokens: r.usage!.prompt_tokens_details.cached_tokens, ttftMs: t.queuedMs + t.promptMs };
}

export async function measurePrefixCache(gpu: GPU, model: SourceInput, o: PrefixOptions): Promise<PrefixResult> {
  const { engine, adapter } = await openTimedEngine(model, gpu, { kvCacheBytes: 64 << 20, enablePrefixCaching: true });
  try {
    const words = await singleTokenWords(engine);
    const prefix = wordRun(words, 1, o.prefixTokens - 1); // + BOS
    const ownA = wordRun(words, 2, o.suffixTokens);
    let ownB = wordRun(words, 3, o.suffixTokens);
    if (ownB[0] === ownA[0]) ownB = [words[(words.indexOf(ownA[0]!) + 1) % words.length]!, ...ownB.slice(1)];
    const total = o.prefixTokens + o.suffixTokens;
    // Warm-up on unrelated words: compiles the tiled (> 8 tokens) and vector matmul pipelines.
    await firstToken(engine, wordRun(words, 9, 20).join(' '), 21);
    await firstToken(engine, wordRun(words, 8, 4).join(' '), 5);

    const uncached = await firstToken(engine, [...prefix, ...ownA].join(' '), total);
    const cached = await firstToken(engine, [...prefix, ...ownB].join(' '), total);
    return { adapter, options: o, uncached, cached, kvBlocksUsedAfter: (await engine.stats()).kvBlocksUsed };
  } finally {
    await engine.destroy();
  }
}

/** The markdown report; `title` names the model, `host` where it ran. */
export function prefixReport(r: PrefixResult, title: string, host: string): string {
  const ratio = r.cached.ttftMs / r.uncached.ttftMs;
  return [
    `Host: ${host}. WebGPU adapter: ${r.adapter}.`,
    '',
    `### ${title}: ${r.options.prefixTokens}-token shared prefix + ${r.options.suffixTokens} own tokens`,
    '',
    '| prompt | prompt tokens | cached tokens | time to first token ms |',
    '|---|---|---|---|',
    `| prefix not cached | ${r.uncached.promptTokens} | ${r.uncached.cachedTokens} | ${r.uncached.ttftMs.toFixed(0)} |`,
    `| prefix cached | ${r.cached.promptTokens} | ${r.cached.cachedTokens} | ${r.cached.ttftMs.toFixed(0)} |`,
    '',
    `cached / uncached = ${ratio.toFixed(3)} (target ≤ 0.1: ${ratio <= 0.1 ? 'met' : 'MISSED'}); KV blocks used after: ${r.kvBlocksUsedAfter}`,
  ].join('\n');
}
