// `tabllm run` / `tabllm serve` on a fake runner (no GPU), serve's port-first start-up and
// loading state, and the real binary's error exits.
import { spawn, spawnSync } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import type { RunArgs } from '../../../src/cli/args';
import { runCommand, serveCommand, ServeError, type EngineFactory } from '../../../src/cli/commands';
import { EngineError } from '../../../src/engine/errors';
import { createEngine } from '../../../src/create-engine';
import { Tokenizer } from '../../../src/model/tokenizer';
import { FakeRunner } from '../../../src/testing/fake-runner';

const ROOT = resolve(__dirname, '../../..');
const STORIES = resolve(ROOT, '../shared/fixtures/stories260K/stories260K.gguf');
const WORDS = 'there was a little girl named Lily.';

const CHATML = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

async function fakeFactory(extra: { chatTemplate?: string; runners?: FakeRunner[] } = {}): Promise<EngineFactory> {
  const tokenizer = await Tokenizer.fromGGUF(STORIES);
  const script = tokenizer.encode(WORDS, { addSpecial: false });
  return (options) =>
    createEngine({
      ...options,
      chatTemplate: extra.chatTemplate,
      createRunner: async ({ config }) => {
        const runner = new FakeRunner({ vocabSize: config.vocabSize, contextLength: 512, numKvBlocks: 64, nextToken: (_c, seq) => script[(seq.sampleIndex ?? 0) % script.length]! });
        extra.runners?.push(runner);
        return runner;
      },
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

  it('-n past the context is cut to it, as llama2.c cuts steps to seq_len', async () => {
    const c = capture();
    // The fake model never ends: it generates until the 512-token context is full.
    expect(await runCommand(runArgs({ prompt: 'Once upon a time', steps: 100_000, json: true }), await fakeFactory(), c.io)).toBe(0);
    const out = JSON.parse(c.out.join('')) as { usage: { prompt_tokens: number; completion_tokens: number }; finish_reason: string };
    expect(out.usage.prompt_tokens).toBe(5);
    expect(out.usage.completion_tokens).toBe(512 - 5);
    expect(out.finish_reason).toBe('length');
  });

  it('--precision and --kv-cache-mib reach createEngine', async () => {
    const seen: Array<Parameters<EngineFactory>[0]> = [];
    const factory = await fakeFactory();
    const c = capture();
    expect(await runCommand(runArgs({ maxTokens: 1, steps: undefined, precision: 'f32', kvCacheMiB: 3 }), async (o) => (seen.push(o), factory(o)), c.io)).toBe(0);
    expect(seen[0]).toMatchObject({ precision: 'f32', kvCacheBytes: 3 << 20 });
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

describe('tabllm serve: the official clients over HTTP', () => {
  it('openai: chat and completions, streaming and not, n, stop, include_usage, logprobs, abort frees the KV pool', async () => {
    const c = capture();
    const runners: FakeRunner[] = [];
    const factory = await fakeFactory({ chatTemplate: CHATML, runners });
    let engine: Awaited<ReturnType<EngineFactory>> | undefined;
    const server = await serveCommand({ command: 'serve', model: STORIES, host: '127.0.0.1', port: 0, name: 'stories' }, async (o) => (engine = await factory(o)), c.io);
    try {
      const openai = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'none', maxRetries: 0 });
      const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];
      const chat = await openai.chat.completions.create({ model: 'stories', messages, max_tokens: 4, temperature: 0, n: 2 });
      expect(chat.choices.map((x) => x.message.content)).toEqual([' there was a little', ' there was a little']);
      expect(chat.choices[0]!.finish_reason).toBe('length');

      const chatStream = await openai.chat.completions.create({ model: 'stories', messages, max_tokens: 20, stop: ['girl'], stream: true, stream_options: { include_usage: true } });
      let text = '';
      let usage: { completion_tokens: number } | null | undefined;
      let finish: string | null | undefined;
      for await (const chunk of chatStream) {
        text += chunk.choices[0]?.delta.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe(' there was a little ');
      expect(finish).toBe('stop');
      expect(usage!.completion_tokens).toBeGreaterThan(3);

      const lp = await openai.chat.completions.create({ model: 'stories', messages, max_tokens: 3, temperature: 0, logprobs: true, top_logprobs: 2 });
      expect(lp.choices[0]!.logprobs!.content).toHaveLength(3);
      expect(lp.choices[0]!.logprobs!.content![0]!.top_logprobs).toHaveLength(2);

      const cmpl = await openai.completions.create({ model: 'stories', prompt: 'Once', max_tokens: 3, temperature: 0, logprobs: 1 });
      expect(cmpl.choices[0]!.logprobs!.tokens).toHaveLength(3);

      const stepsBefore = runners[0]!.numSteps;
      const controller = new AbortController();
      const long = await openai.completions.create({ model: 'stories', prompt: 'Once', max_tokens: 400, stream: true }, { signal: controller.signal });
      let n = 0;
      try {
        for await (const _ of long) if (++n === 3) controller.abort();
      } catch {
        // the client reports the abort as it chooses (an error or the end of the stream)
      }
      expect(n).toBe(3);
      // The client's abort closed the connection; the server aborted the request and freed its blocks.
      await expect.poll(async () => (await engine!.stats()).kvBlocksUsed).toBe(0);
      expect((await engine!.stats()).running).toBe(0);
      // It stopped early: nowhere near the 400 steps the request asked for.
      expect(runners[0]!.numSteps - stepsBefore).toBeLessThan(200);
    } finally {
      await server.close(0);
    }
  });

  it('ollama: chat and generate, streaming and not, list', async () => {
    const c = capture();
    const server = await serveCommand({ command: 'serve', model: STORIES, host: '127.0.0.1', port: 0, name: 'stories' }, await fakeFactory({ chatTemplate: CHATML }), c.io);
    try {
      const ollama = new Ollama({ host: server.url });
      const chat = await ollama.chat({ model: 'stories', messages: [{ role: 'user', content: 'hi' }], stream: false, options: { num_predict: 3, temperature: 0 } });
      expect(chat.message).toMatchObject({ role: 'assistant', content: ' there was a' });
      let streamed = '';
      for await (const part of await ollama.chat({ model: 'stories', messages: [{ role: 'user', content: 'hi' }], stream: true, options: { num_predict: 3, temperature: 0 } })) {
        streamed += part.message.content;
      }
      expect(streamed).toBe(' there was a');
      let generated = '';
      for await (const part of await ollama.generate({ model: 'stories', prompt: 'Once', raw: true, stream: true, options: { num_predict: 3, temperature: 0 } })) {
        generated += part.response;
      }
      expect(generated).toBe(' there was a');
      expect((await ollama.list()).models.map((m) => m.name)).toEqual(['stories:latest']);
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

describe('tabllm serve: the port first, then the model', () => {
  /** A port on 127.0.0.1 that something else holds. */
  async function takenPort(): Promise<{ port: number; release: () => Promise<void> }> {
    const blocker = createNetServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    return { port, release: () => new Promise<void>((r) => blocker.close(() => r())) };
  }

  it('a taken port fails at once with port_in_use, before the model is loaded', async () => {
    const taken = await takenPort();
    let loads = 0;
    try {
      const c = capture();
      const err = await serveCommand({ command: 'serve', model: STORIES, host: '127.0.0.1', port: taken.port }, async () => {
        loads++;
        throw new Error('must not load');
      }, c.io).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ServeError);
      expect((err as ServeError).code).toBe('port_in_use');
      expect((err as ServeError).message).toContain(`port ${taken.port} on 127.0.0.1 is already in use`);
      expect(loads).toBe(0);
    } finally {
      await taken.release();
    }
  });

  it('while loading: /health 503, API routes 503 engine_not_loaded in their own error shape; then 200 and the model', async () => {
    const factory = await fakeFactory();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const c = capture();
    let listening!: (url: string) => void;
    const bound = new Promise<string>((r) => (listening = r));
    const serving = serveCommand({ command: 'serve', model: STORIES, host: '127.0.0.1', port: 0 }, async (o) => {
      await gate;
      return factory(o);
    }, c.io, { onListening: (s) => listening(s.url) });
    const url = await bound;
    try {
      expect(c.err.join('')).toMatch(/listening at http:\/\/127\.0\.0\.1:\d+ .*loading .*stories260K\.gguf/);
      const health = await fetch(`${url}/health`);
      expect(health.status).toBe(503);
      const models = await fetch(`${url}/v1/models`);
      expect(models.status).toBe(503);
      expect(((await models.json()) as { error: { code: string } }).error.code).toBe('engine_not_loaded');
      const completion = await fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'Once', max_tokens: 2 }) });
      expect(completion.status).toBe(503);
      expect(completion.headers.get('x-tabllm-error-code')).toBe('engine_not_loaded');
      const tags = await fetch(`${url}/api/tags`);
      expect(tags.status).toBe(503);
      expect(typeof ((await tags.json()) as { error: unknown }).error).toBe('string');
    } finally {
      release();
    }
    const server = await serving;
    try {
      expect((await fetch(`${url}/health`)).status).toBe(200);
      // No --name: the file's stem, not general.name ('llama').
      const list = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(list.data.map((m) => m.id)).toEqual(['stories260K']);
      expect(c.err.join('')).toMatch(/serving 'stories260K'/);
    } finally {
      await server.close(0);
    }
  });

  it('a model that fails to load closes the port and rejects with the load error', async () => {
    const c = capture();
    let url = '';
    const err = await serveCommand({ command: 'serve', model: STORIES, host: '127.0.0.1', port: 0 }, async () => {
      throw new EngineError('internal_error', 'bad model');
    }, c.io, { onListening: (s) => (url = s.url) }).catch((e: unknown) => e);
    expect((err as EngineError).message).toBe('bad model');
    expect(url).not.toBe('');
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });
});

describe('tabllm binary: serve on a taken port', () => {
  it('exits 1 with [port_in_use] without loading the model', async () => {
    const blocker = createNetServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const r = await new Promise<{ status: number | null; stderr: string }>((done) => {
        const child = spawn('node', ['--import', 'tsx', '--import', './scripts/raw-loader.mjs', 'src/cli/main.ts', 'serve', STORIES, '--port', String(port)], { cwd: ROOT });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => done({ status, stderr }));
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*\\[port_in_use\\]`));
      expect(r.stderr).not.toMatch(/weights/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
