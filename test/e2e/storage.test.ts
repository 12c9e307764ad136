// Model storage in Chromium: loadModel downloads from a local range server into OPFS (and
// the Cache API fallback), a reload serves from storage with no model bytes on the wire,
// a cut download resumes at the first missing chunk, damaged chunks are re-fetched.
import { createHash, randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestBrowser, type TestBrowser } from '../helpers/browser';
import { RangeServer } from './storage-server';

const CHUNK = 512 * 1024;
const FILE = new Uint8Array(randomBytes(8 * CHUNK - 777)); // 8 chunks, the last one short (~4 MiB)
const FILE_SHA = createHash('sha256').update(FILE).digest('hex');

type Progress = { stage: string; loaded: number; total: number; bytesPerSecond: number };
type Loaded = { id: string; size: number; fromCache: boolean; events: Progress[]; sha256: string; head: number[] };
type Failed = { error: { code: string; name: string; message: string } };
type Api = {
  load(url: string, options?: Record<string, unknown>): Promise<Loaded | Failed>;
  list(): Promise<{ id: string; complete: boolean; bytesStored: number; size: number; backend: string }[]>;
  remove(id: string): Promise<string | undefined>;
  damageChunk(id: string, index: number, how: 'truncate' | 'flip', backend?: 'opfs' | 'cache'): Promise<void>;
  opfsChunkNames(id: string): Promise<string[]>;
  cacheChunkCount(id: string): Promise<number>;
};

describe('model storage (Chromium, OPFS + Cache API)', () => {
  let session: TestBrowser;
  let page: Page;
  const files = new RangeServer();
  let pageErrors: string[] = [];

  const PAGE = '/test/e2e/pages/storage.html';
  /** Reloads the page (storage persists, the page's memory does not). */
  const open = () => session.goto(page, PAGE, 'storageReady');
  const call = <K extends keyof Api>(name: K, ...args: Parameters<Api[K]>): Promise<Awaited<ReturnType<Api[K]>>> =>
    page.evaluate(([n, a]) => ((window as unknown as { tabllmStorage: Record<string, (...x: unknown[]) => unknown> }).tabllmStorage[n as string](...(a as unknown[]))) as never, [name, args] as const);
  const loaded = (r: Loaded | Failed): Loaded => {
    if ('error' in r) throw new Error(`load failed: ${r.error.message}`);
    return r;
  };
  const starts = (path: string) => files.requestsFor(path).map((r) => r.rangeStart);

  beforeAll(async () => {
    files.files.set('/model.gguf', { bytes: FILE });
    files.files.set('/cache-backend.gguf', { bytes: FILE });
    files.files.set('/norange.gguf', { bytes: FILE, ranges: false });
    await files.start();
    session = await openTestBrowser();
    const t = await session.open(PAGE, { readyFlag: 'storageReady' });
    page = t.page;
    pageErrors = t.pageErrors;
  });

  afterAll(async () => {
    await session?.close();
    await files.stop();
  });

  it('first load downloads in ranged chunks with monotonic progress reaching the total', async () => {
    const r = loaded(await call('load', `${files.url}/model.gguf`, { chunkBytes: CHUNK, sha256: FILE_SHA }));
    expect(r.fromCache).toBe(false);
    expect(r.size).toBe(FILE.byteLength);
    expect(r.sha256).toBe(FILE_SHA);
    expect(r.head).toEqual([...FILE.subarray(1000, 1016)]);
    expect(starts('/model.gguf')).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => i * CHUNK));
    const downloads = r.events.filter((e) => e.stage === 'download');
    expect(downloads.length).toBeGreaterThan(8);
    for (let i = 1; i < downloads.length; i++) expect(downloads[i].loaded).toBeGreaterThanOrEqual(downloads[i - 1].loaded);
    expect(downloads.at(-1)).toMatchObject({ loaded: FILE.byteLength, total: FILE.byteLength });
    expect(downloads.at(-1)!.bytesPerSecond).toBeGreaterThan(0);
    expect(r.events.filter((e) => e.stage === 'verify').at(-1)).toMatchObject({ loaded: FILE.byteLength });
    expect(await call('opfsChunkNames', r.id)).toEqual(['0.bin', '1.bin', '2.bin', '3.bin', '4.bin', '5.bin', '6.bin', '7.bin']);
  });

  it('after a reload, loads from OPFS with zero requests for the model', async () => {
    await open();
    files.log.length = 0;
    const r = loaded(await call('load', `${files.url}/model.gguf`));
    expect(r.fromCache).toBe(true);
    expect(r.sha256).toBe(FILE_SHA);
    expect(files.log).toEqual([]);
    expect(r.events).toEqual([{ stage: 'cached', loaded: FILE.byteLength, total: FILE.byteLength, bytesPerSecond: 0 }]);
    const [entry] = await call('list');
    expect(entry).toMatchObject({ id: r.id, complete: true, bytesStored: FILE.byteLength, backend: 'opfs' });
  });

  it('detects a truncated and a corrupted chunk and re-fetches only those', async () => {
    const id = (await call('list'))[0].id;
    await call('damageChunk', id, 5, 'truncate');
    files.log.length = 0;
    const a = loaded(await call('load', `${files.url}/model.gguf`));
    expect(a.fromCache).toBe(false);
    expect(starts('/model.gguf')).toEqual([5 * CHUNK]);
    expect(a.sha256).toBe(FILE_SHA);

    await call('damageChunk', id, 2, 'flip');
    files.log.length = 0;
    const b = loaded(await call('load', `${files.url}/model.gguf`, { verify: 'hash' }));
    expect(starts('/model.gguf')).toEqual([2 * CHUNK]);
    expect(b.sha256).toBe(FILE_SHA);
  });

  it('deletes a cached model (and says so for an unknown id)', async () => {
    const id = (await call('list'))[0].id;
    expect(await call('remove', id)).toBeUndefined();
    expect(await call('list')).toEqual([]);
    expect(await call('opfsChunkNames', id)).toEqual([]);
    expect(await call('remove', id)).toBe('model_not_cached');
  });

  it('a download cut half-way resumes from the last stored chunk', async () => {
    files.log.length = 0;
    files.cutRangeStart = 4 * CHUNK;
    files.cutNextAfterBytes = 100_000;
    const failed = await call('load', `${files.url}/model.gguf`, { chunkBytes: CHUNK, retries: 0 });
    expect('error' in failed && failed.error.code).toBe('download_failed');
    expect(starts('/model.gguf')).toEqual([0, 1, 2, 3, 4].map((i) => i * CHUNK));
    expect((await call('list'))[0]).toMatchObject({ complete: false, bytesStored: 4 * CHUNK });

    await open();
    files.log.length = 0;
    const r = loaded(await call('load', `${files.url}/model.gguf`, { chunkBytes: CHUNK }));
    expect(files.requestsFor('/model.gguf')[0].rangeStart).toBe(4 * CHUNK);
    expect(starts('/model.gguf')).toEqual([4, 5, 6, 7].map((i) => i * CHUNK));
    expect(r.sha256).toBe(FILE_SHA);
    const downloads = r.events.filter((e) => e.stage === 'download');
    expect(downloads[0].loaded).toBeGreaterThanOrEqual(4 * CHUNK);
    expect(downloads.at(-1)!.loaded).toBe(FILE.byteLength);
  });

  it('works on the Cache API backend: download, cache hit, damaged chunk re-fetched', async () => {
    const url = `${files.url}/cache-backend.gguf`;
    const first = loaded(await call('load', url, { chunkBytes: CHUNK, storage: 'cache' }));
    expect(first.sha256).toBe(FILE_SHA);
    files.log.length = 0;
    const second = loaded(await call('load', url, { storage: 'cache' }));
    expect(second.fromCache).toBe(true);
    expect(files.log).toEqual([]);
    await call('damageChunk', first.id, 3, 'truncate', 'cache');
    const third = loaded(await call('load', url, { storage: 'cache' }));
    expect(starts('/cache-backend.gguf')).toEqual([3 * CHUNK]);
    expect(third.sha256).toBe(FILE_SHA);
    // A default ('auto', OPFS here) load uses the Cache API copy where it is, with no download.
    files.log.length = 0;
    const auto = loaded(await call('load', url));
    expect(auto.fromCache).toBe(true);
    expect(files.log).toEqual([]);
    // Deleting with default storage (OPFS here) still removes the Cache API entries.
    expect(await call('cacheChunkCount', first.id)).toBe(8);
    expect(await call('remove', first.id)).toBeUndefined();
    expect(await call('cacheChunkCount', first.id)).toBe(0);
  });

  it('answers bad sources with coded errors', async () => {
    const codeOf = async (url: string, options?: Record<string, unknown>) => {
      const r = await call('load', url, options);
      return 'error' in r ? r.error.code : 'loaded';
    };
    expect(await codeOf(`${files.url}/missing.gguf`)).toBe('not_found');
    expect(await codeOf(`${files.url}/norange.gguf`, { chunkBytes: CHUNK })).toBe('range_not_supported');
    expect(await codeOf('file:///etc/passwd')).toBe('bad_source');
    expect(await codeOf('data:application/octet-stream,abc')).toBe('bad_source');
    expect(pageErrors).toEqual([]);
  });
});
