// loadModel in Node against a real HTTP server, with in-memory chunk store and registry:
// download, cache hit, resume after a cut, corruption, checksum, quota and bad inputs.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readGGUF, readTensorBytes, writeGGUF } from '../../../src/model/gguf';
import { GGMLType, type ByteSource } from '../../../src/model/gguf/types';
import { MemoryChunkStore } from '../../../src/storage/chunk-store';
import { StorageError } from '../../../src/storage/errors';
import { deleteCachedModel, listCachedModels, loadModel, type ModelStorage } from '../../../src/storage/load-model';
import type { StorageProgress } from '../../../src/storage/progress';
import { MemoryModelRegistry } from '../../../src/storage/registry';
import { RangeServer } from '../../e2e/storage-server';

const CHUNK = 64 * 1024;
const FILE = new Uint8Array(randomBytes(5 * CHUNK + 12345)); // 6 chunks, the last one short
const FILE_SHA = createHash('sha256').update(FILE).digest('hex');

let server: RangeServer;
let storage: ModelStorage & { chunks: MemoryChunkStore; registry: MemoryModelRegistry };

beforeAll(async () => {
  server = new RangeServer();
  server.files.set('/m.gguf', { bytes: FILE });
  server.files.set('/norange.gguf', { bytes: FILE, ranges: false });
  server.files.set('/small-norange.gguf', { bytes: FILE.subarray(0, 1000), ranges: false });
  await server.start();
});
afterAll(() => server.stop());
beforeEach(() => {
  storage = { chunks: new MemoryChunkStore(), registry: new MemoryModelRegistry() };
  server.log.length = 0;
});

/** SHA-256 of everything a source reads: compared as strings (deep-equal on 300 KB arrays is slow). */
async function readAll(source: ByteSource): Promise<string> {
  return sha(await source.read(0, source.size!));
}
const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(StorageError);
  return (err as StorageError).code;
}

describe('loadModel (Node, memory storage)', () => {
  it('downloads in ranged chunks with monotonic progress, then serves the next load from cache', async () => {
    const events: StorageProgress[] = [];
    const first = await loadModel(`${server.url}/m.gguf`, { storage, chunkBytes: CHUNK, onProgress: (p) => events.push(p) });
    expect(first.fromCache).toBe(false);
    expect(first.size).toBe(FILE.byteLength);
    expect(await readAll(first.source)).toBe(FILE_SHA);
    // A read across a chunk boundary.
    expect(await first.source.read(CHUNK - 3, 10)).toEqual(FILE.subarray(CHUNK - 3, CHUNK + 7));
    expect(server.log.map((r) => r.rangeStart)).toEqual([0, 1, 2, 3, 4, 5].map((i) => i * CHUNK));
    const downloads = events.filter((e) => e.stage === 'download');
    for (let i = 1; i < downloads.length; i++) expect(downloads[i].loaded).toBeGreaterThanOrEqual(downloads[i - 1].loaded);
    expect(downloads.at(-1)).toMatchObject({ loaded: FILE.byteLength, total: FILE.byteLength });

    server.log.length = 0;
    const cachedEvents: StorageProgress[] = [];
    const second = await loadModel(`${server.url}/m.gguf`, { storage, onProgress: (p) => cachedEvents.push(p) });
    expect(second.fromCache).toBe(true);
    expect(server.log).toEqual([]);
    expect(cachedEvents).toEqual([{ stage: 'cached', loaded: FILE.byteLength, total: FILE.byteLength, bytesPerSecond: 0 }]);
    expect(await readAll(second.source)).toBe(FILE_SHA);
  });

  it('resumes from the first missing chunk after a cut connection', async () => {
    // Cut chunk 3's response half-way: chunks 0-2 go through first.
    const url = `${server.url}/m.gguf`;
    let calls = 0;
    const cuttingFetch: typeof fetch = (input, init) => {
      if (++calls === 4) server.cutNextAfterBytes = CHUNK / 2;
      return fetch(input, init);
    };
    const err = await loadModel(url, { storage, chunkBytes: CHUNK, retries: 0, fetch: cuttingFetch }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toMatch(/^download_failed: .*connection cut/);
    const [entry] = await listCachedModels({ storage });
    expect(entry).toMatchObject({ complete: false, bytesStored: 3 * CHUNK });

    server.log.length = 0;
    const resumed = await loadModel(url, { storage });
    expect(server.log[0].rangeStart).toBe(3 * CHUNK);
    expect(server.log.map((r) => r.rangeStart)).toEqual([3, 4, 5].map((i) => i * CHUNK));
    expect(resumed.fromCache).toBe(false);
    expect(await readAll(resumed.source)).toBe(FILE_SHA);
  });

  it('retries a cut connection by itself, resuming at the chunk that was cut', async () => {
    let calls = 0;
    const cuttingFetch: typeof fetch = (input, init) => {
      if (++calls === 2) server.cutNextAfterBytes = 1000;
      return fetch(input, init);
    };
    const model = await loadModel(`${server.url}/m.gguf`, { storage, chunkBytes: CHUNK, fetch: cuttingFetch });
    expect(server.log.map((r) => r.rangeStart)).toEqual([0, CHUNK, CHUNK, 2 * CHUNK, 3 * CHUNK, 4 * CHUNK, 5 * CHUNK]);
    expect(await readAll(model.source)).toBe(FILE_SHA);
  });

  it('starts over when the file changed on the server between a cut and the resume (ETag)', async () => {
    const v2 = new Uint8Array(randomBytes(FILE.byteLength)); // same size, other bytes
    server.files.set('/versioned.gguf', { bytes: FILE, etag: '"v1"' });
    let calls = 0;
    const cuttingFetch: typeof fetch = (input, init) => {
      if (++calls === 3) server.cutNextAfterBytes = 1000;
      return fetch(input, init);
    };
    const url = `${server.url}/versioned.gguf`;
    expect(await codeOf(loadModel(url, { storage, chunkBytes: CHUNK, retries: 0, fetch: cuttingFetch }))).toBe('download_failed');
    server.files.set('/versioned.gguf', { bytes: v2, etag: '"v2"' });
    server.log.length = 0;
    const model = await loadModel(url, { storage, chunkBytes: CHUNK, retries: 1 });
    // Resume at chunk 2 sees ETag v2 → everything is fetched again from chunk 0.
    expect(server.log.map((r) => r.rangeStart)).toEqual([2, 0, 1, 2, 3, 4, 5].map((i) => i * CHUNK));
    expect(await readAll(model.source)).toBe(sha(v2));
  });

  it('a Content-Range total that changes between requests ends in download_size_mismatch when the retries run out', async () => {
    server.files.set('/resized.gguf', { bytes: FILE });
    let calls = 0;
    const cuttingFetch: typeof fetch = (input, init) => {
      if (++calls === 3) server.cutNextAfterBytes = 1000;
      return fetch(input, init);
    };
    const url = `${server.url}/resized.gguf`;
    expect(await codeOf(loadModel(url, { storage, chunkBytes: CHUNK, retries: 0, fetch: cuttingFetch }))).toBe('download_failed');
    server.files.set('/resized.gguf', { bytes: FILE.subarray(0, FILE.byteLength - 777) });
    const err = await loadModel(url, { storage, chunkBytes: CHUNK, retries: 0 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'download_size_mismatch', message: expect.stringMatching(new RegExp(`size ${FILE.byteLength} → ${FILE.byteLength - 777}`)) });
    // The stale chunks are gone: the next load starts over and gets the new file whole.
    const model = await loadModel(url, { storage, chunkBytes: CHUNK, retries: 0 });
    expect(model.size).toBe(FILE.byteLength - 777);
  });

  it('re-fetches only a truncated chunk (size check) and a corrupted one (verify: hash)', async () => {
    const url = `${server.url}/m.gguf`;
    const { id } = await loadModel(url, { storage, chunkBytes: CHUNK });
    storage.chunks.chunks.set(`${id}/2`, FILE.slice(2 * CHUNK, 2 * CHUNK + 10)); // truncated
    server.log.length = 0;
    const a = await loadModel(url, { storage });
    expect(a.fromCache).toBe(false);
    expect(server.log.map((r) => r.rangeStart)).toEqual([2 * CHUNK]);
    expect(await readAll(a.source)).toBe(FILE_SHA);

    const flipped = FILE.slice(4 * CHUNK, 5 * CHUNK);
    flipped[77] ^= 0xff;
    storage.chunks.chunks.set(`${id}/4`, flipped); // same size, wrong bytes
    server.log.length = 0;
    expect((await loadModel(url, { storage })).fromCache).toBe(true); // a size check cannot see it
    const b = await loadModel(url, { storage, verify: 'hash' });
    expect(server.log.map((r) => r.rangeStart)).toEqual([4 * CHUNK]);
    expect(await readAll(b.source)).toBe(FILE_SHA);
  });

  it('checks the whole-file sha256 when given', async () => {
    const url = `${server.url}/m.gguf`;
    const events: StorageProgress[] = [];
    const ok = await loadModel(url, { storage, chunkBytes: CHUNK, sha256: FILE_SHA.toUpperCase(), onProgress: (p) => events.push(p) });
    expect(ok.size).toBe(FILE.byteLength);
    expect(events.filter((e) => e.stage === 'verify').at(-1)).toMatchObject({ loaded: FILE.byteLength, total: FILE.byteLength });
    expect((await listCachedModels({ storage }))[0].sha256).toBe(FILE_SHA);

    const other = { chunks: new MemoryChunkStore(), registry: new MemoryModelRegistry() };
    expect(await codeOf(loadModel(url, { storage: other, chunkBytes: CHUNK, sha256: '0'.repeat(64) }))).toBe('checksum_mismatch');
    expect(await listCachedModels({ storage: other })).toEqual([]);
    expect(other.chunks.chunks.size).toBe(0);
  });

  it('turns a full store into quota_exceeded with the bytes still needed', async () => {
    const full = new MemoryChunkStore();
    let puts = 0;
    full.put = async () => {
      if (++puts === 3) throw new DOMException('full', 'QuotaExceededError');
    };
    const err = (await loadModel(`${server.url}/m.gguf`, { storage: { chunks: full, registry: new MemoryModelRegistry() }, chunkBytes: CHUNK }).catch((e: unknown) => e)) as StorageError;
    expect(err.code).toBe('quota_exceeded');
    expect(err.bytesNeeded).toBe(FILE.byteLength - 2 * CHUNK);

    const tiny: MemoryChunkStore & { available?: () => Promise<number> } = new MemoryChunkStore();
    tiny.available = async () => 1000;
    const early = (await loadModel(`${server.url}/m.gguf`, { storage: { chunks: tiny, registry: new MemoryModelRegistry() }, chunkBytes: CHUNK }).catch((e: unknown) => e)) as StorageError;
    expect(early.code).toBe('quota_exceeded');
    expect(early.bytesNeeded).toBe(FILE.byteLength);
  });

  it('answers bad inputs with coded errors', async () => {
    expect(await codeOf(loadModel(`${server.url}/missing.gguf`, { storage }))).toBe('not_found');
    expect(await codeOf(loadModel(`${server.url}/norange.gguf`, { storage, chunkBytes: CHUNK }))).toBe('range_not_supported');
    expect(await codeOf(loadModel('ftp://example.com/m.gguf', { storage }))).toBe('bad_source');
    expect(await codeOf(loadModel(`${server.url}/m.gguf`, { storage, sha256: 'abc' }))).toBe('bad_source');
    expect(await codeOf(loadModel(`${server.url}/m.gguf`, { storage, chunkBytes: 0 }))).toBe('bad_source');
    expect(await codeOf(loadModel(42 as unknown as string, { storage }))).toBe('bad_source');
    expect(await codeOf(deleteCachedModel('nope', { storage }))).toBe('model_not_cached');
    // A server without ranges is fine for a file that fits in one chunk.
    const small = await loadModel(`${server.url}/small-norange.gguf`, { storage, chunkBytes: CHUNK });
    expect(await readAll(small.source)).toBe(sha(FILE.subarray(0, 1000)));
  });

  it('aborts with code aborted and keeps the stored chunks', async () => {
    const controller = new AbortController();
    let stored = 0;
    const chunks = new MemoryChunkStore();
    const put = chunks.put.bind(chunks);
    chunks.put = async (id, i, b) => {
      await put(id, i, b);
      if (++stored === 2) controller.abort();
    };
    const s = { chunks, registry: new MemoryModelRegistry() };
    const err = (await loadModel(`${server.url}/m.gguf`, { storage: s, chunkBytes: CHUNK, signal: controller.signal }).catch((e: unknown) => e)) as StorageError;
    expect(err.code).toBe('aborted');
    expect(err.name).toBe('AbortError');
    expect((await listCachedModels({ storage: s }))[0].bytesStored).toBe(2 * CHUNK);
  });

  it('lists and deletes cached models', async () => {
    const { id } = await loadModel(`${server.url}/m.gguf`, { storage, chunkBytes: CHUNK });
    expect(await listCachedModels({ storage })).toMatchObject([{ id, size: FILE.byteLength, complete: true, bytesStored: FILE.byteLength, backend: 'memory' }]);
    await deleteCachedModel(id, { storage });
    expect(await listCachedModels({ storage })).toEqual([]);
    expect(storage.chunks.chunks.size).toBe(0);
  });

  it('a cached GGUF reads through the GGUF reader: metadata and tensor bytes across chunk boundaries', async () => {
    const weights = Float32Array.from({ length: 3 * 5000 }, (_, i) => Math.sin(i) * 3);
    const file = writeGGUF({
      metadata: { 'general.architecture': 'llama', 'general.name': 'chunked' },
      tensors: [
        { name: 'a', type: GGMLType.F32, shape: [5000, 3], data: weights },
        { name: 'b', type: GGMLType.F32, shape: [7], data: new Float32Array(7).fill(1.5) },
      ],
    });
    server.files.set('/tiny.gguf', { bytes: file });
    await loadModel(`${server.url}/tiny.gguf`, { storage, chunkBytes: 4096 }); // ~15 chunks
    server.log.length = 0;
    const { source, fromCache } = await loadModel(`${server.url}/tiny.gguf`, { storage });
    expect(fromCache).toBe(true);
    const gguf = await readGGUF(source);
    expect(gguf.metadata['general.name']).toBe('chunked');
    const a = gguf.tensors.find((t) => t.name === 'a')!;
    const bytes = await readTensorBytes(source, a);
    expect(new Float32Array(bytes.slice().buffer)).toEqual(weights);
    expect(server.log).toEqual([]);
  });

  it('reads a Blob in place', async () => {
    const blob = new Blob([FILE.subarray(0, 5000)]);
    const model = await loadModel(blob, { storage });
    expect(model.size).toBe(5000);
    expect(await model.source.read(100, 50)).toEqual(FILE.subarray(100, 150));
  });
});
