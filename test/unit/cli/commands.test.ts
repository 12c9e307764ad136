// `tabllm run` / `tabllm serve` on a fake runner (no GPU), and the real binary's error exits.
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import type { RunArgs } from '../../../src/cli/args';
import { runCommand, serveCommand, type EngineFactory } from '../../../src/cli/commands';
import { createEngine } from '../../../src/engine/engine';
import { Tokenizer } from '../../../src/model/tokenizer';
import { FakeRunner } from '../../helpers/fake-runner';

const ROOT = resolve(__dirname, '../../..');
const STORIES = resolve(ROOT, '../shared/fixtures/stories260K/stories260K.gguf');
const WORDS = 'there was a little girl named Lily.';

async function fakeFactory(): Promise<EngineFactory> {
  const tokenizer = await Tokenizer.fromGGUF(STORIES);
  const script = tokenizer.encode(WORDS, { addSpecial: false });
  return (options) =>
    createEngine({
      ...options,
      createRunner: async ({ config }) =>
        new FakeRunner({ vocabSize: config.vocabSize, contextLength: 512, numKvBlocks: 64, nextToken: (_c, seq) => script[(seq.sampleIndex ?? 0) % script.length]! }),
    });
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) }, out, err };
}

const runArgs = (over: Partial<RunArgs>): RunArgs => ({ command: 'run', model: STORIES, prompt: '', steps: 256, temperature: 0, topP: 1, json: false, ...over });

describe('tabllm run', () => {
  it('prints the prompt, the streamed completion and a newline; -n counts positions like llama2.c', async () => {
    const c = capture();
    // Prompt "Once upon a time" is BOS + 4 tokens: -n 9 leaves 5 generated tokens.
    expect(await runCommand(runArgs({ prompt: 'Once upon a time', steps: 9 }), await fakeFactory(), c.io)).toBe(0);
    const tokenizer = await Tokenizer.fromGGUF(STORIES);
    const five = tokenizer.encode(WORDS, { addSpecial: false }).slice(0, 5);
    expect(c.out.join('')).toBe(`Once upon a time ${tokenizer.decode(five)}\n`);
    expect(c.err.join('')).toMatch(/5 tokens/);
  });

  it('--json prints text, token ids, usage and timings', async () => {
    const c = capture();
    await runCommand(runArgs({ json: true, maxTokens: 3, steps: undefined }), await fakeFactory(), c.io);
    const j = JSON.parse(c.out.join(''));
    expect(j.text).toBe('there was a');
    expect(j.token_ids).toHaveLength(3);
    expect(j.usage).toMatchObject({ prompt_tokens: 1, completion_tokens: 3 });
    expect(j.timings.totalMs).toBeGreaterThanOrEqual(0);
  });
});

describe('tabllm serve', () => {
  it('answers the openai and ollama clients over real HTTP on loopback', async () => {
    const c = capture();
    const server = await serveCommand({ command: 'serve', model: STORIES, host: '127.0.0.1', port: 0, name: 'stories' }, await fakeFactory(), c.io);
    try {
      expect(c.err.join('')).toMatch(/serving 'stories' \(llama, F32\)/);
      const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none' });
      const models = await openai.models.list();
      expect(models.data.map((m) => m.id)).toEqual(['stories']);
      const r = await openai.completions.create({ model: 'stories', prompt: 'Once', max_tokens: 3, temperature: 0 });
      expect(r.choices[0]!.text).toBe(' there was a');
      const ollama = new Ollama({ host: server.url });
      const g = await ollama.generate({ model: 'stories', prompt: 'Once', stream: false, options: { num_predict: 3, temperature: 0 } });
      expect(g.response).toBe(' there was a');
      expect(g.done_reason).toBe('length');
      const tags = await ollama.list();
      expect(tags.models.map((m) => m.name)).toContain('stories:latest');
    } finally {
      await server.close(0);
    }
  });
});

describe('tabllm binary', () => {
  const bin = (args: string[]) =>
    spawnSync('node', ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

  it('exits 2 with usage for a missing file or a bad flag', () => {
    const missing = bin(['run', '/nonexistent/model.gguf']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/model file not found: \/nonexistent\/model.gguf/);
    const flag = bin(['serve', STORIES, '--port', 'x']);
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/--port must be an integer/);
  });

  it('exits 1 naming the error code for a file that is not GGUF', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tabllm-cli-'));
    const file = join(dir, 'not-a-model.gguf');
    writeFileSync(file, 'this is not a gguf file at all, just text');
    const r = bin(['run', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/\[bad_magic\]/);
  });

  it('--version prints the version', () => {
    const r = bin(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
