// ByteSource implementations: memory, Blob/File, HTTP(S) Range requests and Node file paths.
// Everything that reads a GGUF goes through `read(offset, length)`, so a multi-GB model is
// never one ArrayBuffer. `openSource` picks the implementation from what the caller passes.
import { GGUFError } from './errors';
import { declaredLength, idleTimeoutOf, TimedResponse, type DownloadFail, type TimedFetchOptions } from './timed-fetch';
import type { ByteSource } from './types';

export type SourceInput = string | URL | ArrayBuffer | Uint8Array | Blob | ByteSource;

export interface OpenSourceOptions {
  /** A server that ignores `Range` is accepted only when the whole file is at most this big. */
  maxNonRangeBytes?: number;
  /** Extra headers for HTTP sources (e.g. Authorization). */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
  /** Aborts HTTP requests; the promise then rejects with fetch's own `AbortError`. */
  signal?: AbortSignal;
  /**
   * An HTTP request must get its response headers, and a body its next bytes, within this
   * many milliseconds, else `download_timeout`. Default 30 s.
   */
  idleTimeoutMs?: number;
}

const DEFAULT_MAX_NON_RANGE_BYTES = 16 * 1024 * 1024;

function checkRange(offset: number, length: number, size: number | undefined): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new GGUFError('bad_source', `invalid read range offset=${offset} length=${length}`);
  }
  if (size !== undefined && offset + length > size) {
    throw new GGUFError('truncated', `read of ${length} bytes at ${offset} runs past the end (size ${size})`, offset);
  }
}

/** In-memory bytes. `read` returns views into the same memory (no copy). */
export class MemorySource implements ByteSource {
  readonly size: number;
  private readonly bytes: Uint8Array;

  constructor(data: ArrayBuffer | Uint8Array) {
    this.bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    this.size = this.bytes.byteLength;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.size);
    return this.bytes.subarray(offset, offset + length);
  }
}

/** A Blob or File (browser file picker, OPFS file): slices are read lazily. */
export class BlobSource implements ByteSource {
  readonly size: number;
  constructor(private readonly blob: Blob) {
    this.size = blob.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.size);
    const buffer = await this.blob.slice(offset, offset + length).arrayBuffer();
    if (buffer.byteLength !== length) throw new GGUFError('truncated', `blob returned ${buffer.byteLength} of ${length} bytes`, offset);
    return new Uint8Array(buffer);
  }
}

interface NodeFileHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  stat(): Promise<{ size: number; isFile(): boolean }>;
  close(): Promise<void>;
}

interface NodeFs {
  open(path: string, flags: number): Promise<NodeFileHandle>;
  stat(path: string): Promise<{ isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }>;
  constants: { O_RDONLY: number; O_NONBLOCK?: number };
}

async function nodeFs(): Promise<NodeFs> {
  // A computed specifier keeps bundlers (a consumer's esbuild, Vite, webpack) from pulling
  // node:fs into a browser build: a plain const would be folded back into a literal by our
  // own build, and esbuild fails on a literal 'node:…' import for the browser.
  const specifier = ['node', 'fs/promises'].join(':');
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as NodeFs;
}

/**
 * Throws unless `path` names a regular file (symlinks followed): `bad_source` when it cannot
 * be stat'ed (missing, no permission), `not_a_regular_file` for a FIFO, socket, device or directory.
 */
export async function checkRegularFile(path: string, fs?: NodeFs): Promise<void> {
  let stats: Awaited<ReturnType<NodeFs['stat']>>;
  try {
    stats = await (fs ?? (await nodeFs())).stat(path);
  } catch (err) {
    throw new GGUFError('bad_source', `cannot open ${path}: ${(err as Error).message}`);
  }
  if (stats.isFile()) return;
  const kind = stats.isDirectory() ? 'a directory' : stats.isFIFO() ? 'a FIFO (named pipe)' : stats.isSocket() ? 'a socket'
    : stats.isCharacterDevice() || stats.isBlockDevice() ? 'a device' : 'not a regular file';
  throw new GGUFError('not_a_regular_file', `${path} is ${kind}, not a regular .gguf file`);
}

/** A local file in Node, read with positional reads through one FileHandle. */
export class NodeFileSource implements ByteSource {
  private constructor(
    private readonly handle: NodeFileHandle,
    readonly size: number,
  ) {}

  /**
   * Opens a regular file. The path is stat'ed before it is opened: opening a FIFO for
   * reading blocks until a writer comes (forever, for a model path), and a device or a
   * directory is no model either. The open itself is non-blocking where the platform has
   * O_NONBLOCK, so a path swapped for a FIFO after the stat cannot hang it either.
   */
  static async open(path: string): Promise<NodeFileSource> {
    const fs = await nodeFs();
    await checkRegularFile(path, fs);
    let handle: NodeFileHandle;
    try {
      handle = await fs.open(path, fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0));
    } catch (err) {
      throw new GGUFError('bad_source', `cannot open ${path}: ${(err as Error).message}`);
    }
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      throw new GGUFError('not_a_regular_file', `${path} is not a regular file`);
    }
    return new NodeFileSource(handle, stats.size);
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    return this.readInto(offset, new Uint8Array(length));
  }

  async readInto(offset: number, out: Uint8Array): Promise<Uint8Array> {
    const length = out.length;
    checkRange(offset, length, this.size);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new GGUFError('truncated', `file ended after ${done} of ${length} bytes`, offset + done);
      done += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Parses `bytes START-END/TOTAL` (TOTAL may be `*`). */
function parseContentRange(header: string | null): { start: number; end: number; total: number | undefined } | undefined {
  const match = header ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

const downloadFail: DownloadFail = (code, message) => new GGUFError(code, message);

/**
 * A file behind an HTTP(S) server that answers `Range` requests with 206. Every read is a
 * request for exactly its bytes, read into a buffer of that size under the idle timeout
 * (timed-fetch.ts): a body or Content-Range that disagrees with what was asked, or with
 * the size the first answer declared, is `download_size_mismatch`.
 */
export class HttpRangeSource implements ByteSource {
  /** Number of requests made (tests check that reads stay ranged). */
  requestCount = 0;

  private constructor(
    private readonly url: string,
    readonly size: number | undefined,
    private readonly headers: Record<string, string>,
    private readonly http: TimedFetchOptions,
  ) {}

  /**
   * Probes the server with a 1-byte range request to learn the size. A server that ignores
   * Range (200) is accepted only for small files, which are then held in memory.
   */
  static async open(url: string, opts: OpenSourceOptions = {}): Promise<ByteSource> {
    const headers = opts.headers ?? {};
    const maxNonRange = opts.maxNonRangeBytes ?? DEFAULT_MAX_NON_RANGE_BYTES;
    const http: TimedFetchOptions = {
      fetch: opts.fetch ?? globalThis.fetch.bind(globalThis),
      idleTimeoutMs: idleTimeoutOf(opts.idleTimeoutMs, (m) => new GGUFError('bad_source', m)),
      signal: opts.signal,
      fail: downloadFail,
    };
    const response = await request(url, { headers: { ...headers, Range: 'bytes=0-0' } }, http);
    return readOrDrop(response, async () => {
      if (response.status === 206) {
        const range = parseContentRange(response.header('content-range'));
        if (range && range.start !== 0) throw new GGUFError('range_not_supported', `${url} answered a Range request from byte ${range.start}, not 0`);
        // Some servers (Vite's dev server, sirv) read `bytes=0-0` as "from 0 to the end": the
        // whole file with a matching Content-Range. Its first byte is taken and the rest dropped.
        const wholeFile = range !== undefined && range.total !== undefined && range.end === range.total - 1;
        if (range && range.end !== 0 && !wholeFile) throw new GGUFError('download_size_mismatch', `${url} answered a 1-byte Range request with bytes 0-${range.end}`);
        await response.read(1, { exact: true, prefix: wholeFile && range.end !== 0 });
        // Cross-origin responses hide Content-Range unless the server exposes it; Content-Length of
        // a HEAD response is always readable.
        const size = range?.total ?? (await headContentLength(url, headers, http));
        if (size === undefined) {
          throw new GGUFError('range_not_supported', `${url}: no readable Content-Range total or Content-Length (CORS: Access-Control-Expose-Headers: Content-Range)`);
        }
        const source = new HttpRangeSource(url, size, headers, http);
        source.requestCount = 1;
        return source;
      }
      if (response.status === 200) {
        const length = declaredLength(response.response);
        if (length === undefined || length > maxNonRange) {
          throw new GGUFError(
            'range_not_supported',
            `${url} ignores Range requests and is ${length === undefined ? 'of unknown size' : `${length} bytes`} (limit ${maxNonRange})`,
          );
        }
        return new MemorySource(await response.read(length, { exact: true }));
      }
      // Range 0-0 is unsatisfiable only for an empty file.
      if (response.status === 416) {
        await response.cancel();
        return new MemorySource(new Uint8Array(0));
      }
      throw new GGUFError('fetch_failed', `${url} answered HTTP ${response.status}`);
    });
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(offset, length, this.size);
    if (length === 0) return new Uint8Array(0);
    this.requestCount++;
    const last = offset + length - 1;
    const response = await request(this.url, { headers: { ...this.headers, Range: `bytes=${offset}-${last}` } }, this.http);
    return readOrDrop(response, () => {
      if (response.status === 416) throw new GGUFError('truncated', `range ${offset}+${length} not satisfiable`, offset);
      if (response.status !== 206) throw new GGUFError('range_not_supported', `expected 206 for a Range request, got ${response.status}`, offset);
      const range = parseContentRange(response.header('content-range'));
      if (range && range.start !== offset) throw new GGUFError('range_not_supported', `server sent bytes from ${range.start}, asked for ${offset}`, offset);
      if (range && (range.end !== last || (range.total !== undefined && range.total !== this.size))) {
        throw new GGUFError('download_size_mismatch', `${this.url} answered bytes ${offset}-${last} of ${this.size} with Content-Range '${response.header('content-range')}'`, offset);
      }
      return response.read(length, { exact: true });
    });
  }
}

/** Runs `body` on a response; on any failure the rest of the body is dropped, and a cut connection is `fetch_failed`. */
async function readOrDrop<T>(response: TimedResponse, body: () => Promise<T> | T): Promise<T> {
  try {
    return await body();
  } catch (err) {
    await response.cancel();
    if (err instanceof GGUFError || (err as Error).name === 'AbortError') throw err;
    throw new GGUFError('fetch_failed', `reading the body failed: ${(err as Error).message}`);
  }
}

async function headContentLength(url: string, headers: Record<string, string>, http: TimedFetchOptions): Promise<number | undefined> {
  let response: TimedResponse | undefined;
  try {
    response = await TimedResponse.fetch(url, { method: 'HEAD', headers }, http);
    const length = declaredLength(response.response);
    return response.status >= 200 && response.status < 300 ? length : undefined;
  } catch (err) {
    // A stalled HEAD is the server's fault like a stalled GET (download_timeout); other failures just mean no size.
    if (err instanceof GGUFError || (err as Error).name === 'AbortError') throw err;
    return undefined;
  } finally {
    await response?.cancel();
  }
}

async function request(url: string, init: RequestInit, http: TimedFetchOptions): Promise<TimedResponse> {
  try {
    return await TimedResponse.fetch(url, init, http);
  } catch (err) {
    if (err instanceof GGUFError || (err as Error).name === 'AbortError') throw err;
    throw new GGUFError('fetch_failed', `fetch ${url} failed: ${(err as Error).message}`);
  }
}

export function isByteSource(value: unknown): value is ByteSource {
  return typeof value === 'object' && value !== null && typeof (value as ByteSource).read === 'function' && 'size' in value;
}

const IN_NODE = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * What a string source names: http(s) URLs are fetched with Range requests; in Node, file://
 * URLs and other strings are file paths; in a browser, other strings are URLs relative to the page.
 */
export function classifySourceString(
  text: string,
  inNode: boolean = IN_NODE,
  baseHref: string | undefined = (globalThis as { location?: { href: string } }).location?.href,
): { kind: 'url'; url: string } | { kind: 'file'; path: string } {
  if (/^https?:\/\//i.test(text)) return { kind: 'url', url: text };
  if (!inNode && /^(blob|data):/i.test(text)) return { kind: 'url', url: text };
  if (inNode && /^file:\/\//i.test(text)) return { kind: 'file', path: decodeURIComponent(new URL(text).pathname) };
  if (/^[a-z][a-z0-9+.-]*:/i.test(text) && !/^[a-z]:[\\/]/i.test(text)) throw new GGUFError('bad_source', `unsupported URL scheme in ${text}`);
  if (inNode) return { kind: 'file', path: text };
  if (!baseHref) throw new GGUFError('bad_source', `cannot resolve relative URL ${text} without a page location`);
  return { kind: 'url', url: new URL(text, baseHref).href };
}

/** Opens any supported input as a ByteSource (see `classifySourceString` for strings). */
export async function openSource(source: SourceInput, opts: OpenSourceOptions = {}): Promise<ByteSource> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return new MemorySource(source);
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new BlobSource(source);
  if (isByteSource(source)) return source;
  const text = source instanceof URL ? source.href : source;
  if (typeof text !== 'string') throw new GGUFError('bad_source', `unsupported source ${Object.prototype.toString.call(source)}`);
  const target = classifySourceString(text);
  return target.kind === 'url' ? HttpRangeSource.open(target.url, opts) : NodeFileSource.open(target.path);
}
