import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startDevServer } from '../helpers/browser';

type SmokeResult = { adapter: string; got: number[]; want: number[] };

describe('gpu smoke (Chromium)', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    const dev = await startDevServer();
    server = dev.server;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    await page.goto(`${dev.url}/test/e2e/pages/smoke.html`);
    await page.waitForFunction(() => (window as unknown as { smokeReady?: boolean }).smokeReady === true);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  function check(r: SmokeResult) {
    expect(r.got.length).toBe(1001);
    expect(r.got).toEqual(r.want);
  }

  it('runs a compute shader in a page', async () => {
    const r = await page.evaluate(() => (window as unknown as { runPageSmoke: () => Promise<SmokeResult> }).runPageSmoke());
    check(r);
  });

  it('runs a compute shader in a dedicated worker', async () => {
    const r = await page.evaluate(() => (window as unknown as { runWorkerSmoke: () => Promise<SmokeResult> }).runWorkerSmoke());
    check(r);
    expect(consoleErrors).toEqual([]);
  });
});
