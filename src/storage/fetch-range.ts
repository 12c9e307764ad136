// One HTTP range request for one chunk, read into a buffer of the exact size as it
// streams (so progress moves within a chunk). Failures are sorted into the ones worth a
// retry (connection cut, 5xx, short body: `TransientError`) and the ones that are not
// (404, no range support, malformed answers: `StorageError`).
import { StorageError } from './errors';

/** A failure that a retry (resuming at the same chunk) may fix. */
export class TransientError extends Error {
  override readonly name = 'TransientError';
}

export interface RangeRequest {
  url: string;
  /** First byte, inclusive. */
  start: number;
  /** One past the last byte wanted; the server may stop earlier at the end of the file. */
  end: number;
  headers?: Record<string, string>;
  fetch: typeof fetch;
  signal?: AbortSignal;
  /** Called with each body piece's byte count as it arrives. */
  onBytes?: (bytes: number) => void;
}

export interface RangeResponse {
  // [end - start] u8 (shorter for the file's last chunk)
  bytes: Uint8Array<ArrayBuffer>;
  /** Whole file size, from Content-Range (or the body of a 200). */
  total: number;
  /** The server's ETag for the file, when it sends (and CORS exposes) one. */
  etag: string | undefined;
}

/** Parses `bytes START-END/TOTAL`; a `*` total is of no use to a downloader. */
function parseContentRange(header: string | null): { start: number; end: number; total: number } | undefined {
  const match = header ? /^bytes\s+(\d+)-(\d+)\/(\d+)$/i.exec(header.trim()) : null;
  return match ? { start: Number(match[1]), end: Number(match[2]), total: Number(match[3]) } : undefined;
}

/** Reads a body into a buffer of `capacity` bytes; a longer body is `tooLong()`, a shorter one is returned as is. */
async function readBody(
  response: Response,
  capacity: number,
  onBytes: ((n: number) => void) | undefined,
  tooLong: () => Error,
): Promise<Uint8Array<ArrayBuffer>> {
  const out = new Uint8Array(capacity);
  let filled = 0;
  if (!response.body) return out.subarray(0, 0);
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      if (filled + value.byteLength > capacity) {
        await reader.cancel().catch(() => undefined);
        throw tooLong();
      }
      out.set(value, filled);
      filled += value.byteLength;
      onBytes?.(value.byteLength);
    }
  } catch (err) {
    if (err instanceof StorageError || (err as Error).name === 'AbortError') throw err;
    throw new TransientError(`connection cut after ${filled} bytes: ${(err as Error).message}`);
  }
  return filled === capacity ? out : out.slice(0, filled);
}

export async function fetchRange(req: RangeRequest): Promise<RangeResponse> {
  const { url, start, end } = req;
  let response: Response;
  try {
    response = await req.fetch(url, { headers: { ...req.headers, Range: `bytes=${start}-${end - 1}` }, signal: req.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new TransientError(`fetch ${url} failed: ${(err as Error).message}`);
  }
  const status = response.status;
  if (status === 206) {
    const range = parseContentRange(response.headers.get('content-range'));
    if (!range || range.start !== start || range.end < range.start || range.end >= end || range.end >= range.total) {
      await response.body?.cancel().catch(() => undefined);
      throw new StorageError('http_error', `${url} answered a range request for ${start}-${end - 1} with Content-Range '${response.headers.get('content-range')}'`, { status });
    }
    const length = range.end - range.start + 1;
    const bytes = await readBody(response, length, req.onBytes, () => new StorageError('http_error', `${url} sent more than ${length} bytes for range ${start}-${range.end}`, { status }));
    if (bytes.byteLength !== length) throw new TransientError(`got ${bytes.byteLength} of ${length} bytes at ${start}`);
    return { bytes, total: range.total, etag: response.headers.get('etag') ?? undefined };
  }
  if (status === 200) {
    // The server ignores Range and sends the whole file: usable only when that file fits in one chunk.
    const declared = Number(response.headers.get('content-length') ?? NaN);
    const unsupported = () =>
      new StorageError(
        'range_not_supported',
        `${url} ignores HTTP Range requests and is ${Number.isNaN(declared) ? 'larger than' : `${declared} bytes, more than`} one chunk (${end - start} bytes); serve it from a server with range support`,
        { status },
      );
    if (start !== 0 || declared > end - start) {
      await response.body?.cancel().catch(() => undefined);
      throw unsupported();
    }
    const bytes = await readBody(response, end - start, req.onBytes, unsupported);
    if (!Number.isNaN(declared) && bytes.byteLength !== declared) throw new TransientError(`got ${bytes.byteLength} of ${declared} bytes`);
    return { bytes, total: bytes.byteLength, etag: response.headers.get('etag') ?? undefined };
  }
  await response.body?.cancel().catch(() => undefined);
  if (status === 404 || status === 410) throw new StorageError('not_found', `${url} answered HTTP ${status}`, { status });
  if (status >= 500 || status === 429 || status === 408) throw new TransientError(`${url} answered HTTP ${status}`);
  if (status === 416) throw new StorageError('http_error', `${url} cannot serve bytes from ${start} (HTTP 416: the file is empty or shorter than expected)`, { status });
  throw new StorageError('http_error', `${url} answered HTTP ${status}`, { status });
}
