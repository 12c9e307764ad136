// `tabllm serve`'s origin and host policy as Chromium enforces it. Chromium maps the name
// evil.test to 127.0.0.1, so a page at http://evil.test:PORT is a foreign site that reaches
// the local server: by default its fetches are refused (403, no CORS headers: fetch rejects)
// and its no-preflight text/plain POST never reaches the engine; with
// --allow-origin http://evil.test:PORT the same page gets answers. A page served from the
// API's own port under that name (DNS rebinding) gets 403 host_not_allowed.
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCliArgs, type ServeArgs } from '../../src/cli/args';
import { serveCommand, type EngineFactory } from '../../src/cli/commands';
import type { RunningServer } from '../../src/cli/http-server';
import type { LocalEngine } from '../../src/openai/local-engine';
import { FakeEngine } from '../helpers/fake-engine';
import { launchChromium } from '../helpers/browser';

const quiet = { stdout: () => {}, stderr: () => {} };

async function serve(engine: FakeEngine, flags: string[]): Promise<RunningServer> {
  const factory: EngineFactory = async () => Object.assign(engine, { destroy: async () => {} }) as unknown as LocalEngine;
  return serveCommand(parseCliArgs(['serve', 'm.gguf', '--port', '0', ...flags]) as ServeArgs, factory, quiet);
}

/** What the page's fetch saw: a status and body, or the error fetch threw. */
type Outcome = { status: number; body: string } | { error: string };

function pageFetch(page: Page, url: string, init: { method?: string; headers?: Record<string, string>; body?: string; mode?: RequestMode } = {}): Promise<Outcome> {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const r = await fetch(url, init);
        return { status: r.status, body: r.type === 'opaque' ? '(opaque)' : await r.text() };
      } catch (e) {
        return { error: String(e) };
      }
    },
    { url, init },
  );
}

const chatInit = (headers: Record<string, string>) => ({
  method: 'POST',
  headers,
  body: JSON.stringify({ messages: [{ role: 'user', content: 'hello there' }], max_tokens: 8, temperature: 0 }),
});

describe('tabllm serve: foreign origins in Chromium', () => {
  let pageServer: Server;
  let pagePort: number;
  let browser: Browser;
  let page: Page;
  const strictEngine = new FakeEngine();
  const allowedEngine = new FakeEngine();
  let strict: RunningServer;
  let allowed: RunningServer;

  beforeAll(async () => {
    pageServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>evil</title>'));
    await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', r));
    pagePort = (pageServer.address() as { port: number }).port;
    strict = await serve(strictEngine, []);
    allowed = await serve(allowedEngine, ['--allow-origin', `http://evil.test:${pagePort}`]);
    browser = await launchChromium(['--host-resolver-rules=MAP evil.test 127.0.0.1']);
    page = await browser.newPage();
    await page.goto(`http://evil.test:${pagePort}/page.html`);
    expect(await page.evaluate(() => location.origin)).toBe(`http://evil.test:${pagePort}`);
  });

  afterAll(async () => {
    await browser?.close();
    await strict?.close(0);
    await allowed?.close(0);
    await new Promise((r) => pageServer?.close(r));
  });

  it('by default the page cannot read the server: GET and a preflighted JSON POST both fail in fetch', async () => {
    const models = await pageFetch(page, `${strict.url}/v1/models`);
    expect(models).toMatchObject({ error: expect.stringMatching(/TypeError: Failed to fetch/) });
    const chat = await pageFetch(page, `${strict.url}/v1/chat/completions`, chatInit({ 'content-type': 'application/json' }));
    expect(chat).toMatchObject({ error: expect.stringMatching(/TypeError: Failed to fetch/) });
    expect(strictEngine.received).toEqual([]);
  });

  it('a text/plain POST (a simple request, sent without a preflight) is refused before the engine', async () => {
    const before = strictEngine.received.length;
    // no-cors: the browser sends it and hides the answer; only the server can refuse it.
    const outcome = await pageFetch(page, `${strict.url}/v1/chat/completions`, { ...chatInit({ 'content-type': 'text/plain' }), mode: 'no-cors' });
    expect(outcome).toEqual({ status: 0, body: '(opaque)' });
    expect(strictEngine.received).toHaveLength(before);
  });

  it('with --allow-origin for the page, the same fetches get answers', async () => {
    const models = await pageFetch(page, `${allowed.url}/v1/models`);
    expect(models).toMatchObject({ status: 200 });
    expect(JSON.parse((models as { body: string }).body).data[0].id).toBe('fake-model');
    const chat = await pageFetch(page, `${allowed.url}/v1/chat/completions`, chatInit({ 'content-type': 'application/json', authorization: 'Bearer x' }));
    expect(chat).toMatchObject({ status: 200 });
    expect(JSON.parse((chat as { body: string }).body).choices[0].message.content).toBe('You said: hello there');
    expect(allowedEngine.received).toHaveLength(1);
  });

  it('DNS rebinding: a page under a foreign name on the server’s own port is same-origin, and gets 403 host_not_allowed', async () => {
    const apiPort = new URL(strict.url).port;
    const rebound = await browser.newPage();
    try {
      const response = await rebound.goto(`http://evil.test:${apiPort}/v1/models`);
      expect(response?.status()).toBe(403);
      const outcome = await pageFetch(rebound, `http://evil.test:${apiPort}/v1/models`);
      expect(outcome).toMatchObject({ status: 403 });
      expect(JSON.parse((outcome as { body: string }).body).error.code).toBe('host_not_allowed');
    } finally {
      await rebound.close();
    }
  });
});
