// ChunkStore on the Cache API (where OPFS is missing): one cache entry per chunk, keyed by
// a synthetic URL `https://tabllm.invalid/models/<id>/<index>`. `Response.blob()` of a
// cached entry is disk-backed in Chromium and Firefox.
import { storageEstimateAvailable, type ChunkStore } from './chunk-store';

const CACHE_NAME = 'tabllm-models';
const KEY_BASE = 'https://tabllm.invalid/models/';

export class CacheChunkStore implements ChunkStore {
  readonly kind = 'cache' as const;

  private constructor(private readonly cache: Cache) {}

  static async open(): Promise<CacheChunkStore | undefined> {
    const caches = (globalThis as { caches?: CacheStorage }).caches;
    if (!caches) return undefined;
    try {
      return new CacheChunkStore(await caches.open(CACHE_NAME));
    } catch {
      return undefined;
    }
  }

  private key(id: string, index: number): string {
    return `${KEY_BASE}${encodeURIComponent(id)}/${index}`;
  }

  async put(id: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    await this.cache.put(this.key(id, index), new Response(bytes, { headers: { 'content-length': String(bytes.byteLength) } }));
  }

  async get(id: string, index: number): Promise<Blob | undefined> {
    const response = await this.cache.match(this.key(id, index));
    return response ? response.blob() : undefined;
  }

  async delete(id: string): Promise<void> {
    const prefix = `${KEY_BASE}${encodeURIComponent(id)}/`;
    for (const request of await this.cache.keys()) {
      if (request.url.startsWith(prefix)) await this.cache.delete(request);
    }
  }

  available(): Promise<number | undefined> {
    return storageEstimateAvailable();
  }
}
