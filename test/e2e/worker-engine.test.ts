// The engine in a dedicated worker, in Chromium on WebGPU: a stories260K completion
// streams llama2.c's greedy text while the main thread keeps drawing frames.
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, startDevServer } from '../helpers/browser';
import { referenceIds, STORIES_GGUF as STORIES } from '../helpers/stories-reference';

const REF_IDS = referenceIds();
const N = 64;

describe('worker engine (Chromium, WebGPU)', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const dev = await startDevServer();
    server = dev.server;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${dev.url}/test/e2e/pages/worker-engine.html`);
    await page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true, null, { timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('streams the stories260K reference while the main thread keeps rendering', { retry: 2 }, async () => {
    const url = `/@fs${STORIES}`;
    const r = (await page.evaluate(([u, n]) => (window as unknown as { streamCompletion: (u: string, n: number) => Promise<unknown> }).streamCompletion(u as string, n as number), [url, N])) as {
      text: string; ids: number[]; chunks: number; frames: number; maxGapMs: number; longestTaskMs: number; generationMs: number; progress: number[];
      error: { isEngineError: boolean; code: string }; kvBlocksUsed: number;
    };
    expect(r.ids).toEqual(REF_IDS.slice(0, N));
    expect(r.text.startsWith('Once upon a time, there was a little girl named Lily.')).toBe(true);
    expect(r.chunks).toBeGreaterThan(5); // streamed, not one blob
    // The page is never blocked: no main-thread task reaches 100 ms while the worker generates.
    expect(r.longestTaskMs).toBeLessThan(100);
    // Frames keep coming: no gap over 100 ms. (Frames and SwiftShader's compute share the
    // CPU here, so other load on the machine shows up as gaps: hence the retries.)
    console.log(`rAF: ${r.frames} frames in ${r.generationMs.toFixed(0)} ms, longest gap ${r.maxGapMs.toFixed(0)} ms; longest main-thread task ${r.longestTaskMs.toFixed(0)} ms`);
    expect(r.frames).toBeGreaterThan(r.generationMs / 100);
    expect(r.maxGapMs).toBeLessThan(100);
    expect(r.progress.at(-1)).toBe(1);
    expect(r.error).toEqual({ isEngineError: true, code: 'model_not_found' });
    expect(r.kvBlocksUsed).toBe(0);
    expect(errors).toEqual([]);
  });
});
