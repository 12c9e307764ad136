// scripts/device/vitest-shim.mjs: the stand-in for vitest's API that the packed GPU tests
// run under on a lent GPU machine (scripts/device/pack.mjs). A file of tests run in a child
// process under the shim must be reported as vitest would: each test once, in order, with
// each/skipIf/async describe/beforeAll/afterAll, and failures counted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SHIM = resolve(__dirname, '../../scripts/device/vitest-shim.mjs');

function runUnderShim(body: string): { status: number | null; lines: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'tabllm-shim-'));
  try {
    const file = join(dir, 'case.mjs');
    writeFileSync(file, `import { describe, it, expect, beforeAll, afterAll, runRegistered } from ${JSON.stringify(SHIM)};\n${body}\nconst c = await runRegistered('case');\nprocess.exit(c.failed > 0 ? 1 : 0);\n`);
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', cwd: resolve(__dirname, '../..') });
    return { status: r.status, lines: r.stdout.split('\n').filter((l) => /^(ok |FAIL|case:)/.test(l)).map((l) => l.replace(/ \(\d+ ms\)$/, '')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('device vitest shim', () => {
  it('runs suites in order with hooks, each, skipIf and async describe, and counts', () => {
    const { status, lines } = runUnderShim(`
      const log = [];
      describe('outer', async () => {
        await Promise.resolve();
        beforeAll(() => { log.push('before'); });
        afterAll(() => { if (log.join() !== 'before,a,1,2') throw new Error('order ' + log.join()); });
        it('a', () => { log.push('a'); expect([1, 2]).toEqual([1, 2]); });
        it.each([1, 2])('row %s', (n) => { log.push(String(n)); expect(n).toBeGreaterThan(0); });
        it.skipIf(true)('skipped', () => { throw new Error('ran'); });
        describe.each([{ name: 'x' }])('inner $name', ({ name }) => {
          it('fails', () => { expect(name).toBe('y'); });
        });
      });
    `);
    expect(status).toBe(1);
    expect(lines).toEqual([
      'ok   case > outer > a',
      'ok   case > outer > row 1',
      'ok   case > outer > row 2',
      expect.stringMatching(/^FAIL case > outer > inner x > fails: AssertionError: expected 'x' to be 'y'/),
      'case: 3 passed, 1 failed, 1 skipped',
    ]);
  });

  it('fails every test of a suite whose beforeAll throws', () => {
    const { status, lines } = runUnderShim(`
      describe('s', () => {
        beforeAll(() => { throw new Error('no device'); });
        it('a', () => {});
        it('b', () => {});
      });
    `);
    expect(status).toBe(1);
    expect(lines[0]).toMatch(/^FAIL case > s \(beforeAll\): Error: no device/);
    expect(lines.at(-1)).toBe('case: 0 passed, 2 failed, 0 skipped');
  });
});
