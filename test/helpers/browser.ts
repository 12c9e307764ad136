// Browser e2e helpers: a Vite dev server on 127.0.0.1 (a secure context, so WebGPU works)
// rooted at the project, and Debian's Chromium driven by playwright-core.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DIR = resolve(PROJECT_ROOT, '../shared');

export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error('Chromium not found: apt-get install -y chromium (or set CHROMIUM_PATH)');
  return found;
}

/** `extraArgs`: more Chromium flags, e.g. `--host-resolver-rules=MAP evil.test 127.0.0.1`. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}

export async function startDevServer(): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root: PROJECT_ROOT,
    configFile: false,
    logLevel: 'error',
    server: { host: '127.0.0.1', port: 0, strictPort: false, fs: { allow: [PROJECT_ROOT, SHARED_DIR] }, hmr: false },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  const addr = server.httpServer?.address();
  if (!addr || typeof addr === 'string') throw new Error('dev server has no address');
  return { server, url: `http://127.0.0.1:${addr.port}` };
}

export interface TestPage {
  page: Page;
  /** Console errors and uncaught page errors, in order. */
  errors: string[];
  close(): Promise<void>;
}

/**
 * A dev server, Chromium and a page at `path` (e.g. `/test/e2e/pages/x.html`) that has set
 * `window[readyFlag] = true` (default `pageReady`); console and page errors are collected
 * into `errors`.
 */
export async function openTestPage(path: string, { readyFlag = 'pageReady' }: { readyFlag?: string } = {}): Promise<TestPage> {
  const dev = await startDevServer();
  const errors: string[] = [];
  let browser: Browser | undefined;
  try {
    browser = await launchChromium();
    const page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${dev.url}${path}`);
    await page.waitForFunction((flag) => (window as unknown as Record<string, unknown>)[flag] === true, readyFlag, { timeout: 60_000 });
    const b = browser;
    return { page, errors, close: async () => { await b.close(); await dev.server.close(); } };
  } catch (e) {
    await browser?.close();
    await dev.server.close();
    throw e;
  }
}
