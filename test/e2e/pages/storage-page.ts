// Storage e2e page: exposes loadModel & co. on window for the test to drive, plus helpers
// that damage stored chunks on purpose (OPFS file or Cache API entry).
import { deleteCachedModel, listCachedModels, loadModel, type LoadModelOptions, type StorageProgress } from '../../../src/storage';

interface LoadResult {
  id: string;
  size: number;
  fromCache: boolean;
  events: StorageProgress[];
  sha256: string;
  /** Bytes 1000..1015 read through the ByteSource, to check slicing across chunk files. */
  head: number[];
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function load(url: string, options: Omit<LoadModelOptions, 'onProgress'> = {}): Promise<LoadResult | { error: { code: string; name: string; message: string } }> {
  const events: StorageProgress[] = [];
  try {
    const model = await loadModel(url, { ...options, onProgress: (p) => events.push(p) });
    const all = (await model.source.read(0, model.size)) as Uint8Array<ArrayBuffer>;
    return { id: model.id, size: model.size, fromCache: model.fromCache, events, sha256: await sha256Hex(all), head: [...(await model.source.read(1000, 16))] };
  } catch (err) {
    const e = err as { code: string; name: string; message: string };
    return { error: { code: e.code, name: e.name, message: e.message } };
  }
}

/** Overwrites one stored chunk: 'truncate' keeps 10 bytes, 'flip' inverts one byte in place. */
async function damageChunk(id: string, index: number, how: 'truncate' | 'flip', backend: 'opfs' | 'cache' = 'opfs'): Promise<void> {
  if (backend === 'opfs') {
    const root = await navigator.storage.getDirectory();
    const dir = await (await root.getDirectoryHandle('tabllm-models')).getDirectoryHandle(id);
    const handle = await dir.getFileHandle(`${index}.bin`);
    const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
    const writable = await handle.createWritable();
    if (how === 'truncate') await writable.write(bytes.slice(0, 10));
    else {
      bytes[7] ^= 0xff;
      await writable.write(bytes);
    }
    await writable.close();
    return;
  }
  const cache = await caches.open('tabllm-models');
  const key = `https://tabllm.invalid/models/${encodeURIComponent(id)}/${index}`;
  const bytes = new Uint8Array(await (await cache.match(key))!.arrayBuffer());
  if (how === 'flip') bytes[7] ^= 0xff;
  await cache.put(key, new Response(how === 'truncate' ? bytes.slice(0, 10) : bytes));
}

async function opfsChunkNames(id: string): Promise<string[]> {
  const root = await navigator.storage.getDirectory();
  try {
    const dir = await (await root.getDirectoryHandle('tabllm-models')).getDirectoryHandle(id);
    const names: string[] = [];
    for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
    return names.sort();
  } catch {
    return [];
  }
}

async function cacheChunkCount(id: string): Promise<number> {
  const cache = await caches.open('tabllm-models');
  const prefix = `https://tabllm.invalid/models/${encodeURIComponent(id)}/`;
  return (await cache.keys()).filter((r) => r.url.startsWith(prefix)).length;
}

async function remove(id: string): Promise<string | undefined> {
  try {
    await deleteCachedModel(id);
    return undefined;
  } catch (err) {
    return (err as { code: string }).code;
  }
}

Object.assign(window, { tabllmStorage: { load, list: listCachedModels, remove, damageChunk, opfsChunkNames, cacheChunkCount } });
(window as unknown as { storageReady: boolean }).storageReady = true;
