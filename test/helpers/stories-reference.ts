// llama2.c's greedy reference for the real stories260K model
// (../shared/fixtures/stories260K/reference-greedy.txt), parsed once for every test that
// checks tabllm against it.
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
