// Model loading from hostile HTTP servers on 127.0.0.1 (test/helpers/hostile-server.ts):
// servers that never answer or stall, stream 512 MiB at a range request, lie in
// Content-Length or change the Content-Range total. Each load — the way `tabllm run`
// reads a URL (createEngine) and the way the browser cache does (loadModel) — must end with
// a coded error, and the process's RSS must stay within 2x the model size + 64 MiB. The
// loads run in a child process (test/helpers/load-child.ts) so its RSS is theirs alone.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../../../src/model/gguf';
import { loadModel } from '../../../src/storage/load-model';
import { HostileServer, JUNK_BYTES, type HostileMode } from '../../helpers/hostile-server';
import type { ChildLoad, ChildResult } from '../../helpers/load-child';
import { STORIES_GGUF } from './fixtures';

const ROOT = resolve(__dirname, '../../..');
const MiB = 1024 * 1024;
/** Short, so a stalled load ends fast; the default is 30 s. */
const IDLE_TIMEOUT_MS = 400;
/** For loads that must end in something else than a timeout: generous, so a starved machine cannot turn them into one. */
const PATIENT_TIMEOUT_MS = 10_000;
const STALLS: readonly HostileMode[] = ['silent', 'stall-headers-only', 'stall-mid-body'];
const timeoutFor = (mode: HostileMode) => (STALLS.includes(mode) ? IDLE_TIMEOUT_MS : PATIENT_TIMEOUT_MS);

let server: HostileServer;
let modelBytes: number;

beforeAll(async () => {
  const file = new Uint8Array(await readFile(STORIES_GGUF));
  modelBytes = file.byteLength;
  server = new HostileServer(file);
  await server.start();
});
afterAll(() => server.stop());

/** Runs the loads in one child process (async: this process's server must keep answering). */
function runChild(loads: ChildLoad[]): Promise<ChildResult[]> {
  const input = JSON.stringify(loads);
  return new Promise((done, fail) => {
    execFile(
      'node',
      ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'test/helpers/load-child.ts', input],
      { cwd: ROOT, timeout: 120_000, maxBuffer: 4 * MiB },
      (err, stdout, stderr) => {
        if (err) fail(new Error(`load-child failed: ${err.message}\n${stderr}`));
        else done(stdout.trim().split('\n').map((line) => JSON.parse(line) as ChildResult));
      },
    );
  });
}

/** What each server behaviour must end with. */
const ENGINE_CASES: [HostileMode, string][] = [
  ['honest', 'loaded'],
  ['silent', 'download_timeout'],
  ['stall-headers-only', 'download_timeout'],
  ['stall-mid-body', 'download_timeout'],
  ['oversize', 'download_size_mismatch'],
  ['oversize-after-probe', 'download_size_mismatch'],
  ['whole-junk', 'range_not_supported'],
  ['lying-length', 'download_size_mismatch'],
  ['changing-total', 'download_size_mismatch'],
  ['short-body', 'download_size_mismatch'],
];
const STORAGE_CASES: [HostileMode, string][] = [
  ['honest', 'loaded'],
  ['silent', 'download_timeout'],
  ['stall-headers-only', 'download_timeout'],
  ['stall-mid-body', 'download_timeout'],
  ['oversize', 'download_size_mismatch'],
  ['whole-junk', 'range_not_supported'],
  ['lying-length', 'download_size_mismatch'],
  ['short-body', 'download_size_mismatch'],
];

describe('URL model loads against hostile servers (child process, peak RSS measured)', () => {
  it('every load ends with its coded error, and memory stays within 2x the model + 64 MiB', async () => {
    const loads: ChildLoad[] = [
      ...ENGINE_CASES.map(([mode]) => ({ name: `engine ${mode}`, via: 'engine' as const, url: `${server.url}/${mode}.gguf`, idleTimeoutMs: timeoutFor(mode) })),
      ...STORAGE_CASES.map(([mode]) => ({ name: `storage ${mode}`, via: 'storage' as const, url: `${server.url}/${mode}.gguf`, idleTimeoutMs: timeoutFor(mode) })),
    ];
    const results = await runChild(loads);
    const expected = [
      ...ENGINE_CASES.map(([mode, code]) => ({ name: `engine ${mode}`, code })),
      ...STORAGE_CASES.map(([mode, code]) => ({ name: `storage ${mode}`, code })),
    ];
    expect(results.map(({ name, code }) => ({ name, code })), JSON.stringify(results, null, 1)).toEqual(expected);
    const bound = 2 * modelBytes + 64 * MiB;
    for (const r of results) expect(r.rssGrowthBytes, `${r.name}: RSS grew ${(r.rssGrowthBytes / MiB).toFixed(1)} MiB`).toBeLessThanOrEqual(bound);
    // The junk server was cut off long before it could send its 512 MiB a few times over.
    expect(server.junkBytesSent).toBeLessThan(JUNK_BYTES);
  });
});

describe('the idle timeout option', () => {
  it('a silent server ends in download_timeout after the configured idle time (in process)', async () => {
    await expect(openSource(`${server.url}/silent.gguf`, { idleTimeoutMs: IDLE_TIMEOUT_MS })).rejects.toMatchObject({ code: 'download_timeout' });
  });

  it('bad values are refused before any request', async () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(openSource(`${server.url}/honest.gguf`, { idleTimeoutMs: bad })).rejects.toMatchObject({ code: 'bad_source' });
      await expect(loadModel(`${server.url}/honest.gguf`, { idleTimeoutMs: bad, storage: 'cache' })).rejects.toMatchObject({ code: 'bad_source' });
    }
  });

  it('an abort still wins over the timeout, with fetch’s AbortError', async () => {
    const controller = new AbortController();
    const pending = openSource(`${server.url}/silent.gguf`, { idleTimeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });
});
