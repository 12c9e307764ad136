// Runs the host-neutral bench measurements in headless Chromium (Debian's, through
// playwright-core, with the flags of test/helpers/browser.ts): a Vite dev server on
// 127.0.0.1 serves bench/pages/bench.html (which imports bench/lib/*-measure.ts) and the
// model files (stories260K copied, generated models written by Node) with HTTP Range;
// `call` runs one measuring function in the page and returns its plain-data result.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../../test/helpers/browser';
import type { BenchApi } from '../pages/bench-page';
import { MODEL_ROUTE, startPeerServer } from './peer-server';

export interface BenchPage {
  /** "Chromium 1xx.x.x.x" (the browser playwright launched). */
  chromium: string;
  adapter: { name: string; software: boolean };
  /** The host line of a report: browser, headless, WebGPU. */
  host: string;
  /** Serves a model to the page (bytes, or a file path copied once); returns its URL. */
  serveModel(name: string, model: Uint8Array | string): string;
  call<K extends keyof BenchApi>(name: K, ...args: Parameters<BenchApi[K]>): Promise<Awaited<ReturnType<BenchApi[K]>>>;
  close(): Promise<void>;
}

export async function openBenchPage(tag: string): Promise<BenchPage> {
  const modelDir = mkdtempSync(join(tmpdir(), 'tabllm-bench-'));
  const { server, url } = await startPeerServer(modelDir);
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page: Page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning' || m.text().startsWith('[bench ')) console.error(`[${tag} page] ${m.text()}`);
    });
    page.on('pageerror', (e) => console.error(`[${tag} page] uncaught: ${e.message}`));
    page.setDefaultTimeout(0);
    await page.goto(`${url}/bench/pages/bench.html`);
    await page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true, undefined, { timeout: 120_000 });
    const call: BenchPage['call'] = (name, ...args) =>
      page.evaluate(
        ([n, a]) => (window as unknown as { tabllmBench: Record<string, (...x: unknown[]) => Promise<unknown>> }).tabllmBench[n]!(...a),
        [name, args] as [string, unknown[]],
      ) as never;
    const chromium = `Chromium ${browser.version()}`;
    const adapter = await call('adapter');
    const opened = browser;
    return {
      chromium,
      adapter,
      host: `${chromium}, headless (playwright-core), navigator.gpu`,
      serveModel(name, model) {
        const file = basename(name);
        if (typeof model === 'string') copyFileSync(model, join(modelDir, file));
        else writeFileSync(join(modelDir, file), model);
        return `${url}${MODEL_ROUTE}${encodeURIComponent(file)}`;
      },
      call,
      async close() {
        await opened.close();
        await server.close();
        rmSync(modelDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await browser?.close();
    await server.close();
    rmSync(modelDir, { recursive: true, force: true });
    throw e;
  }
}
