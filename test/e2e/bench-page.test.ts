// Smoke test of the Chromium bench harness (bench/lib/chromium-bench.ts, bench/pages/):
// the runner and batching measurements run in the page on stories260K, a few tokens each,
// and come back as plain data with the counters the benches print. Outcomes only (submits,
// bytes, token counts, KV slots); the speed numbers are the benches' business.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBenchPage, type BenchPage } from '../../bench/lib/chromium-bench';
import { readGGUF } from '../../src/model/gguf/reader';
import { SHARED_DIR } from '../helpers/browser';

const STORIES = resolve(SHARED_DIR, 'fixtures/stories260K/stories260K.gguf');

describe('Chromium bench page', () => {
  let bench: BenchPage;

  beforeAll(async () => {
    bench = await openBenchPage('e2e');
  });

  afterAll(async () => {
    await bench?.close();
  });

  it('names the browser and the adapter', () => {
    expect(bench.chromium).toMatch(/^Chromium \d+\.\d+/);
    expect(bench.adapter.name.length).toBeGreaterThan(0);
    expect(bench.host).toContain(bench.chromium);
  });

  it('runner: one submit and one 4-byte id read back per decode step, weights as in the file', async () => {
    const gguf = await readGGUF(STORIES);
    const params = gguf.tensors.reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
    const tensorBytes = gguf.tensors.reduce((s, t) => s + t.byteLength, 0);
    const r = await bench.call('runner', [{ name: 'stories', model: bench.serveModel('stories260K.gguf', STORIES) }], { prefillTokens: 5, decodeSteps: 2 });
    expect(r.adapter).toBe(bench.adapter.name);
    expect(r.rows).toHaveLength(1);
    const row = r.rows[0]!;
    expect(row.params).toBe(params);
    expect(row.weightsFileBytes).toBe(tensorBytes);
    expect(row.weightsGpuBytes).toBeGreaterThanOrEqual(tensorBytes);
    expect(row.weightsGpuBytes).toBeLessThanOrEqual(1.05 * tensorBytes);
    expect(row.submits).toBe(1);
    expect(row.bytesReadBack).toBe(4);
    expect(row.dispatches).toBeGreaterThan(gguf.tensors.length / 2);
  });

  it('batching: every concurrency runs its decode steps; KV waste within the last blocks, no preemption', async () => {
    const tokens = 3;
    const r = await bench.call('batching', { stories: bench.serveModel('stories260K.gguf', STORIES), storyTokens: tokens, tokens30M: 0 });
    expect(r.model30M).toBeUndefined();
    expect(r.stories.map((x) => x.concurrency)).toEqual([1, 4, 16, 32]);
    for (const x of r.stories) {
      // maxTokens 3: a prefill step samples the first token, then 2 steps with every sequence decoding.
      expect(x.decodeSteps, `concurrency ${x.concurrency}`).toBe(tokens - 1);
      expect(x.numPreemptions).toBe(0);
      expect(x.kvSlotsAllocated % 16).toBe(0);
      expect(x.kvSlotsAllocated - x.kvSlotsFilled).toBeLessThanOrEqual(15 * x.concurrency);
      expect(x.kvSlotsFilled).toBeGreaterThan(0);
    }
  });
});
