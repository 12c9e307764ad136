// tabllm/webllm's own declarations of WebLLM's types against the real @mlc-ai/web-llm: runs
// tsc on webllm-types.ts (assignability both ways, plus negative cases that must not fit)
// (tsconfig.webllm-types.json: this repository's compiler options), and prints tsc's errors when it fails.
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');

describe('WebLLM type compatibility', () => {
  it('tabllm/webllm types accept what WebLLM code passes and fit where WebLLM types are expected', () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(__dirname, 'tsconfig.webllm-types.json')], { cwd: ROOT, encoding: 'utf8', timeout: 180_000 });
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  }, 180_000);
});
