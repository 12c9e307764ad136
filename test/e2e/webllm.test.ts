// A WebLLM app's worker setup in Chromium on WebGPU, switched to tabllm/webllm: a real
// `new Worker(...)` running WebWorkerMLCEngineHandler, the real WebGPU runner, browser
// storage, and stories260K (which must reproduce llama2.c's greedy text).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, SHARED_DIR, startDevServer } from '../helpers/browser';

const REF = readFileSync(resolve(SHARED_DIR, 'fixtures/stories260K/reference-greedy.txt'), 'utf8');
const STORIES = resolve(SHARED_DIR, 'fixtures/stories260K/stories260K.gguf');
const N = 48;

interface AppResult {
  reports: { progress: number; timeElapsed: number; text: string }[];
  text: string; pieces: number; finish: string | null; completionTokens: number; message: string; stats: string; vendor: string;
  noTemplate: { name: string; code?: string }; unknownId: { name: string } | undefined;
}

describe('tabllm/webllm in Chromium (worker, WebGPU)', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const dev = await startDevServer();
    server = dev.server;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${dev.url}/test/e2e/pages/webllm.html`);
    await page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true, null, { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('CreateWebWorkerMLCEngine loads a model_list GGUF URL and streams the greedy reference', async () => {
    const r = (await page.evaluate(([u, n]) => (window as unknown as { runWebLLMApp: (u: string, n: number) => Promise<unknown> }).runWebLLMApp(u as string, n as number), [`/@fs${STORIES}`, N])) as AppResult;
    expect(r.reports.at(-1)!.progress).toBe(1);
    expect(r.reports.at(-1)!.text).toMatch(/^Finish loading on WebGPU - /);
    expect(r.text.startsWith('Once upon a time, there was a little girl named Lily.')).toBe(true);
    expect(REF).toContain(r.text.slice(0, 40));
    expect(r.pieces).toBeGreaterThan(5);
    expect(r.finish).toBe('length');
    expect(r.completionTokens).toBe(N);
    expect(r.message).toBe(r.text);
    expect(r.stats).toMatch(/^prefill: \d+\.\d{4} tokens\/sec, decoding: \d+\.\d{4} tokens\/sec$/);
    expect(typeof r.vendor).toBe('string');
    // stories260K has no chat template: tabllm's coded error crosses the worker with its name and code.
    expect(r.noTemplate).toMatchObject({ code: 'model_has_no_chat_template' });
    expect(r.unknownId).toEqual({ name: 'ModelNotFoundError' });
    expect(errors).toEqual([]);
  });
});
