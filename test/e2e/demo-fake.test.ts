// The demo's `?fake=1` mode: the page's whole path (openai client → fetch shim → worker
// engine → EngineCore) on the deterministic fake runner, checked against the same engine
// built in Node on the same fake runner — the page must show exactly the text Node gets.
import { resolve } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import { FakeRunner } from '../../src/testing/fake-runner';
import { openTestBrowser, PROJECT_ROOT, SHARED_DIR, type TestBrowser } from '../helpers/browser';

const STORIES = resolve(SHARED_DIR, 'fixtures/stories260K/stories260K.gguf');
const PROMPT = 'Once upon a time';

/** What the fake runner (as demo/engine.worker.ts builds it) continues PROMPT with, greedy. */
async function expectedText(maxTokens: number): Promise<{ text: string; tokens: number }> {
  const engine = await createEngine({
    model: STORIES,
    createRunner: async ({ config }) => new FakeRunner({ vocabSize: config.vocabSize, contextLength: config.contextLength, numKvBlocks: 512 }),
  });
  try {
    const r = await engine.completions.create({ prompt: PROMPT, max_tokens: maxTokens, temperature: 0 });
    return { text: r.choices[0]!.text, tokens: r.usage!.completion_tokens };
  } finally {
    await engine.destroy();
  }
}

describe('demo page, ?fake=1 (Chromium, fake runner)', () => {
  let session: TestBrowser;
  let browser: Browser;
  let page: Page;
  /** Console errors and uncaught page errors. */
  let consoleErrors: string[] = [];

  beforeAll(async () => {
    session = await openTestBrowser({ configFile: resolve(PROJECT_ROOT, 'demo/vite.config.ts') });
    browser = session.browser;
    const t = await session.open('/?fake=1', { readySelector: 'body[data-model-ready]' });
    page = t.page;
    consoleErrors = t.errors;
  });

  afterAll(async () => {
    await session?.close();
  });

  it('says it runs on the fake runner', async () => {
    expect(await page.textContent('#model-status')).toBe('stories260K · llama · F32 · 1.2 MB · fake runner');
  });

  it('shows exactly the completion the same engine gives in Node', async () => {
    const want = await expectedText(24);
    expect(want.tokens).toBeGreaterThan(3); // a real continuation, not an immediate EOS
    await page.fill('#tab-chat .temperature', '0');
    await page.fill('#tab-chat .max-tokens', '24');
    await page.fill('#tab-chat .prompt', PROMPT);
    await page.click('#tab-chat .send');
    await page.waitForSelector('#tab-chat .message[data-finish]');
    expect(await page.textContent('#tab-chat .generated')).toBe(want.text);
    expect(await page.textContent('#tab-chat .message .meta')).toMatch(new RegExp(`^5 prompt \\+ ${want.tokens} tokens · `));
  });

  it('runs the flow at concurrency 16 with outputs in row order', async () => {
    await page.click('nav.tabs [data-tab=flow]');
    await page.fill('#tab-flow .concurrency', '16');
    await page.fill('#tab-flow .flow-max-tokens', '4');
    await page.click('#tab-flow .run-flow');
    await page.waitForFunction(() => /rows at concurrency 16/.test(document.querySelector('#tab-flow .flow-summary')?.textContent ?? ''));
    const rows = await page.$$eval('#tab-flow .flow-results tbody tr', (trs) => trs.map((tr) => [tr.querySelector('td')!.textContent, tr.querySelector('.prompt-cell')!.textContent]));
    expect(rows.map((r) => r[0])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    expect(rows[7]![1]).toBe('Once upon a time, Sam found a new kite.');
    expect(await page.textContent('#tab-flow .flow-history li')).toMatch(/^concurrency 16: 8 rows in [\d.]+ s, [\d.]+ tok\/s$/);
  });

  it('opens a PromptFlow folder (webkitdirectory), shows the node states, and batch-runs its data.jsonl', async () => {
    await page.click('nav.tabs [data-tab=flow]');
    await page.setInputFiles('#tab-flow .folder-input', resolve(SHARED_DIR, 'fixtures/promptflow/flows/conditional-flow-for-if-else'));
    await page.waitForSelector('#tab-flow .dag li[data-node]');
    const states = () => page.$$eval('#tab-flow .dag li', (lis) => Object.fromEntries(lis.map((li) => [li.getAttribute('data-node'), li.getAttribute('data-state')])));
    expect(await states()).toEqual({ content_safety_check: 'pending', llm_result: 'pending', default_result: 'pending', generate_result: 'pending' });
    await page.click('#tab-flow .run-flow-once');
    await page.waitForSelector('#tab-flow .flow-folder[data-run-state]', { timeout: 120_000 });
    expect(await page.getAttribute('#tab-flow .flow-folder', 'data-run-state')).toBe('done');
    // content_safety_check draws at random: exactly one branch ran, the other was bypassed.
    const after = await states();
    expect(after).toMatchObject({ content_safety_check: 'done', generate_result: 'done' });
    expect([after.llm_result, after.default_result].sort()).toEqual(['bypassed', 'done']);
    expect(Object.keys(JSON.parse((await page.textContent('#tab-flow .flow-output'))!))).toEqual(['answer']);

    await page.click('#tab-flow .run-flow-batch');
    await page.waitForFunction(() => /lines · /.test(document.querySelector('#tab-flow .batch-summary')?.textContent ?? ''), undefined, { timeout: 120_000 });
    expect(await page.textContent('#tab-flow .batch-summary')).toBe('2 lines · 2 completed · 0 failed');
    expect(await page.$eval('#tab-flow .batch-progress', (p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max])).toEqual([2, 2]);
  });

  it('says clearly when the browser has no WebGPU', async () => {
    const noGpu = await browser.newPage();
    await noGpu.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
    await noGpu.goto(page.url().replace('?fake=1', ''));
    await noGpu.waitForSelector('#global-error:not([hidden])');
    expect(await noGpu.textContent('#global-error')).toMatch(/^WebGPU is not available in this browser \(navigator\.gpu is missing\)/);
    expect(await noGpu.textContent('#load-stage')).toBe('WebGPU unavailable');
    await noGpu.click('nav.tabs [data-tab=models]');
    expect(await noGpu.textContent('#tab-models .gpu-error')).toMatch(/^WebGPU is not available/);
    await noGpu.close();
  });

  it('logged no console errors', () => {
    expect(consoleErrors).toEqual([]);
  });
});
