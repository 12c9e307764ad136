// Two tabs of one origin share one engine through a SharedWorker: the model loads once,
// both tabs generate, and their requests meet in the same KV cache.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, type TestBrowser, type TestPage } from '../helpers/browser';
import { referenceIds, STORIES_GGUF as STORIES } from '../helpers/stories-reference';

const REF_IDS = referenceIds();

type Api = {
  connect: (u: string) => Promise<{ loadMs: number; created: number; connectMs: number }>;
  complete: (n: number) => Promise<number[]>;
  stats: () => Promise<{ kvBlocksUsed: number; kvBlocksTotal: number }>;
};

describe('shared engine across tabs (Chromium SharedWorker)', () => {
  let session: TestBrowser;
  let tabs: Page[] = [];
  let pageErrors: () => string[];

  beforeAll(async () => {
    session = await openTestBrowser();
    // Two tabs of one origin: pages of one context.
    const context = await session.browser.newContext();
    const opened: TestPage[] = [];
    for (let i = 0; i < 2; i++) opened.push(await session.open('/test/e2e/pages/shared-engine.html', { context }));
    tabs = opened.map((t) => t.page);
    pageErrors = () => opened.flatMap((t) => t.pageErrors);
  });

  afterAll(async () => {
    await session?.close();
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
    expect(pageErrors()).toEqual([]);
  });
});
