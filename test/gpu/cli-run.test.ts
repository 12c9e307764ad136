// `tabllm run` on the real pretrained stories260K through WebGPU (Dawn) prints exactly
// what llama2.c's run.c prints at temperature 0 (../shared/fixtures/stories260K/reference-greedy.txt).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceStdout, STORIES_GGUF } from '../helpers/stories-reference';

const ROOT = resolve(__dirname, '../..');

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
    const r = tabllm(['run', STORIES_GGUF, '-n', '256', '--temperature', '0']);
    expect(r.stderr).toMatch(/256 tokens/);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(referenceStdout(0));
  });

  it('-p "Once upon a time" -n 64 prints reference case 2 exactly', () => {
    const r = tabllm(['run', STORIES_GGUF, '-p', 'Once upon a time', '-n', '64', '--temperature', '0']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(referenceStdout(1));
  });
});
