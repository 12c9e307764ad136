// The `tabllm` command as a user runs it, from the source tree (tsx, WGSL through the raw
// loader): a child process whose status, stdout and stderr the tests read.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

export function runTabllm(args: string[]) {
  return spawnSync('node', ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 280_000,
    env: process.env,
  });
}
