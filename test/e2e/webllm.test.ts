// A WebLLM app's worker setup in Chromium on WebGPU, switched to tabllm/webllm: a real
// `new Worker(...)` running WebWorkerMLCEngineHandler, the real WebGPU runner, browser
// storage, and stories260K (which must reproduce llama2.c's greedy text).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPage, SHARED_DIR, type TestPage } from '../helpers/browser';

const REF = readFileSync(resolve(SHARED_DIR, 'fixtures/stories260K/reference-greedy.txt'), 'utf8');
const STORIES = resolve(SHARED_DIR, 'fixtures/stories260K/stories260K.gguf');
const N = 48;

interface AppResult {
  reports: { progress: number; timeElapsed: number; text: string }[];
  text: string; pieces: number; finish: string | null; completionTokens: number; message: string; stats: string; vendor: string;
  noTemplate: { name: string; code?: string }; unknownId: { name: string } | undefined;
}

describe('tabllm/webllm in Chromium (worker, WebGPU)', () => {
  let t: TestPage;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    t = await openTestPage('/test/e2e/pages/webllm.html');
    ({ page, errors } = t);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('CreateWebWorkerMLCEngine loads a model_list GGUF URL and streams the greedy reference', async () => {
    const r = (await page.evaluate(([u, n]) => (window as unknown as { runWebLLMApp: (u: string, n: number) => Promise<unknown> }).runWebLLMApp(u as string, n as number), [`/@fs${STORIES}`, N])) as AppResult;
    expect(r.reports.at(-1)!.progress).toBe(1);
    expect(r.reports.at(-1)!.text).toMatch(/^Finish loading on WebGPU - /);
    expect(r.text.startsWith('Once upon a time, there was a little girl named Lily.')).toBe(true);
    expect(REF).toContain(r.text.slice(0, 40));
    expect(r.pieces).toBeGreaterThan(5);
    expect(r.finish).toBe('length');
    expect(r.completionTokens).toBe(N);
    expect(r.message).toBe(r.text);
    expect(r.stats).toMatch(/^prefill: \d+\.\d{4} tokens\/sec, decoding: \d+\.\d{4} tokens\/sec$/);
    expect(typeof r.vendor).toBe('string');
    // stories260K has no chat template: tabllm's coded error crosses the worker with its name and code.
    expect(r.noTemplate).toMatchObject({ code: 'model_has_no_chat_template' });
    expect(r.unknownId).toEqual({ name: 'ModelNotFoundError' });
    expect(errors).toEqual([]);
  });
});
