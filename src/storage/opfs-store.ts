// ChunkStore on the Origin Private File System: `tabllm-models/<model id>/<index>.bin`.
// Chunks are written with `createWritable()` (available on the main thread and in
// workers in Chromium), read back as `File`s, which are disk-backed: slicing one reads
// only the bytes asked for.
import { storageEstimateAvailable, type ChunkStore } from './chunk-store';

const ROOT_DIR = 'tabllm-models';

export class OpfsChunkStore implements ChunkStore {
  readonly kind = 'opfs' as const;

  private constructor(private readonly root: FileSystemDirectoryHandle) {}

  /** The OPFS store, or undefined where OPFS (or a writable file handle) is missing. */
  static async open(): Promise<OpfsChunkStore | undefined> {
    const storage = (globalThis as { navigator?: Navigator }).navigator?.storage;
    if (typeof storage?.getDirectory !== 'function') return undefined;
    try {
      const origin = await storage.getDirectory();
      const root = await origin.getDirectoryHandle(ROOT_DIR, { create: true });
      const probe = await root.getFileHandle('.probe', { create: true });
      if (typeof (probe as { createWritable?: unknown }).createWritable !== 'function') return undefined;
      return new OpfsChunkStore(root);
    } catch {
      return undefined; // e.g. a private window where OPFS throws SecurityError
    }
  }

  private async modelDir(id: string, create: boolean): Promise<FileSystemDirectoryHandle | undefined> {
    try {
      return await this.root.getDirectoryHandle(id, { create });
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined;
      throw err;
    }
  }

  async put(id: string, index: number, bytes: Uint8Array<ArrayBuffer>): Promise<void> {
    const dir = (await this.modelDir(id, true))!;
    const handle = await dir.getFileHandle(`${index}.bin`, { create: true });
    const writable = await handle.createWritable();
    try {
      await writable.write(bytes);
      await writable.close();
    } catch (err) {
      await writable.abort().catch(() => undefined);
      throw err;
    }
  }

  async get(id: string, index: number): Promise<Blob | undefined> {
    const dir = await this.modelDir(id, false);
    if (!dir) return undefined;
    try {
      return await (await dir.getFileHandle(`${index}.bin`)).getFile();
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') return undefined;
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    try {
      await this.root.removeEntry(id, { recursive: true });
    } catch (err) {
      if ((err as Error).name !== 'NotFoundError') throw err;
    }
  }

  available(): Promise<number | undefined> {
    return storageEstimateAvailable();
  }
}
