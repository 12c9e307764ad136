// installFetchShim in Chromium: the openai client pointed at http://localhost:8000/v1 works
// with nothing listening on that port, Ollama's port too, and other fetches are untouched;
// on the page's own origin the shim takes the API paths and leaves the page's files.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPage, PROJECT_ROOT, type TestPage } from '../helpers/browser';

type W = Record<string, () => Promise<unknown>>;

describe('fetch shim (Chromium)', () => {
  let t: TestPage;
  let page: Page;
  const requestsTo8000: string[] = [];

  beforeAll(async () => {
    // The page makes no request to these ports while it loads (it installs the shim first),
    // so listening from the ready page on sees every one.
    t = await openTestPage('/test/e2e/pages/shim.html', { readyFlag: 'shimReady' });
    page = t.page;
    page.on('request', (r) => {
      if (/localhost:8000|127\.0\.0\.1:11434/.test(r.url())) requestsTo8000.push(r.url());
    });
  });

  afterAll(async () => {
    await t?.close();
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

describe("fetch shim on the page's own origin (Chromium)", () => {
  type Got = { status: number; text: string; errorCode: string | null };
  let t: TestPage;
  const network: string[] = [];
  const get = (path: string) => t.page.evaluate((p) => (window as unknown as { shimGet(p: string): Promise<Got> }).shimGet(p), path);

  beforeAll(async () => {
    // The shim is installed with origins: [the page's own origin], like a page served from :8000.
    t = await openTestPage('/test/e2e/pages/shim-own-origin.html');
    t.page.on('request', (r) => network.push(new URL(r.url()).pathname));
  });

  afterAll(async () => {
    await t?.close();
  });

  it("the page's own files come from its server; the API paths from the engine", async () => {
    const file = await get('/test/e2e/pages/data.json');
    expect(file.status).toBe(200);
    expect(JSON.parse(file.text)).toEqual(JSON.parse(readFileSync(resolve(PROJECT_ROOT, 'test/e2e/pages/data.json'), 'utf8')));
    const models = await get('/v1/models');
    expect(models.status).toBe(200);
    expect((JSON.parse(models.text) as { data: { id: string }[] }).data.map((m) => m.id)).toEqual(['fake-model']);
    const tags = await get('/api/tags');
    expect((JSON.parse(tags.text) as { models: { name: string }[] }).models.map((m) => m.name)).toEqual(['fake-model:latest']);
    // `/` is the page's index here, not Ollama's liveness probe: the dev server (which has
    // no index page at the project root) answers its own 404.
    const root = await get('/');
    expect(root).toEqual({ status: 404, text: '', errorCode: null });
    expect(network).toEqual(['/test/e2e/pages/data.json', '/']);
    expect(t.errors).toEqual(['Failed to load resource: the server responded with a status of 404 (Not Found)']);
  });
});
