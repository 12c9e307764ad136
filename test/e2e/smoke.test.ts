import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPage, type TestPage } from '../helpers/browser';

type SmokeResult = { adapter: string; got: number[]; want: number[] };

describe('gpu smoke (Chromium)', () => {
  let opened: TestPage;

  beforeAll(async () => {
    opened = await openTestPage('/test/e2e/pages/smoke.html', { readyFlag: 'smokeReady' });
  });

  afterAll(async () => {
    await opened?.close();
  });

  function check(r: SmokeResult) {
    expect(r.got.length).toBe(1001);
    expect(r.got).toEqual(r.want);
  }

  it('runs a compute shader in a page', async () => {
    const r = await opened.page.evaluate(() => (window as unknown as { runPageSmoke: () => Promise<SmokeResult> }).runPageSmoke());
    check(r);
  });

  it('runs a compute shader in a dedicated worker', async () => {
    const r = await opened.page.evaluate(() => (window as unknown as { runWorkerSmoke: () => Promise<SmokeResult> }).runWorkerSmoke());
    check(r);
    expect(opened.errors).toEqual([]);
  });
});
