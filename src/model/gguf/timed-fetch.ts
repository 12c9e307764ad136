// Bounded HTTP for model bytes, shared by the GGUF Range source and the storage downloader:
// a request whose headers, and every body piece after them, must arrive within an idle
// timeout, and a body read into a buffer of the size asked for — never more. A server that
// accepts and never answers, stalls mid-body, or streams gigabytes at a 1-byte range request
// ends in a coded error, with the connection dropped and memory bounded by the read asked for.
//
//   fetch ──headers──► check Content-Length ──► read pieces into [length] u8 ──► body ends?
//     │ idle > T             │ ≠ asked                 │ idle > T   │ > asked       │ more bytes
//     ▼                      ▼                         ▼            ▼               ▼
//   download_timeout   download_size_mismatch   download_timeout  download_size_mismatch

/** How long a request may wait for headers, or a body for its next piece, by default. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export type DownloadErrorCode =
  /** No response headers, or no body bytes, for the idle timeout. */
  | 'download_timeout'
  /** The body, Content-Length or Content-Range disagree with what was asked or declared before. */
  | 'download_size_mismatch';

/** Builds the caller's coded error (GGUFError, StorageError, a retryable error, …). */
export type DownloadFail = (code: DownloadErrorCode, message: string) => Error;

export interface TimedFetchOptions {
  fetch: typeof fetch;
  /** Default DEFAULT_IDLE_TIMEOUT_MS. */
  idleTimeoutMs?: number;
  signal?: AbortSignal;
  fail: DownloadFail;
}

/** Checks an idle timeout option once, where the options come in. */
export function idleTimeoutOf(value: number | undefined, fail: (message: string) => Error): number {
  if (value === undefined) return DEFAULT_IDLE_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw fail(`idleTimeoutMs must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/**
 * The declared body size, when the header is there and describes the bytes we get
 * (a Content-Encoding makes Content-Length count the encoded bytes, so it is ignored then).
 */
export function declaredLength(response: Response): number | undefined {
  const encoding = response.headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') return undefined;
  const raw = response.headers.get('content-length');
  if (raw === null || !/^\s*\d+\s*$/.test(raw)) return undefined;
  return Number(raw);
}

/** One response whose body is read under the same idle timeout as its headers were. */
export class TimedResponse {
  private reader: ReadableStreamDefaultReader<Uint8Array> | undefined;

  private constructor(
    readonly response: Response,
    private readonly url: string,
    private readonly controller: AbortController,
    private readonly idleMs: number,
    private readonly fail: DownloadFail,
    private readonly unlink: () => void,
  ) {}

  /**
   * Sends the request; resolves when its headers arrive. A fetch failure other than the
   * timeout is thrown as fetch threw it (callers sort cuts from aborts).
   */
  static async fetch(url: string, init: RequestInit, opts: TimedFetchOptions): Promise<TimedResponse> {
    const idleMs = opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    // Our own controller, so a timeout can drop the connection without aborting the caller's signal.
    const controller = new AbortController();
    const outer = opts.signal;
    const forward = () => controller.abort(outer!.reason);
    if (outer?.aborted) forward();
    outer?.addEventListener('abort', forward, { once: true });
    const unlink = () => outer?.removeEventListener('abort', forward);
    try {
      const response = await within(idleMs, opts.fetch(url, { ...init, signal: controller.signal }), () => {
        const err = opts.fail('download_timeout', `${url} sent no response headers within ${idleMs} ms`);
        controller.abort(err);
        return err;
      });
      return new TimedResponse(response, url, controller, idleMs, opts.fail, unlink);
    } catch (err) {
      unlink();
      throw err;
    }
  }

  get status(): number {
    return this.response.status;
  }

  header(name: string): string | null {
    return this.response.headers.get(name);
  }

  /** Drops the body unread (and the connection with it). */
  async cancel(): Promise<void> {
    this.unlink();
    try {
      await (this.reader ? this.reader.cancel() : this.response.body?.cancel());
    } catch {
      // Already errored or aborted: nothing left to drop.
    }
    this.controller.abort();
  }

  /**
   * Reads the body into a buffer of `length` bytes. `exact`: the body must be exactly that
   * long (a shorter or longer one is `download_size_mismatch`); otherwise a shorter body is
   * returned as is and a longer one is `tooLong()`. `onBytes` sees only bytes kept.
   */
  async read(length: number, opts: { exact: boolean; prefix?: boolean; onBytes?: (n: number) => void; tooLong?: () => Error }): Promise<Uint8Array<ArrayBuffer>> {
    if (opts.prefix) return this.readPrefix(length);
    const declared = declaredLength(this.response);
    if (opts.exact && declared !== undefined && declared !== length) {
      await this.cancel();
      throw this.fail('download_size_mismatch', `${this.url} declares a ${declared}-byte body (Content-Length) for ${length} bytes asked`);
    }
    const longer = () => opts.tooLong?.() ?? this.fail('download_size_mismatch', `${this.url} sent more than the ${length} bytes asked`);
    if (!opts.exact && declared !== undefined && declared > length) {
      await this.cancel();
      throw longer();
    }
    const out = new Uint8Array(length);
    let filled = 0;
    if (!this.response.body) {
      this.unlink();
      if (length === 0 || !opts.exact) return out.subarray(0, 0);
      throw this.fail('download_size_mismatch', `${this.url} sent no body for ${length} bytes asked`);
    }
    const reader = (this.reader = this.response.body.getReader());
    try {
      for (;;) {
        const { value, done } = await this.nextPiece(reader, filled, length);
        if (done) break;
        if (filled + value.byteLength > length) throw longer();
        out.set(value, filled);
        filled += value.byteLength;
        opts.onBytes?.(value.byteLength);
      }
    } catch (err) {
      await this.cancel();
      throw err;
    }
    this.unlink();
    if (filled === length) return out;
    if (opts.exact) throw this.fail('download_size_mismatch', `${this.url} ended its body after ${filled} of ${length} bytes`);
    return out.slice(0, filled);
  }

  /**
   * The first `length` bytes of a body that is known to be longer (a server that answers a
   * small range with the whole file); the rest is dropped unread, so memory stays `length`.
   */
  private async readPrefix(length: number): Promise<Uint8Array<ArrayBuffer>> {
    const out = new Uint8Array(length);
    let filled = 0;
    if (this.response.body) {
      const reader = (this.reader = this.response.body.getReader());
      try {
        while (filled < length) {
          const { value, done } = await this.nextPiece(reader, filled, length);
          if (done) break;
          const take = Math.min(value.byteLength, length - filled);
          out.set(value.subarray(0, take), filled);
          filled += take;
        }
      } finally {
        await this.cancel();
      }
    }
    if (filled < length) throw this.fail('download_size_mismatch', `${this.url} ended its body after ${filled} of ${length} bytes`);
    return out;
  }

  private nextPiece(reader: ReadableStreamDefaultReader<Uint8Array>, filled: number, length: number) {
    return within(this.idleMs, reader.read(), () => {
      const err = this.fail('download_timeout', `${this.url} sent no data for ${this.idleMs} ms (after ${filled} of ${length} bytes)`);
      this.controller.abort(err);
      return err;
    });
  }
}

/**
 * `step`, or the error `onTimeout()` builds when it takes longer than `ms`. When the timer
 * fires, the step gets one more turn of the event loop: if this thread was busy (a long
 * synchronous task), bytes that arrived meanwhile are delivered after the timers, and a
 * stall that was ours, not the server's, must not count.
 */
async function within<T>(ms: number, step: Promise<T>, onTimeout: () => Error): Promise<T> {
  let settled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timer = setTimeout(() => {
        if (!settled) reject(onTimeout());
      }, 0);
    }, ms);
  });
  try {
    return await Promise.race([step, timeout]);
  } finally {
    settled = true;
    clearTimeout(timer);
  }
}
