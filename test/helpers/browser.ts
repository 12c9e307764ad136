// Browser e2e helpers: a Vite dev server on 127.0.0.1 (a secure context, so WebGPU works)
// rooted at the project, and Debian's Chromium driven by playwright-core.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
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

/**
 * A Vite dev server on 127.0.0.1: rooted at the project by default, or run with a Vite
 * `configFile` of its own (the demo's, which roots it at demo/ and serves /models/).
 */
export async function startDevServer({ configFile }: { configFile?: string } = {}): Promise<{ server: ViteDevServer; url: string }> {
  const server = configFile
    ? await createServer({ configFile, logLevel: 'error', server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false } })
    : await createServer({
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
  /** Uncaught page errors only (tests that tolerate console noise assert on these). */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Waits until the page has set `window[readyFlag] = true`. */
async function waitReady(page: Page, readyFlag: string): Promise<void> {
  await page.waitForFunction((flag) => (window as unknown as Record<string, unknown>)[flag] === true, readyFlag, { timeout: 60_000 });
}

export interface OpenOptions {
  /** The window flag the page sets once ready (default `pageReady`). */
  readyFlag?: string;
  /** Instead of a flag: the page is ready once this selector matches (e.g. `body[data-model-ready]`). */
  readySelector?: string;
  /** Open the page in this context (e.g. a second tab of one origin); default the browser's default context. */
  context?: BrowserContext;
}

/** One dev server and one Chromium, for tests that open several pages or contexts. */
export interface TestBrowser {
  /** The dev server's origin, `http://127.0.0.1:<port>`. */
  url: string;
  /** The dev server, for tests that add a middleware before opening pages. */
  server: ViteDevServer;
  browser: Browser;
  /** A new page at `path` (e.g. `/test/e2e/pages/x.html?q=1`), once it is ready. */
  open(path: string, options?: OpenOptions): Promise<TestPage>;
  /** Navigates an open page to `path` again and waits for its ready flag (a reload). */
  goto(page: Page, path: string, readyFlag?: string): Promise<void>;
  close(): Promise<void>;
}

/** `configFile`: the dev server's own Vite config (see startDevServer). */
export async function openTestBrowser(options: { configFile?: string } = {}): Promise<TestBrowser> {
  const dev = await startDevServer(options);
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (e) {
    await dev.server.close();
    throw e;
  }
  const close = async () => {
    await browser.close();
    await dev.server.close();
  };
  const goto = async (page: Page, path: string, readyFlag = 'pageReady') => {
    await page.goto(`${dev.url}${path}`);
    await waitReady(page, readyFlag);
  };
  return {
    url: dev.url,
    server: dev.server,
    browser,
    goto,
    close,
    open: async (path, { readyFlag = 'pageReady', readySelector, context } = {}) => {
      const page = await (context ?? browser).newPage();
      const errors: string[] = [];
      const pageErrors: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
      page.on('pageerror', (e) => { errors.push(String(e)); pageErrors.push(e.message); });
      if (readySelector === undefined) await goto(page, path, readyFlag);
      else {
        await page.goto(`${dev.url}${path}`);
        await page.waitForSelector(readySelector, { timeout: 60_000 });
      }
      return { page, errors, pageErrors, close: () => page.close() };
    },
  };
}

/**
 * A dev server, Chromium and a page at `path` (e.g. `/test/e2e/pages/x.html`) that has set
 * `window[readyFlag] = true` (default `pageReady`); console and page errors are collected
 * into `errors`. Closing the page closes the browser and the server.
 */
export async function openTestPage(path: string, { readyFlag = 'pageReady' }: { readyFlag?: string } = {}): Promise<TestPage> {
  const session = await openTestBrowser();
  try {
    const t = await session.open(path, { readyFlag });
    return { ...t, close: session.close };
  } catch (e) {
    await session.close();
    throw e;
  }
}
