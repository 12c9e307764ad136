// The demo page, walked in Chromium on the real WebGPU runner (SwiftShader here): the
// default model (stories260K, served offline by the demo's Vite plugin) loads with the bar
// at 100%; a temperature-0 completion streams llama2.c's reference text; the flow tab runs
// 8 rows at concurrency 8; the models tab lists the cached model and deletes it; bad
// inputs show coded errors; no console errors. Screenshots go to test-results/demo-screenshots/
// (ignored); TABLLM_UPDATE_SCREENSHOTS=1 writes the README's copies in demo/screenshots/.
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, PROJECT_ROOT, SHARED_DIR, startDevServer } from '../helpers/browser';

// A test run must not rewrite tracked files: the README's screenshots change only on request.
const SCREENSHOTS = resolve(PROJECT_ROOT, process.env.TABLLM_UPDATE_SCREENSHOTS === '1' ? 'demo/screenshots' : 'test-results/demo-screenshots');
const REFERENCE = readFileSync(resolve(SHARED_DIR, 'fixtures/stories260K/reference-greedy.txt'), 'utf8');

/** The text between the `-----8<-----` markers after `heading` (run.c's stdout). */
function referenceBlock(heading: string): string {
  const from = REFERENCE.indexOf(heading);
  if (from < 0) throw new Error(`reference-greedy.txt has no '${heading}'`);
  const start = REFERENCE.indexOf('-----8<-----\n', from) + '-----8<-----\n'.length;
  const end = REFERENCE.indexOf('-----8<-----', start);
  return REFERENCE.slice(start, end);
}
// Case 1 runs from BOS alone; its first 64 sampled ids are case 2's 64 ids, whose printed
// text is case 2's stdout (run.c adds the final newline).
const CASE1_TEXT = referenceBlock('Case 1 stdout');
const FIRST_64_TOKENS = referenceBlock('Case 2 stdout').replace(/\n$/, '');

describe('demo page (Chromium, real WebGPU runner)', () => {
  let dev: { server: ViteDevServer; url: string };
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  const tab = async (name: string) => {
    await page.click(`nav.tabs [data-tab=${name}]`);
    await page.waitForSelector(`#tab-${name}:not([hidden])`);
  };
  const shot = (name: string) => page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`) });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    dev = await startDevServer({ configFile: resolve(PROJECT_ROOT, 'demo/vite.config.ts') });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(dev.url);
  });

  afterAll(async () => {
    await browser?.close();
    await dev?.server.close();
  });

  it('loads the default model with the progress bar reaching 100%', async () => {
    await page.waitForSelector('body[data-model-ready]', { timeout: 90_000 });
    expect(await page.getAttribute('body', 'data-model-ready')).toBe('stories260K');
    expect(await page.$eval('#load-progress', (p) => (p as HTMLProgressElement).value)).toBe(1);
    expect(await page.textContent('#load-stage')).toMatch(/^Ready in \d+\.\d s$/);
    expect(await page.textContent('#model-status')).toContain('stories260K · llama · F32');
    // No chat template: the completion box is the default view.
    expect(await page.$eval('#tab-chat .mode', (s) => (s as HTMLSelectElement).value)).toBe('completion');
  });

  it('streams the stories260K greedy reference text at temperature 0', async () => {
    expect(CASE1_TEXT.startsWith(FIRST_64_TOKENS)).toBe(true);
    await page.fill('#tab-chat .temperature', '0');
    await page.fill('#tab-chat .max-tokens', '64');
    await page.fill('#tab-chat .prompt', '');
    // Count distinct partial texts the page shows before the end: streaming, not one reply.
    await page.evaluate(() => {
      const w = window as unknown as { partials: Set<string> };
      w.partials = new Set();
      new MutationObserver(() => {
        const g = document.querySelector('#tab-chat .message.streaming .generated');
        if (g?.textContent) w.partials.add(g.textContent);
      }).observe(document.querySelector('#tab-chat .messages')!, { subtree: true, childList: true, characterData: true });
    });
    await page.click('#tab-chat .send');
    await page.waitForSelector('#tab-chat .message[data-finish]', { timeout: 120_000 });
    expect(await page.getAttribute('#tab-chat .message', 'data-finish')).toBe('length');
    expect(await page.textContent('#tab-chat .generated')).toBe(FIRST_64_TOKENS);
    const partials = await page.evaluate(() => [...(window as unknown as { partials: Set<string> }).partials]);
    expect(partials.length).toBeGreaterThan(5);
    for (const p of partials) expect(FIRST_64_TOKENS.startsWith(p)).toBe(true);
    expect(await page.textContent('#tab-chat .message .meta')).toMatch(/^1 prompt \+ 64 tokens · \d+ ms to first token · [\d.]+ tok\/s · length$/);
    expect(await page.isHidden('#tab-chat .chat-error')).toBe(true);
    await shot('chat');
  });

  it('stops a streaming completion with the stop button, and the engine frees the request', async () => {
    await page.fill('#tab-chat .temperature', '0.8');
    await page.fill('#tab-chat .seed', '7');
    await page.fill('#tab-chat .max-tokens', '400');
    await page.fill('#tab-chat .prompt', 'Once upon a time');
    await page.click('#tab-chat .send');
    await page.waitForFunction(() => (document.querySelector('#tab-chat .message.streaming .generated')?.textContent ?? '').length > 20, null, { timeout: 60_000 });
    await page.click('#tab-chat .stop');
    await page.waitForSelector('#tab-chat .message[data-finish]', { timeout: 30_000 });
    expect(await page.getAttribute('#tab-chat .message', 'data-finish')).toBe('stopped');
    expect(await page.isHidden('#tab-chat .chat-error')).toBe(true);
    const meta = (await page.textContent('#tab-chat .message .meta')) ?? '';
    const tokens = Number(/^(\d+) tokens/.exec(meta)?.[1]);
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThan(400);
    // The abort reached the engine in the worker: nothing left running, no KV blocks held.
    await page.waitForFunction(() => /^0 \/ \d+ used$/.test(document.querySelectorAll('#tab-metrics .metric-now')[2]?.textContent ?? ''), null, { timeout: 10_000 });
    expect(await page.textContent('#tab-chat .prompt-echo')).toBe('Once upon a time');
  });

  it('runs the flow: 8 rows at concurrency 8, every row gets an output', async () => {
    await tab('flow');
    await page.fill('#tab-flow .concurrency', '8');
    await page.fill('#tab-flow .flow-max-tokens', '8');
    await page.click('#tab-flow .run-flow');
    // Watch the live charts while the batch runs; the screenshot shows them busy.
    await tab('metrics');
    await page.waitForFunction(() => /rows at concurrency/.test(document.querySelector('#tab-flow .flow-summary')?.textContent ?? ''), null, { timeout: 120_000 });
    await shot('metrics');
    await tab('flow');
    const rows = await page.$$eval('#tab-flow .flow-results tbody tr', (trs) =>
      trs.map((tr) => ({
        prompt: tr.querySelector('.prompt-cell')!.textContent,
        output: tr.querySelector('.output')!.textContent ?? '',
        failed: tr.querySelector('.output')!.classList.contains('error-text'),
        tokens: Number(tr.querySelectorAll('td')[4]!.textContent),
      })),
    );
    expect(rows).toHaveLength(8);
    expect(rows[0]!.prompt).toBe('Once upon a time, Lily found a red ball.');
    for (const r of rows) {
      expect(r.failed).toBe(false);
      expect(r.output.length).toBeGreaterThan(0);
      expect(r.tokens).toBe(8);
    }
    expect(await page.textContent('#tab-flow .flow-summary')).toMatch(/^8 rows at concurrency 8 in [\d.]+ s · 64 output tokens · [\d.]+ tok\/s total$/);
    await shot('flow');
  });

  it('shows a coded error for a bad flow dataset', async () => {
    await page.fill('#tab-flow .dataset', '{"name": "Lily"}\n{not json');
    await page.click('#tab-flow .run-flow');
    expect(await page.textContent('#tab-flow .flow-error')).toMatch(/^bad_jsonl: line 2: /);
  });

  it('charts engine.stats() on the metrics tab', async () => {
    await tab('metrics');
    await page.waitForTimeout(600);
    // The flow run above went through the engine: some step had a batch of several tokens.
    const peaks = await page.$$eval('#tab-metrics .metric', (cards) => cards.map((c) => Number((c as HTMLElement).dataset.peak)));
    expect(peaks[1]).toBeGreaterThanOrEqual(8); // tokens in one step: 8 rows decoded together (or their prefill)
    expect(peaks[2]).toBeGreaterThanOrEqual(8); // KV blocks: at least one per row while they ran
    const now = await page.$$eval('#tab-metrics .metric-now', (els) => els.map((e) => e.textContent ?? ''));
    expect(now).toHaveLength(4);
    const kv = /^(\d+) \/ (\d+) used$/.exec(now[2]!);
    expect(kv).not.toBeNull();
    expect(Number(kv![2])).toBeGreaterThan(0);
    expect(await page.textContent('#tab-metrics .metrics-status')).toMatch(/^Polling engine.stats\(\) every 250 ms · stories260K$/);
  });

  it('lists the cached model on the models tab, and deleting it works', async () => {
    await tab('models');
    await page.click('#tab-models .refresh');
    const row = '#tab-models .cached tbody tr[data-model-id^="stories260K.gguf-"]';
    await page.waitForSelector(row);
    expect(await page.$$eval(`${row} td`, (tds) => tds.map((t) => t.textContent))).toEqual([
      expect.stringMatching(/^stories260K\.gguf-[0-9a-f]{8}$/), '1.2 MB', 'complete', expect.stringMatching(/^(opfs|cache)$/), 'Delete',
    ]);
    expect(await page.textContent('#tab-models .gpu-info')).toMatch(/max storage binding/);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: resolve(SCREENSHOTS, 'models.png'), fullPage: true });
    await page.click(`${row} button.danger`);
    await page.waitForSelector(row, { state: 'detached' });
    expect(await page.isVisible('#tab-models .cached-empty')).toBe(true);
    // A fresh listCachedModels() (the Refresh button) no longer has it either.
    await page.click('#tab-models .refresh');
    await page.waitForTimeout(300);
    expect(await page.$$(row)).toHaveLength(0);
  });

  it('shows a coded error for a bad custom model source', async () => {
    await page.fill('#tab-models .custom-form input[name=source]', 'ftp://example.com/m.gguf');
    await page.click('#tab-models .custom-form button');
    expect(await page.textContent('#tab-models .models-error')).toMatch(/^bad_source: unsupported URL scheme 'ftp:'/);
  });

  it('fits a phone-width screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await tab('chat');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBe(0);
    await shot('chat-phone');
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
