// The WebGPU runner in Chromium: stories260K fetched from the dev server, decoded greedily
// from BOS one token per step in a page, reproduces llama2.c's 256 ids.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPage, type TestPage } from '../helpers/browser';
import { referenceIds, STORIES_GGUF } from '../helpers/stories-reference';


type Result = { adapter: string; ids: number[]; msPerStep: number; submitsPerStep: number } | { error: string };

describe('GPU runner in Chromium', () => {
  let opened: TestPage;

  beforeAll(async () => {
    opened = await openTestPage('/test/e2e/pages/runner.html', { readyFlag: 'runnerReady' });
  });

  afterAll(async () => {
    await opened?.close();
  });

  it('decodes llama2.c\'s 256 greedy ids from BOS in a page', async () => {
    const expected = referenceIds();
    expect(expected.length).toBe(256);
    const model = `/@fs${STORIES_GGUF}`;
    const r = await opened.page.evaluate(([m, n]) => (window as unknown as { runGreedy: (u: string, p: number[], n: number) => Promise<Result> }).runGreedy(m, [1], n), [model, 256] as const);
    if ('error' in r) throw new Error(r.error);
    console.info(`Chromium runner: ${r.adapter}, ${r.msPerStep.toFixed(0)} ms/step`);
    expect(r.ids).toEqual(expected);
    expect(r.submitsPerStep).toBe(1);
    expect(opened.errors).toEqual([]);
  }, 1_800_000);
});
