// Service-worker relay in Chromium: a controlled page calls http://localhost:8000/v1 (where
// nothing listens) and gets answers from the FakeEngine of another tab through worker/sw.ts;
// the app's own routes (`/api/own` on the page's origin) stay its server's unless opted in.
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, type TestBrowser, type TestPage } from '../helpers/browser';

type Counts = { inFlight: number; aborted: number; received: number; announcements: number };
type Got = { status: number; text: string; errorCode: string | null };

describe('service worker relay (Chromium)', () => {
  let dev: TestBrowser;
  let context: BrowserContext;
  let host: Page;
  let client: Page;
  const opened: { name: string; t: TestPage }[] = [];
  /** Every opened page's uncaught errors, prefixed with the page's name. */
  const pageErrors = () => opened.flatMap(({ name, t }) => t.pageErrors.map((m) => `${name}: ${m}`));
  /** Requests for the app's own route `/api/own` that reached the dev server. */
  let ownRouteHits = 0;

  async function openPage(name: string, inContext = context, query = ''): Promise<Page> {
    const t = await dev.open(`/test/e2e/pages/${name}.html${query}`, { readyFlag: 'swReady', context: inContext });
    opened.push({ name, t });
    return t.page;
  }
  const counts = (): Promise<Counts> => host.evaluate(() => (window as unknown as { swHost: { counts(): Counts } }).swHost.counts());
  const post = (url: string, body: unknown) =>
    client.evaluate(([u, b]) => (window as unknown as { swClient: { post(u: string, b: unknown): Promise<{ status: number; body: unknown; errorCode: string | null }> } }).swClient.post(u, b), [url, body] as const);
  const get = (page: Page, url: string): Promise<Got> => page.evaluate((u) => (window as unknown as { swClient: { get(u: string): Promise<Got> } }).swClient.get(u), url);

  beforeAll(async () => {
    dev = await openTestBrowser();
    // The worker script lives under /worker/ but must control /: allow the wider scope.
    // `/api/own` plays the app's own API route on the page's origin.
    dev.server.middlewares.stack.unshift({
      route: '',
      handle: (req: { url?: string }, res: { setHeader(n: string, v: string): void; end(body: string): void }, next: () => void) => {
        if (req.url === '/api/own') {
          ownRouteHits++;
          res.setHeader('content-type', 'application/json');
          return res.end(JSON.stringify({ own: 'the app server' }));
        }
        if (req.url?.startsWith('/worker/sw.ts')) res.setHeader('Service-Worker-Allowed', '/');
        next();
      },
    } as never);
    context = await dev.browser.newContext();
    host = await openPage('sw-host');
    client = await openPage('sw-client');
  });

  afterAll(async () => {
    await dev?.close();
  });

  it('a controlled page fetches http://localhost:8000/v1/completions and gets the host engine answer', async () => {
    expect(await client.evaluate(() => (window as unknown as { swClient: { controlled(): boolean } }).swClient.controlled())).toBe(true);
    const r = await post('http://localhost:8000/v1/completions', { model: 'fake-model', prompt: 'hello from a tab', max_tokens: 8, temperature: 0 });
    expect(r.status).toBe(200);
    expect((r.body as { choices: { text: string }[] }).choices[0].text).toBe('You said: hello from a tab');
    expect((await counts()).received).toBe(1);
    // Ollama's port and a same-origin prefix go to the same engine.
    const ollama = await post('http://localhost:11434/api/generate', { model: 'fake-model', prompt: 'hi', stream: false, options: { temperature: 0 } });
    expect(ollama.status).toBe(200);
    expect((ollama.body as { response: string }).response).toBe('You said: hi');
  });

  it("the app's own /api/own reaches its server: same-origin relaying is off by default", async () => {
    const before = ownRouteHits;
    expect(await get(client, `${dev.url}/api/own`)).toEqual({ status: 200, text: '{"own":"the app server"}', errorCode: null });
    expect(ownRouteHits).toBe(before + 1);
    // A configured origin's non-API paths go to the network too (nothing listens on :8000).
    const file = await client.evaluate(() => fetch('http://localhost:8000/data.json').then(() => 'answered', (e: Error) => e.name));
    expect(file).toBe('TypeError');
  });

  it('an opted-in same-origin prefix is relayed: /api/own gets the router, /v1/ the engine', async () => {
    const optedIn = await dev.browser.newContext();
    try {
      const query = '?sameOriginPrefixes=/api/,/v1/';
      await openPage('sw-host', optedIn, query);
      const page = await openPage('sw-client', optedIn, query);
      const before = ownRouteHits;
      const own = await get(page, `${dev.url}/api/own`);
      expect([own.status, own.errorCode]).toEqual([404, 'not_found']);
      expect(typeof (JSON.parse(own.text) as { error: unknown }).error).toBe('string');
      expect(ownRouteHits).toBe(before);
      const sameOrigin = await page.evaluate(
        (u) => (window as unknown as { swClient: { post(u: string, b: unknown): Promise<{ body: unknown }> } }).swClient.post(u, { model: 'fake-model', prompt: 'same origin', max_tokens: 8, temperature: 0 }),
        `${dev.url}/v1/completions`,
      );
      expect((sameOrigin.body as { choices: { text: string }[] }).choices[0].text).toBe('You said: same origin');
      // The page's files are outside the prefixes.
      const file = await get(page, `${dev.url}/test/e2e/pages/data.json`);
      expect([file.status, JSON.parse(file.text)]).toEqual([200, { own: "file of the page's server" }]);
    } finally {
      await optedIn.close();
    }
  });

  it('the openai client streams through the relay', async () => {
    const r = await client.evaluate(() => (window as unknown as { swClient: { openaiStream(p: string): Promise<{ text: string; chunks: number }> } }).swClient.openaiStream('stream me please'));
    expect(r.text).toBe('You said: stream me please');
    expect(r.chunks).toBeGreaterThan(3);
  });

  it('aborting mid-stream aborts the request in the host engine', async () => {
    const before = await counts();
    const seen = await client.evaluate(() => (window as unknown as { swClient: { abortMidStream(n: number): Promise<number> } }).swClient.abortMidStream(3));
    expect(seen).toBe(3);
    await host.waitForFunction(
      (n) => (window as unknown as { swHost: { counts(): Counts } }).swHost.counts().aborted === n + 1,
      before.aborted,
      { timeout: 10_000 },
    );
    const after = await counts();
    expect(after.aborted).toBe(before.aborted + 1);
    expect(after.inFlight).toBe(0);
  });

  it('closing the requesting tab mid-stream aborts the request in the host engine', async () => {
    const before = await counts();
    const leaving = await openPage('sw-client');
    await leaving.evaluate(() => (window as unknown as { swClient: { startStream(): void } }).swClient.startStream());
    await leaving.waitForFunction(() => (window as unknown as { swClient: { streamed(): number } }).swClient.streamed() >= 2);
    await leaving.close();
    await host.waitForFunction(
      (n) => (window as unknown as { swHost: { counts(): Counts } }).swHost.counts().aborted === n + 1,
      before.aborted,
      { timeout: 10_000 },
    );
    expect((await counts()).inFlight).toBe(0);
  });

  it('a restarted service worker finds the host again (discover)', async () => {
    // Browsers stop idle service workers; the restarted one has an empty host table.
    const announced = (await counts()).announcements;
    const cdp = await context.newCDPSession(client);
    await cdp.send('ServiceWorker.enable');
    await cdp.send('ServiceWorker.stopAllWorkers');
    const r = await post('http://localhost:8000/v1/completions', { model: 'fake-model', prompt: 'after restart', max_tokens: 8, temperature: 0 });
    expect(r.status).toBe(200);
    expect((r.body as { choices: { text: string }[] }).choices[0].text).toBe('You said: after restart');
    expect((await counts()).announcements).toBe(announced + 1);
    await cdp.detach();
  });

  it('with no host page, relayed requests get 503 with an OpenAI error', async () => {
    await host.close();
    const r = await post('http://localhost:8000/v1/completions', { model: 'fake-model', prompt: 'anyone?' });
    expect(r.status).toBe(503);
    expect(r.errorCode).toBe('no_engine_host');
    expect(r.body).toMatchObject({ error: { type: 'server_error', code: 'no_engine_host' } });
    const ollama = await post('http://localhost:11434/api/chat', { model: 'fake-model', messages: [] });
    expect(ollama.status).toBe(503);
    expect(typeof (ollama.body as { error: unknown }).error).toBe('string');
  });

  it('hosting without a registered service worker is a coded error, not a hang', async () => {
    const fresh = await dev.browser.newContext();
    const page = await fresh.newPage();
    await page.goto(`${dev.url}/test/e2e/pages/storage.html`);
    // A string, so vitest's transform does not rewrite the page-side dynamic imports.
    const code = await page.evaluate(`(async () => {
      const { hostEngineForServiceWorker } = await import('/src/client/sw-host.ts');
      const { FakeEngine } = await import('/test/helpers/fake-engine.ts');
      return hostEngineForServiceWorker(new FakeEngine()).then(() => 'hosted', (e) => e.code);
    })()`);
    expect(code).toBe('service_worker_unavailable');
    await fresh.close();
  });

  it('a new host page is found again', async () => {
    host = await openPage('sw-host');
    const r = await post('http://localhost:8000/v1/completions', { model: 'fake-model', prompt: 'back again', max_tokens: 8, temperature: 0 });
    expect(r.status).toBe(200);
    expect((r.body as { choices: { text: string }[] }).choices[0].text).toBe('You said: back again');
    expect(pageErrors()).toEqual([]);
  });
});
