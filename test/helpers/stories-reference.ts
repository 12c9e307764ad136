// llama2.c's greedy reference for the real stories260K model
// (../shared/fixtures/stories260K/reference-greedy.txt, and the NumPy logits of
// reference-greedy.json), parsed once for every test that checks tabllm against it.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STORIES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/stories260K');
export const STORIES_GGUF = resolve(STORIES_DIR, 'stories260K.gguf');

const MARK = '-----8<-----\n';
let text: string | undefined;

function reference(): string {
  return (text ??= readFileSync(resolve(STORIES_DIR, 'reference-greedy.txt'), 'utf8'));
}

/** Case 1: the 256 ids run.c sampled from BOS at temperature 0. */
export function referenceIds(): number[] {
  const lines = reference().split('\n');
  const header = lines.findIndex((line) => line.startsWith('Case 1 sampled token ids'));
  if (header < 0) throw new Error("reference-greedy.txt has no 'Case 1 sampled token ids'");
  return lines[header + 1]!.trim().split(/\s+/).map(Number);
}

/** run.c's stdout for case `n` (0: from BOS, 256 steps; 1: "Once upon a time", 64 steps), final newline included. */
export function referenceStdout(n: 0 | 1): string {
  const parts = reference().split(MARK);
  const block = parts[1 + 2 * n];
  if (block === undefined) throw new Error(`reference-greedy.txt has no stdout block ${n}`);
  return block;
}

/** One case of reference-greedy.json: the prompt, the greedy ids and NumPy's logits. */
export interface GreedyCase {
  name: string;
  prompt_ids: number[];
  steps: number;
  generated_ids: number[];
  logits_first_positions: number[][];
  top5_per_position?: [number, number][][];
}

let cases: GreedyCase[] | undefined;

/** 'bos_only_256' (256 steps from BOS) or 'once_upon_a_time_64'. */
export function greedyCase(name: 'bos_only_256' | 'once_upon_a_time_64'): GreedyCase {
  cases ??= (JSON.parse(readFileSync(resolve(STORIES_DIR, 'reference-greedy.json'), 'utf8')) as { cases: GreedyCase[] }).cases;
  const c = cases.find((x) => x.name === name);
  if (!c) throw new Error(`reference-greedy.json has no case '${name}'`);
  return c;
}
