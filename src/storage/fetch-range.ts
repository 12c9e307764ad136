// One HTTP range request for one chunk, read into a buffer of the exact size as it
// streams (so progress moves within a chunk), under the idle timeout of timed-fetch.ts.
// Failures are sorted into the ones worth a retry (connection cut, 5xx, a stall, a body
// or size that disagrees: `TransientError`, carrying the code to report when the retries
// run out) and the ones that are not (404, no range support, malformed answers: `StorageError`).
import { declaredLength, TimedResponse, type DownloadErrorCode, type DownloadFail } from '../model/gguf/timed-fetch';
import { StorageError } from './errors';

/**
 * A failure that a retry (resuming at the same chunk) may fix. `code` is the StorageError
 * code the load ends with when the retries run out.
 */
export class TransientError extends Error {
  override readonly name = 'TransientError';
  constructor(
    message: string,
    readonly code: 'download_failed' | DownloadErrorCode = 'download_failed',
  ) {
    super(message);
  }
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
  /** Headers, and each body piece after them, must arrive within this many ms (default 30 s). */
  idleTimeoutMs?: number;
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

// Stalls and size disagreements may be a flaky proxy or a file replaced mid-download: retried, then reported with their code.
const downloadFail: DownloadFail = (code, message) => new TransientError(message, code);

export async function fetchRange(req: RangeRequest): Promise<RangeResponse> {
  const { url, start, end } = req;
  let response: TimedResponse;
  try {
    response = await TimedResponse.fetch(
      url,
      { headers: { ...req.headers, Range: `bytes=${start}-${end - 1}` } },
      { fetch: req.fetch, idleTimeoutMs: req.idleTimeoutMs, signal: req.signal, fail: downloadFail },
    );
  } catch (err) {
    if (err instanceof TransientError || (err as Error).name === 'AbortError') throw err;
    throw new TransientError(`fetch ${url} failed: ${(err as Error).message}`);
  }
  try {
    return await readAnswer(req, response);
  } catch (err) {
    await response.cancel();
    if (err instanceof StorageError || err instanceof TransientError || (err as Error).name === 'AbortError') throw err;
    throw new TransientError(`connection cut: ${(err as Error).message}`);
  }
}

async function readAnswer(req: RangeRequest, response: TimedResponse): Promise<RangeResponse> {
  const { url, start, end } = req;
  const status = response.status;
  const etag = response.header('etag') ?? undefined;
  if (status === 206) {
    const range = parseContentRange(response.header('content-range'));
    if (!range || range.start !== start || range.end < range.start || range.end >= end || range.end >= range.total) {
      throw new StorageError('http_error', `${url} answered a range request for ${start}-${end - 1} with Content-Range '${response.header('content-range')}'`, { status });
    }
    const length = range.end - range.start + 1;
    const bytes = await response.read(length, { exact: true, onBytes: req.onBytes });
    return { bytes, total: range.total, etag };
  }
  if (status === 200) {
    // The server ignores Range and sends the whole file: usable only when that file fits in one chunk.
    const declared = declaredLength(response.response);
    const unsupported = () =>
      new StorageError(
        'range_not_supported',
        `${url} ignores HTTP Range requests and is ${declared === undefined ? 'larger than' : `${declared} bytes, more than`} one chunk (${end - start} bytes); serve it from a server with range support`,
        { status },
      );
    if (start !== 0) throw unsupported();
    const bytes = await response.read(end - start, { exact: false, onBytes: req.onBytes, tooLong: unsupported });
    if (declared !== undefined && bytes.byteLength !== declared) {
      throw new TransientError(`${url} sent ${bytes.byteLength} of the ${declared} bytes it declared`, 'download_size_mismatch');
    }
    return { bytes, total: bytes.byteLength, etag };
  }
  if (status === 404 || status === 410) throw new StorageError('not_found', `${url} answered HTTP ${status}`, { status });
  if (status >= 500 || status === 429 || status === 408) throw new TransientError(`${url} answered HTTP ${status}`);
  if (status === 416) throw new StorageError('http_error', `${url} cannot serve bytes from ${start} (HTTP 416: the file is empty or shorter than expected)`, { status });
  throw new StorageError('http_error', `${url} answered HTTP ${status}`, { status });
}
