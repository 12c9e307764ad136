// Where downloaded bytes live: a model is a list of fixed-size chunks (the last may be
// short), each stored once and never rewritten. One entry per chunk makes a chunk's write
// atomic (OPFS commits a writable on close; a Cache API put is all-or-nothing), makes
// resume "the first missing chunk", and lets a corrupt chunk be re-fetched alone —
// appending to one big OPFS file would re-copy the whole file on every
// `createWritable({ keepExistingData: true })` in Chromium.

export type BackendKind = 'opfs' | 'cache' | 'memory';

export interface ChunkStore {
  readonly kind: BackendKind;
  /** Stores chunk `index` of model `id` (replacing it). May throw a QuotaExceededError. */
  put(id: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void>;
  /** The chunk as a Blob (disk-backed where the backend allows), or undefined if absent. */
  get(id: string, index: number): Promise<Blob | undefined>;
  /** Removes every chunk of model `id`. */
  delete(id: string): Promise<void>;
  /** Bytes the origin may still store, when the browser says (navigator.storage.estimate). */
  available?(): Promise<number | undefined>;
}

/** In-memory chunks: Node tests and the no-storage fallback. */
export class MemoryChunkStore implements ChunkStore {
  readonly kind = 'memory' as const;
  readonly chunks = new Map<string, Uint8Array<ArrayBuffer>>();

  async put(id: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    this.chunks.set(`${id}/${index}`, bytes.slice());
  }

  async get(id: string, index: number): Promise<Blob | undefined> {
    const bytes = this.chunks.get(`${id}/${index}`);
    return bytes === undefined ? undefined : new Blob([bytes]);
  }

  async delete(id: string): Promise<void> {
    for (const key of [...this.chunks.keys()]) if (key.startsWith(`${id}/`)) this.chunks.delete(key);
  }
}

export async function storageEstimateAvailable(): Promise<number | undefined> {
  const storage = (globalThis as { navigator?: Navigator }).navigator?.storage;
  if (!storage?.estimate) return undefined;
  const { quota, usage } = await storage.estimate();
  return quota === undefined || usage === undefined ? undefined : Math.max(0, quota - usage);
}
