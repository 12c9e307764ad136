// Storage errors: one class with a string `code`, so the loader's callers (a progress UI,
// the worker boundary) can branch on the failure without parsing messages.
import type { DownloadErrorCode } from '../model/gguf/timed-fetch';

export type StorageErrorCode =
  /** The source is not something we can download (scheme, malformed shorthand). */
  | 'bad_source'
  /** The server answered 404 / 410. */
  | 'not_found'
  /** Any other unexpected HTTP status or malformed range response. */
  | 'http_error'
  /** The server ignores Range requests and the file is larger than one chunk. */
  | 'range_not_supported'
  /** The connection failed or was cut, and the retries ran out (the stored chunks stay: a later call resumes). */
  | 'download_failed'
  /**
   * The server stalled (no headers or body bytes for `idleTimeoutMs`), or its body, Content-Length
   * or Content-Range total disagreed with what was asked or declared before; the retries ran out.
   */
  | DownloadErrorCode
  /** Browser storage is full; `bytesNeeded` says how much more space the download needs. */
  | 'quota_exceeded'
  /** The whole file's SHA-256 differs from the one the caller gave (the entry is deleted). */
  | 'checksum_mismatch'
  /** Neither OPFS nor the Cache API is available in this context. */
  | 'storage_unavailable'
  /** No cached model has this id. */
  | 'model_not_cached'
  | 'aborted';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  /** For `quota_exceeded`: bytes the download still has to store. */
  readonly bytesNeeded: number | undefined;
  /** For HTTP failures: the status the server answered. */
  readonly status: number | undefined;

  constructor(code: StorageErrorCode, message: string, extra: { bytesNeeded?: number; status?: number } = {}) {
    super(`${code}: ${message}`);
    this.code = code;
    this.bytesNeeded = extra.bytesNeeded;
    this.status = extra.status;
    // Named like fetch's abort so `err.name === 'AbortError'` checks work across the stack.
    this.name = code === 'aborted' ? 'AbortError' : 'StorageError';
  }
}

export function isQuotaError(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'QuotaExceededError' || (err as { code?: unknown } | null)?.code === 22;
}

export function abortError(signal: AbortSignal | undefined): StorageError {
  const reason = signal?.reason as { message?: string } | undefined;
  return new StorageError('aborted', reason?.message ?? 'the model load was aborted');
}
