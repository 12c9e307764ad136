// The WebGPU runner in Chromium: stories260K fetched from the dev server, decoded greedily
// from BOS one token per step in a page, reproduces llama2.c's 256 ids.
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startDevServer } from '../helpers/browser';
import { referenceIds, STORIES_GGUF } from '../helpers/stories-reference';


type Result = { adapter: string; ids: number[]; msPerStep: number; submitsPerStep: number } | { error: string };

describe('GPU runner in Chromium', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  let url: string;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const dev = await startDevServer();
    server = dev.server;
    url = dev.url;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`${url}/test/e2e/pages/runner.html`);
    await page.waitForFunction(() => (window as unknown as { runnerReady?: boolean }).runnerReady === true);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('decodes llama2.c\'s 256 greedy ids from BOS in a page', async () => {
    const expected = referenceIds();
    expect(expected.length).toBe(256);
    const model = `/@fs${STORIES_GGUF}`;
    const r = await page.evaluate(([m, n]) => (window as unknown as { runGreedy: (u: string, p: number[], n: number) => Promise<Result> }).runGreedy(m, [1], n), [model, 256] as const);
    if ('error' in r) throw new Error(r.error);
    console.info(`Chromium runner: ${r.adapter}, ${r.msPerStep.toFixed(0)} ms/step`);
    expect(r.ids).toEqual(expected);
    expect(r.submitsPerStep).toBe(1);
    expect(consoleErrors).toEqual([]);
  }, 1_800_000);
});
