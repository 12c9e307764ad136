// The registry of cached models, in IndexedDB through idb-keyval (database `tabllm`,
// store `models`), one record per model id. It is the source of truth for which chunks
// are stored: a chunk counts only once its hash is recorded here, after its bytes were
// committed, so a crash between the two re-fetches that one chunk and nothing else.
import { createStore, del, get, set, values, type UseStore } from 'idb-keyval';
import type { BackendKind } from './chunk-store';

export interface CachedModel {
  id: string;
  /** The URL the bytes came from. */
  url: string;
  /** Whole file, bytes. */
  size: number;
  /** The server's ETag at the first chunk: a different one later means the file changed. */
  etag?: string;
  /** Whole-file SHA-256 (hex) once verified against the caller's value. */
  sha256?: string;
  chunkBytes: number;
  /** Per chunk: SHA-256 (hex) of the stored bytes, or null while the chunk is missing. */
  chunkSha256: (string | null)[];
  /** Chunks stored so far. */
  chunksDone: number;
  complete: boolean;
  backend: BackendKind;
  /** ms since the epoch. */
  lastUsed: number;
  createdAt: number;
}

export interface ModelRegistry {
  get(id: string): Promise<CachedModel | undefined>;
  put(model: CachedModel): Promise<void>;
  delete(id: string): Promise<void>;
  list(): Promise<CachedModel[]>;
}

export class IdbModelRegistry implements ModelRegistry {
  private readonly store: UseStore;

  constructor(dbName = 'tabllm', storeName = 'models') {
    this.store = createStore(dbName, storeName);
  }

  get(id: string): Promise<CachedModel | undefined> {
    return get<CachedModel>(id, this.store);
  }

  put(model: CachedModel): Promise<void> {
    return set(model.id, model, this.store);
  }

  delete(id: string): Promise<void> {
    return del(id, this.store);
  }

  list(): Promise<CachedModel[]> {
    return values<CachedModel>(this.store);
  }
}

export class MemoryModelRegistry implements ModelRegistry {
  readonly records = new Map<string, CachedModel>();

  async get(id: string): Promise<CachedModel | undefined> {
    const record = this.records.get(id);
    return record === undefined ? undefined : structuredClone(record);
  }

  async put(model: CachedModel): Promise<void> {
    this.records.set(model.id, structuredClone(model));
  }

  async delete(id: string): Promise<void> {
    this.records.delete(id);
  }

  async list(): Promise<CachedModel[]> {
    return [...this.records.values()].map((r) => structuredClone(r));
  }
}
