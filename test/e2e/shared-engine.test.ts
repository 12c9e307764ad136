// Two tabs of one origin share one engine through a SharedWorker: the model loads once,
// both tabs generate, and their requests meet in the same KV cache.
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startDevServer } from '../helpers/browser';
import { referenceIds, STORIES_GGUF as STORIES } from '../helpers/stories-reference';

const REF_IDS = referenceIds();

type Api = {
  connect: (u: string) => Promise<{ loadMs: number; created: number; connectMs: number }>;
  complete: (n: number) => Promise<number[]>;
  stats: () => Promise<{ kvBlocksUsed: number; kvBlocksTotal: number }>;
};

describe('shared engine across tabs (Chromium SharedWorker)', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let tabs: Page[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    const dev = await startDevServer();
    server = dev.server;
    browser = await launchChromium();
    const context = await browser.newContext();
    for (let i = 0; i < 2; i++) {
      const page = await context.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${dev.url}/test/e2e/pages/shared-engine.html`);
      await page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true, null, { timeout: 60_000 });
      tabs.push(page);
    }
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('loads the model once and serves both tabs from it', async () => {
    const url = `/@fs${STORIES}`;
    const a = await tabs[0]!.evaluate((u) => (window as unknown as Api).connect(u), url);
    const b = await tabs[1]!.evaluate((u) => (window as unknown as Api).connect(u), url);
    // Same engine instance: same load record (a second load would have its own timing).
    expect(b.loadMs).toBe(a.loadMs);
    expect(b.created).toBe(a.created);
    const [idsA, idsB] = await Promise.all(tabs.map((t) => t.evaluate(() => (window as unknown as Api).complete(12))));
    expect(idsA).toEqual(REF_IDS.slice(0, 12));
    expect(idsB).toEqual(REF_IDS.slice(0, 12));
    const s = await tabs[1]!.evaluate(() => (window as unknown as Api).stats());
    expect(s.kvBlocksUsed).toBe(0);
    expect(errors).toEqual([]);
  });
});
