// loadModel: a model URL (or Hugging Face name) → a ByteSource over bytes in browser
// storage, downloading what is missing in ranged chunks. Also listCachedModels and
// deleteCachedModel. The flow for a URL:
//
//   registry record? ── no ──► fetch chunk 0 (learns the size) ─┐
//        │ yes                                                  ▼
//   check stored chunks (size; hashes if asked) ──► fetch each missing chunk in order,
//        │ all good                                  store it, record its hash
//        ▼                                                      │
//   'cached' ◄───────────── whole-file sha256 if given ◄────────┘
import { BlobSource } from '../model/gguf/source';
import type { ByteSource } from '../model/gguf/types';
import { CacheChunkStore } from './cache-store';
import type { BackendKind, ChunkStore } from './chunk-store';
import { ChunkedSource } from './chunked-source';
import { abortError, isQuotaError, StorageError } from './errors';
import { fetchRange, TransientError } from './fetch-range';
import { OpfsChunkStore } from './opfs-store';
import { ProgressReporter, type StorageProgress } from './progress';
import { IdbModelRegistry, type CachedModel, type ModelRegistry } from './registry';
import { modelIdForUrl, resolveModelUrl } from './resolve';
import { idleTimeoutOf } from '../model/gguf/timed-fetch';
import { Sha256, sha256Hex } from './sha256';

export const DEFAULT_CHUNK_BYTES = 16 * 1024 * 1024;

export interface ModelStorage {
  chunks: ChunkStore;
  registry: ModelRegistry;
}

export interface LoadModelOptions {
  onProgress?: (p: StorageProgress) => void;
  signal?: AbortSignal;
  /** Expected whole-file SHA-256 (hex): checked once after download; a mismatch deletes the entry. */
  sha256?: string;
  /** Chunk size for a new download (an existing entry keeps its own). Default 16 MiB. */
  chunkBytes?: number;
  /** How a cached entry is checked before use: chunk sizes (default, cheap) or re-hashing every chunk. */
  verify?: 'size' | 'hash';
  /** Retries after a cut connection, a stall or a 5xx, each resuming at the first missing chunk. Default 3. */
  retries?: number;
  /**
   * A request must get its response headers, and a body its next bytes, within this many
   * milliseconds, else it is cut and retried (`download_timeout` when the retries run out). Default 30 s.
   */
  idleTimeoutMs?: number;
  /** Extra request headers (e.g. `Authorization` for a gated Hugging Face repo). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /**
   * Ask the browser to keep this origin's storage under pressure (navigator.storage.persist())
   * when a new download starts, so a multi-GB model is not evicted. Default true.
   */
  persist?: boolean;
  /** Where bytes go: 'auto' (OPFS, else the Cache API), a forced backend, or injected stores (tests, Node). */
  storage?: 'auto' | 'opfs' | 'cache' | ModelStorage;
}

export interface LoadedModel {
  id: string;
  source: ByteSource;
  size: number;
  /** True when no byte came from the network. */
  fromCache: boolean;
  /** The resolved download URL (absent for File/Blob inputs). */
  url?: string;
}

export interface CachedModelInfo {
  id: string;
  url: string;
  size: number;
  sha256?: string;
  bytesStored: number;
  complete: boolean;
  backend: string;
  lastUsed: number;
}

let defaultRegistry: ModelRegistry | undefined;

/** The browser store of one kind, or undefined where this context lacks it. */
async function openChunkStore(kind: BackendKind): Promise<ChunkStore | undefined> {
  if (kind === 'opfs') return OpfsChunkStore.open();
  if (kind === 'cache') return CacheChunkStore.open();
  return undefined;
}

async function openStorage(choice: LoadModelOptions['storage']): Promise<ModelStorage> {
  if (typeof choice === 'object') return choice;
  const want = choice ?? 'auto';
  const chunks = (want !== 'cache' ? await OpfsChunkStore.open() : undefined) ?? (want !== 'opfs' ? await CacheChunkStore.open() : undefined);
  if (!chunks) throw new StorageError('storage_unavailable', `no ${want === 'auto' ? 'OPFS or Cache API' : want} storage in this context (a secure context is needed)`);
  if (typeof indexedDB === 'undefined') throw new StorageError('storage_unavailable', 'IndexedDB is missing, so the model registry cannot be kept');
  defaultRegistry ??= new IdbModelRegistry();
  return { chunks, registry: defaultRegistry };
}

/** The store that holds `record`'s chunks: the given one, or (default storage) the record's own backend. */
async function chunksOf(record: CachedModel, storage: ModelStorage, injected: boolean): Promise<ChunkStore | undefined> {
  if (injected || record.backend === storage.chunks.kind) return storage.chunks;
  return openChunkStore(record.backend);
}

function chunkLength(record: Pick<CachedModel, 'size' | 'chunkBytes'>, index: number): number {
  return Math.min(record.chunkBytes, record.size - index * record.chunkBytes);
}

function bytesStored(record: CachedModel): number {
  return record.chunkSha256.reduce((sum, hash, i) => sum + (hash === null ? 0 : chunkLength(record, i)), 0);
}

/** Same-id loads in other tabs wait for this one (Web Locks), so a model is fetched once. */
async function withModelLock<T>(id: string, signal: AbortSignal | undefined, body: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: Navigator }).navigator?.locks;
  if (!locks) return body();
  try {
    return (await locks.request(`tabllm-model:${id}`, { signal }, body)) as T;
  } catch (err) {
    // Aborted while waiting for another tab's load of the same model.
    if (signal?.aborted && !(err instanceof StorageError)) throw abortError(signal);
    throw err;
  }
}

export async function loadModel(source: string | URL | File | Blob, options: LoadModelOptions = {}): Promise<LoadedModel> {
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    // A local file is already on disk: read it in place instead of copying it into storage.
    const name = typeof File !== 'undefined' && source instanceof File ? source.name : 'blob';
    const id = `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}-local-${source.size}`;
    options.onProgress?.({ stage: 'cached', loaded: source.size, total: source.size, bytesPerSecond: 0 });
    return { id, source: new BlobSource(source), size: source.size, fromCache: true };
  }
  if (typeof source !== 'string' && !(source instanceof URL)) {
    throw new StorageError('bad_source', `expected a URL, a Hugging Face name, a File or a Blob, got ${Object.prototype.toString.call(source)}`);
  }
  const url = resolveModelUrl(source);
  const id = modelIdForUrl(url);
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) throw new StorageError('bad_source', `chunkBytes must be a positive integer, got ${chunkBytes}`);
  idleTimeoutOf(options.idleTimeoutMs, (m) => new StorageError('bad_source', m));
  const expectedSha = options.sha256?.toLowerCase();
  if (expectedSha !== undefined && !/^[0-9a-f]{64}$/.test(expectedSha)) throw new StorageError('bad_source', `sha256 must be 64 hex digits, got '${options.sha256}'`);
  if (options.signal?.aborted) throw abortError(options.signal);
  const storage = await openStorage(options.storage);
  return withModelLock(id, options.signal, () =>
    new ModelLoad(url, id, chunkBytes, expectedSha, options, storage).run(),
  );
}

/** One loadModel call after the inputs are checked. */
class ModelLoad {
  private readonly progress: ProgressReporter;
  private readonly fetchFn: typeof fetch;
  private networkBytes = 0;

  constructor(
    private readonly url: string,
    private readonly id: string,
    private readonly chunkBytes: number,
    private readonly expectedSha: string | undefined,
    private readonly options: LoadModelOptions,
    private storage: ModelStorage,
  ) {
    this.progress = new ProgressReporter(options.onProgress);
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
  }

  async run(): Promise<LoadedModel> {
    let record = await this.storage.registry.get(this.id);
    if (record && record.backend !== this.storage.chunks.kind && (this.options.storage ?? 'auto') === 'auto') {
      // Stored by a context that picked the other backend: read it where it is, if that store opens here.
      const own = await openChunkStore(record.backend);
      if (own) this.storage = { ...this.storage, chunks: own };
    }
    const { registry, chunks } = this.storage;
    const stale = record && (record.backend !== chunks.kind || (this.expectedSha && record.sha256 && record.sha256 !== this.expectedSha));
    if (record && stale) {
      // The old copy may sit in another backend (OPFS came or went): remove it there.
      await (await chunksOf(record, this.storage, typeof this.options.storage === 'object'))?.delete(this.id);
      await this.forget();
      record = undefined;
    }
    if (record) record = await this.checkStored(record);
    if (!record?.complete) record = await this.downloadWithRetries(record);
    record.lastUsed = Date.now();
    await registry.put(record);
    if (this.networkBytes === 0) this.progress.report('cached', record.size, record.size);
    return {
      id: this.id,
      url: this.url,
      size: record.size,
      fromCache: this.networkBytes === 0,
      source: new ChunkedSource(chunks, this.id, record.size, record.chunkBytes),
    };
  }

  private async forget(): Promise<void> {
    await this.storage.chunks.delete(this.id);
    await this.storage.registry.delete(this.id);
  }

  /** Drops chunks whose stored bytes are missing, of the wrong size, or (verify 'hash') of the wrong hash. */
  private async checkStored(record: CachedModel): Promise<CachedModel> {
    const byHash = this.options.verify === 'hash';
    let checked = 0;
    for (let i = 0; i < record.chunkSha256.length; i++) {
      const want = record.chunkSha256[i];
      if (want === null) continue;
      this.throwIfAborted();
      const blob = await this.storage.chunks.get(this.id, i);
      let good = blob !== undefined && blob.size === chunkLength(record, i);
      if (good && byHash) good = (await sha256Hex(new Uint8Array(await blob!.arrayBuffer()))) === want;
      if (!good) record.chunkSha256[i] = null;
      checked += chunkLength(record, i);
      if (byHash) this.progress.report('verify', checked, record.size);
    }
    const chunksDone = record.chunkSha256.filter((h) => h !== null).length;
    if (chunksDone !== record.chunksDone) {
      record.chunksDone = chunksDone;
      // A whole-file hash verified earlier no longer vouches for re-fetched bytes.
      if (record.complete) record.sha256 = undefined;
      record.complete = false;
      await this.storage.registry.put(record);
    }
    return record;
  }

  private async downloadWithRetries(record: CachedModel | undefined): Promise<CachedModel> {
    const retries = this.options.retries ?? 3;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.download(record);
      } catch (err) {
        if (this.options.signal?.aborted) throw abortError(this.options.signal);
        if (!(err instanceof TransientError)) throw err;
        if (attempt >= retries) {
          throw new StorageError(err.code, `${this.url}: ${err.message} (after ${retries} retries; stored chunks are kept, loading again resumes)`);
        }
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
        record = await this.storage.registry.get(this.id);
      }
    }
  }

  /**
   * Fetches every missing chunk in order. Chunk i+1 is on the wire while chunk i is hashed
   * and written (at most one store in flight), so a download costs max(network, storage)
   * rather than their sum.
   */
  private async download(existing: CachedModel | undefined): Promise<CachedModel> {
    let record = existing;
    let storing: { index: number; bytes: number; done: Promise<void> } | undefined;
    const startStore = (target: CachedModel, index: number, bytes: Uint8Array<ArrayBuffer>) => {
      const done = this.storeChunk(target, index, bytes);
      done.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
      storing = { index, bytes: bytes.byteLength, done };
    };
    const finishStore = async () => {
      const pending = storing;
      storing = undefined;
      await pending?.done;
    };
    try {
      if (!record) {
        // Chunk 0's response carries the file size (Content-Range) — no separate probe.
        const first = await this.fetchChunk(0, this.chunkBytes, 0, undefined);
        const numChunks = Math.max(1, Math.ceil(first.total / this.chunkBytes));
        const now = Date.now();
        record = {
          id: this.id, url: this.url, size: first.total, etag: first.etag, chunkBytes: this.chunkBytes,
          chunkSha256: new Array<string | null>(numChunks).fill(null), chunksDone: 0, complete: false,
          backend: this.storage.chunks.kind, lastUsed: now, createdAt: now,
        };
        const available = await this.storage.chunks.available?.();
        if (available !== undefined && available < record.size) {
          throw new StorageError('quota_exceeded', `${this.url} needs ${record.size} bytes, browser storage has ${available} left`, { bytesNeeded: record.size });
        }
        if (this.options.persist !== false && this.storage.chunks.kind !== 'memory') {
          // Best effort: browsers may decide silently or prompt; the download goes on either way.
          void globalThis.navigator?.storage?.persist?.().catch(() => false);
        }
        startStore(record, 0, first.bytes);
      }
      for (let i = 0; i < record.chunkSha256.length; i++) {
        if (record.chunkSha256[i] !== null || storing?.index === i) continue;
        const start = i * record.chunkBytes;
        const fetchedBefore = bytesStored(record) + (storing?.bytes ?? 0);
        const { bytes, total, etag } = await this.fetchChunk(start, start + chunkLength(record, i), fetchedBefore, record.size);
        await finishStore();
        const changed = total !== record.size || (record.etag !== undefined && etag !== undefined && etag !== record.etag);
        if (changed) {
          // The file changed on the server: the stored chunks belong to another version.
          await this.forget();
          throw new TransientError(
            `${this.url} changed on the server (size ${record.size} → ${total}, ETag ${record.etag} → ${etag}); starting over`,
            total !== record.size ? 'download_size_mismatch' : 'download_failed',
          );
        }
        startStore(record, i, bytes);
      }
      await finishStore();
    } catch (err) {
      // Let a store in flight land (or fail) before a retry reads the registry.
      await storing?.done.catch(() => undefined);
      throw err;
    }
    this.progress.report('download', record.size, record.size);
    if (this.expectedSha !== undefined && record.sha256 !== this.expectedSha) await this.verifyWholeFile(record, this.expectedSha);
    record.complete = true;
    await this.storage.registry.put(record);
    return record;
  }

  private async fetchChunk(start: number, end: number, storedBefore: number, total: number | undefined) {
    let inChunk = 0;
    return fetchRange({
      url: this.url, start, end, headers: this.options.headers, fetch: this.fetchFn, signal: this.options.signal,
      idleTimeoutMs: this.options.idleTimeoutMs,
      onBytes: (n) => {
        inChunk += n;
        this.networkBytes += n;
        this.progress.addNetworkBytes(n);
        if (total !== undefined) this.progress.report('download', storedBefore + inChunk, total, true);
      },
    }).catch((err: unknown) => {
      if ((err as Error).name === 'AbortError') throw abortError(this.options.signal);
      throw err;
    });
  }

  private async storeChunk(record: CachedModel, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    this.throwIfAborted();
    if (bytes.byteLength !== chunkLength(record, index)) {
      throw new StorageError('http_error', `chunk ${index} of ${this.url} is ${bytes.byteLength} bytes, expected ${chunkLength(record, index)}`);
    }
    const hash = await sha256Hex(bytes);
    try {
      await this.storage.chunks.put(this.id, index, bytes);
    } catch (err) {
      if (isQuotaError(err)) {
        const bytesNeeded = record.size - bytesStored(record);
        throw new StorageError('quota_exceeded', `browser storage is full: ${this.url} needs ${bytesNeeded} more bytes`, { bytesNeeded });
      }
      throw err;
    }
    record.chunkSha256[index] = hash;
    record.chunksDone++;
    await this.storage.registry.put(record);
    this.progress.report('download', bytesStored(record), record.size);
  }

  private async verifyWholeFile(record: CachedModel, expected: string): Promise<void> {
    const hasher = new Sha256();
    let hashed = 0;
    for (let i = 0; i < record.chunkSha256.length; i++) {
      this.throwIfAborted();
      const blob = await this.storage.chunks.get(this.id, i);
      if (!blob) throw new TransientError(`chunk ${i} vanished from storage during verification`);
      hasher.update(new Uint8Array(await blob.arrayBuffer()));
      hashed += blob.size;
      this.progress.report('verify', hashed, record.size);
    }
    const actual = hasher.hex();
    if (actual !== expected) {
      await this.forget();
      throw new StorageError('checksum_mismatch', `${this.url} has SHA-256 ${actual}, expected ${expected}; the download was deleted`);
    }
    record.sha256 = expected;
  }

  private throwIfAborted(): void {
    if (this.options.signal?.aborted) throw abortError(this.options.signal);
  }
}

/** Every model in the registry, most recently used first. */
export async function listCachedModels(options: Pick<LoadModelOptions, 'storage'> = {}): Promise<CachedModelInfo[]> {
  const { registry } = await openStorage(options.storage);
  const records = await registry.list();
  return records
    .sort((a, b) => b.lastUsed - a.lastUsed)
    .map((r) => ({ id: r.id, url: r.url, size: r.size, sha256: r.sha256, bytesStored: bytesStored(r), complete: r.complete, backend: r.backend, lastUsed: r.lastUsed }));
}

/** Removes a model's bytes and its registry record; `model_not_cached` for an unknown id. */
export async function deleteCachedModel(id: string, options: Pick<LoadModelOptions, 'storage'> = {}): Promise<void> {
  const storage = await openStorage(options.storage);
  const record = await storage.registry.get(id);
  if (!record) throw new StorageError('model_not_cached', `no cached model has id '${id}'`);
  await (await chunksOf(record, storage, typeof options.storage === 'object'))?.delete(id);
  await storage.registry.delete(id);
}
