// A ByteSource over a stored model's chunks: `read(offset, length)` slices only the chunk
// Blobs the range touches, so a multi-GB cached model is never one ArrayBuffer.
//
//   file:   |---- chunk 0 ----|---- chunk 1 ----|-- chunk 2 --|
//   read:                |=========|
//           chunk 0 tail ^         ^ chunk 1 head
import { GGUFError } from '../model/gguf/errors';
import type { ByteSource } from '../model/gguf/types';
import type { ChunkStore } from './chunk-store';

export class ChunkedSource implements ByteSource {
  /** Chunk Blobs looked up so far (a Blob is a handle, not the bytes). */
  private readonly blobs = new Map<number, Blob>();

  constructor(
    private readonly store: ChunkStore,
    private readonly id: string,
    readonly size: number,
    private readonly chunkBytes: number,
  ) {}

  private async chunk(index: number): Promise<Blob> {
    let blob = this.blobs.get(index);
    if (blob === undefined) {
      blob = await this.store.get(this.id, index);
      if (blob === undefined) throw new GGUFError('truncated', `cached chunk ${index} of ${this.id} is missing`, index * this.chunkBytes);
      this.blobs.set(index, blob);
    }
    return blob;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new GGUFError('bad_source', `invalid read range offset=${offset} length=${length}`);
    }
    if (offset + length > this.size) {
      throw new GGUFError('truncated', `read of ${length} bytes at ${offset} runs past the end (size ${this.size})`, offset);
    }
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = offset + done;
      const index = Math.floor(at / this.chunkBytes);
      const within = at - index * this.chunkBytes;
      const take = Math.min(length - done, this.chunkBytes - within);
      const blob = await this.chunk(index);
      const bytes = new Uint8Array(await blob.slice(within, within + take).arrayBuffer());
      if (bytes.byteLength !== take) throw new GGUFError('truncated', `cached chunk ${index} of ${this.id} is short`, at);
      if (done === 0 && take === length) return bytes; // one chunk: no copy
      out.set(bytes, done);
      done += take;
    }
    return out;
  }
}
