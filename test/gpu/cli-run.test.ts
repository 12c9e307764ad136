// `tabllm run` on the real pretrained stories260K through WebGPU (Dawn) prints exactly
// what llama2.c's run.c prints at temperature 0 (../shared/fixtures/stories260K/reference-greedy.txt).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../..');
const FIXTURES = resolve(ROOT, '../shared/fixtures/stories260K');
const REF = readFileSync(resolve(FIXTURES, 'reference-greedy.txt'), 'utf8');

/** The text between the n-th pair of `-----8<-----` lines. */
function referenceStdout(n: number): string {
  const parts = REF.split('-----8<-----\n');
  return parts[1 + 2 * n]!;
}

function tabllm(args: string[]) {
  return spawnSync('node', ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 280_000,
    env: process.env,
  });
}

describe('tabllm run (WebGPU)', () => {
  it('-n 256 --temperature 0 prints llama2.c reference case 1 exactly', () => {
    const r = tabllm(['run', resolve(FIXTURES, 'stories260K.gguf'), '-n', '256', '--temperature', '0']);
    expect(r.stderr).toMatch(/256 tokens/);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(referenceStdout(0));
  });

  it('-p "Once upon a time" -n 64 prints reference case 2 exactly', () => {
    const r = tabllm(['run', resolve(FIXTURES, 'stories260K.gguf'), '-p', 'Once upon a time', '-n', '64', '--temperature', '0']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(referenceStdout(1));
  });
});
