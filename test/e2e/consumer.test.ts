// tabllm as a consumer meets it: `npm pack`, installed into a fresh project with vite and
// openai. The README's createWorkerEngine + installFetchShim + openai page, built by the
// project's own `vite build` and served by `vite preview`, and served by `vite dev`, streams
// llama2.c's text in Chromium (the worker is found by Vite with no configuration); a worker
// script that is not there rejects with worker_failed. From the same project,
// `npx tabllm run` prints llama2.c's text and `npx tabllm serve` serves the model as
// `stories260K`. A webpack 5 build of the same page works with no configuration of the
// worker; an esbuild bundle works once the worker file is copied beside it. Needs `npm run build` first (CI builds before `npm test`).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOST_PING_ANSWER } from '../../src/client/worker-start';
import { launchChromium } from '../helpers/browser';
import { createConsumerProject, freePort, startProcess as start, stopProcess as stop, viteBin, type ConsumerProject } from '../helpers/consumer-project';
import { referenceStdout, STORIES_GGUF } from '../helpers/stories-reference';
import { INDEX_HTML, MAIN_JS } from './consumer/app';

const PROMPT = 'Once upon a time';
// llama2.c case 2: -n 64 from "Once upon a time" (BOS + 4 prompt tokens) generates 60 tokens.
const CASE2 = referenceStdout(1);
const COMPLETION = CASE2.slice(PROMPT.length, -1);
const MAX_TOKENS = 60;

describe('a consumer project (npm pack → npm install, vite, Chromium)', () => {
  let project: ConsumerProject;
  let browser: Browser;

  beforeAll(async () => {
    project = createConsumerProject({ deps: ['vite', 'openai', 'esbuild', 'webpack', 'webpack-cli'], files: { 'index.html': INDEX_HTML, 'main.js': MAIN_JS } });
    mkdirSync(join(project.dir, 'public'), { recursive: true });
    copyFileSync(STORIES_GGUF, join(project.dir, 'public/stories260K.gguf'));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    project?.remove();
  });

  /** Opens the app at `url` and runs the README page: a streamed completion through openai. */
  async function runPage(url: string) {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await page.goto(url);
      await page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true, null, { timeout: 60_000 });
      const streamed = (await page.evaluate(
        ([p, n]) => (window as unknown as { streamCompletion: (p: string, n: number) => Promise<unknown> }).streamCompletion(p as string, n as number),
        [PROMPT, MAX_TOKENS] as const,
      )) as { text: string; chunks: number; models: string[] };
      const broken = (await page.evaluate(() => (window as unknown as { brokenWorkers: () => Promise<unknown> }).brokenWorkers())) as Record<
        'byUrl' | 'byWorker',
        { code?: string; message?: string; resolved?: boolean }
      >;
      return { streamed, broken, errors };
    } finally {
      await page.close();
    }
  }

  /** Serves a built folder with `vite preview` and runs the README page there. */
  async function runBuiltPage(outDir: string) {
    const port = await freePort();
    const preview = start(project, 'node', [viteBin(project), 'preview', '--outDir', outDir, '--host', '127.0.0.1', '--port', String(port), '--strictPort'], /http:\/\/127\.0\.0\.1:\d+/);
    try {
      await preview.matched;
      return await runPage(`http://127.0.0.1:${port}/`);
    } finally {
      await stop(preview.child);
    }
  }

  function expectPage(r: Awaited<ReturnType<typeof runPage>>): void {
    expect(r.streamed.text).toBe(COMPLETION);
    expect(r.streamed.chunks).toBeGreaterThan(5); // streamed, not one blob
    expect(r.streamed.models).toEqual(['stories260K']);
    expect(r.broken.byUrl.code).toBe('worker_failed');
    expect(r.broken.byUrl.message).toContain('/nope.js');
    expect(r.broken.byWorker.code).toBe('worker_failed');
    expect(r.errors).toEqual([]);
  }

  it('vite build emits the worker; vite preview: the README page streams llama2.c text, a missing worker is worker_failed', { timeout: 120_000 }, async () => {
    const built = project.run('node', [viteBin(project), 'build'], { timeoutMs: 120_000 });
    expect(built.status, built.stderr).toBe(0);
    // The consumer's Vite found tabllm's worker and bundled it as a worker of its own.
    const workers = readdirSync(join(project.dir, 'dist/assets')).filter((f) => /^engine\.worker-.*\.js$/.test(f));
    expect(workers.length).toBe(1);
    expect(readFileSync(join(project.dir, 'dist/assets', workers[0]!), 'utf8')).toContain(HOST_PING_ANSWER);

    const port = await freePort();
    const preview = start(project, 'node', [viteBin(project), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], /http:\/\/127\.0\.0\.1:\d+/);
    try {
      await preview.matched;
      expectPage(await runPage(`http://127.0.0.1:${port}/`));
    } finally {
      await stop(preview.child);
    }
  });

  it('the published worker files are self-contained: no static import, no relative chunk import', () => {
    for (const file of ['engine.worker.js', 'shared.worker.js', 'sw.js']) {
      const code = readFileSync(join(project.dir, 'node_modules/tabllm/dist/worker', file), 'utf8');
      expect(code, file).not.toMatch(/^\s*import\s*[\w{*'"]/m);
      expect(code, file).not.toMatch(/\bimport\(\s*['"]\.\.?\//);
    }
    // The library starts it by a relative literal path that bundlers follow.
    const chunks = readdirSync(join(project.dir, 'node_modules/tabllm/dist')).filter((f) => f.endsWith('.js'));
    const starters = chunks.filter((f) => readFileSync(join(project.dir, 'node_modules/tabllm/dist', f), 'utf8').includes(`new Worker(new URL("./worker/engine.worker.js", import.meta.url), {`));
    expect(starters.length).toBe(1);
  });

  it('vite dev: the same page, unbuilt', { timeout: 120_000 }, async () => {
    const port = await freePort();
    const dev = start(project, 'node', [viteBin(project), '--host', '127.0.0.1', '--port', String(port), '--strictPort'], /http:\/\/127\.0\.0\.1:\d+/);
    try {
      await dev.matched;
      expectPage(await runPage(`http://127.0.0.1:${port}/`));
    } finally {
      await stop(dev.child);
    }
  });

  it('webpack 5: the build finds the worker with no configuration, the same page works', { timeout: 180_000 }, async () => {
    const out = join(project.dir, 'web-webpack');
    // The consumer's config names only the entry and the output: nothing about workers.
    project.write(
      'webpack.config.cjs',
      `module.exports = { mode: 'production', entry: './main.js', output: { path: ${JSON.stringify(out)}, filename: 'main.js', clean: true }, performance: { hints: false } };\n`,
    );
    const built = project.run(join(project.dir, 'node_modules/.bin/webpack'), ['--config', 'webpack.config.cjs'], { timeoutMs: 170_000 });
    expect(built.status, `${built.stdout}\n${built.stderr}`).toBe(0);
    // webpack emitted tabllm's worker as a chunk of its own (the engine's host code inside).
    const emitted = readdirSync(out).filter((f) => f.endsWith('.js') && f !== 'main.js');
    expect(emitted.some((f) => readFileSync(join(out, f), 'utf8').includes(HOST_PING_ANSWER))).toBe(true);
    copyFileSync(STORIES_GGUF, join(out, 'stories260K.gguf'));
    // webpack's output is a classic script (no ES module syntax left).
    writeFileSync(join(out, 'index.html'), INDEX_HTML.replace('type="module" ', ''));
    expectPage(await runBuiltPage(out));
  });

  it('esbuild: the bundle keeps the relative worker URL; with the worker file copied beside it, the same page works', { timeout: 120_000 }, async () => {
    const out = join(project.dir, 'web-esbuild');
    const bundled = project.run(join(project.dir, 'node_modules/.bin/esbuild'), ['main.js', '--bundle', '--format=esm', `--outdir=${out}`], { timeoutMs: 60_000 });
    expect(bundled.status, bundled.stderr).toBe(0);
    // esbuild does not bundle workers: the one step is copying the self-contained file.
    mkdirSync(join(out, 'worker'), { recursive: true });
    copyFileSync(join(project.dir, 'node_modules/tabllm/dist/worker/engine.worker.js'), join(out, 'worker/engine.worker.js'));
    copyFileSync(STORIES_GGUF, join(out, 'stories260K.gguf'));
    writeFileSync(join(out, 'index.html'), INDEX_HTML);
    expectPage(await runBuiltPage(out));
  });

  it('npx tabllm run prints llama2.c text', { timeout: 120_000 }, () => {
    const r = project.run('npx', ['tabllm', 'run', STORIES_GGUF, '-p', PROMPT, '-n', '64', '--temperature', '0'], { timeoutMs: 110_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe(CASE2);
  });

  it("npx tabllm serve: the port first (/health 503 while loading), then /v1/models is 'stories260K'", { timeout: 120_000 }, async () => {
    const serve = start(project, 'npx', ['tabllm', 'serve', STORIES_GGUF, '--port', '0'], /listening at (http:\/\/\S+)/);
    try {
      const url = (await serve.matched)[1]!;
      const statuses: number[] = [];
      for (;;) {
        const status = (await fetch(`${url}/health`)).status;
        statuses.push(status);
        if (status === 200) break;
        expect(status).toBe(503);
        await new Promise((r) => setTimeout(r, 50));
      }
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(['stories260K']);
      const tags = (await (await fetch(`${url}/api/tags`)).json()) as { models: { name: string }[] };
      expect(tags.models.map((m) => m.name)).toEqual(['stories260K:latest']);
      expect(serve.output()).toMatch(/serving 'stories260K'/);
    } finally {
      await stop(serve.child);
    }
  });
});
