// A model path that is not a regular file — a FIFO (whose open would block until a writer
// comes, i.e. forever), a directory, a device — is a coded `not_a_regular_file`, from the
// loader and from `tabllm run` (exit 1, code printed), never a hang. The spawn timeouts
// below are the hang guard: without the check, the FIFO case never returns.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/create-engine';
import { openSource, readGGUF } from '../../../src/model/gguf';

const ROOT = resolve(__dirname, '../../..');
let dir: string;
let fifo: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tabllm-fifo-'));
  fifo = join(dir, 'model.gguf');
  execFileSync('mkfifo', [fifo]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('model paths that are not regular files', () => {
  it('the loader refuses a FIFO, a directory and a device with not_a_regular_file', async () => {
    await expect(openSource(fifo)).rejects.toMatchObject({ code: 'not_a_regular_file', message: expect.stringMatching(/FIFO/) });
    await expect(readGGUF(dir)).rejects.toMatchObject({ code: 'not_a_regular_file', message: expect.stringMatching(/directory/) });
    await expect(openSource('/dev/zero')).rejects.toMatchObject({ code: 'not_a_regular_file', message: expect.stringMatching(/device/) });
    await expect(createEngine({ model: fifo, createRunner: () => Promise.reject(new Error('unreachable')) })).rejects.toMatchObject({
      code: 'not_a_regular_file',
    });
  });

  it('tabllm run on a FIFO or a device exits 1 with the code, without starting the GPU', () => {
    for (const path of [fifo, '/dev/zero']) {
      const r = spawnSync('node', ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/main.ts', 'run', path], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.signal, `${path}: killed by the spawn timeout (hung)`).toBeNull();
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/\[not_a_regular_file\]/);
    }
  });
});
