// installFetchShim in Chromium: the openai client pointed at http://localhost:8000/v1 works
// with nothing listening on that port, Ollama's port too, and other fetches are untouched.
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startDevServer } from '../helpers/browser';

type W = Record<string, () => Promise<unknown>>;

describe('fetch shim (Chromium)', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  const requestsTo8000: string[] = [];

  beforeAll(async () => {
    const dev = await startDevServer();
    server = dev.server;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('request', (r) => {
      if (/localhost:8000|127\.0\.0\.1:11434/.test(r.url())) requestsTo8000.push(r.url());
    });
    await page.goto(`${dev.url}/test/e2e/pages/shim.html`);
    await page.waitForFunction(() => (window as unknown as { shimReady?: boolean }).shimReady === true, null, { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('serves the openai client at localhost:8000 from the page, with no network request', async () => {
    const r = (await page.evaluate(() => (window as unknown as W).openaiChat!())) as { content: string; streamed: string; models: string[] };
    expect(r.content).toBe('You said: hello there');
    expect(r.streamed).toBe('You said: stream me');
    expect(r.models).toEqual(['fake-model']);
    expect(requestsTo8000).toEqual([]);
  });

  it("serves Ollama's /api/generate on port 11434", async () => {
    const r = (await page.evaluate(() => (window as unknown as W).ollamaFetch!())) as { response: string; done: boolean; model: string };
    expect(r.done).toBe(true);
    expect(r.response).toBe('You said: hi');
  });

  it('passes other requests through untouched, and uninstall restores the network path', async () => {
    const r = (await page.evaluate(() => (window as unknown as W).unrelated!())) as { status: number; text: string };
    expect(r).toEqual({ status: 200, text: '<!doctype html>' });
    expect(await page.evaluate(() => (window as unknown as W).afterUninstall!())).toBe('TypeError');
    expect(requestsTo8000).toEqual(['http://localhost:8000/v1/models']);
  });
});
