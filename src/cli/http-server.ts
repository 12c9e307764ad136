// Node HTTP server over a fetch-style router: (Request) => Promise<Response>.
// Bodies stream both ways; a client that disconnects aborts the Request's signal,
// which the router passes to the engine so the request's KV blocks are freed.
//
// No single request can bring it down: what cannot become a Request (a malformed Host or
// request target, a method fetch refuses) gets a coded 4xx, malformed HTTP gets a 400 on
// the socket, and anything unexpected is a 500 for that request, logged once and counted.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { errorResponse, HttpError, toHttpError } from '../api/errors';
import { parseHostHeader } from '../api/origin-policy';

export type FetchHandler = (request: Request) => Promise<Response>;

export interface ServeOptions {
  host?: string;
  port?: number;
  /**
   * Called once per unexpected error: a handler that throws (it should return error
   * Responses instead), a response stream that fails, a server-level error. Default: stderr.
   */
  onError?: (err: unknown) => void;
}

export interface ServerStats {
  /** Unexpected errors so far (each also went to `onError`). */
  unexpectedErrors: number;
}

export interface RunningServer {
  server: Server;
  url: string;
  /** Live counters (the object is updated in place). */
  stats: ServerStats;
  /** Stops accepting connections; in-flight requests are aborted after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

/** Methods undici's Request refuses to build (`CONNECT`, `TRACE`, `TRACK`): 405, not a crash. */
const FORBIDDEN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** An origin-form request target: `/` then RFC 3986 path and query characters. */
const ORIGIN_FORM = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;

/**
 * The request's URL. The target is origin-form (`/path?q`), appended to the Host as text —
 * never resolved, so `//evil.test/x` stays a path here — or absolute-form (`http://h/x`,
 * whose host then wins over the Host header, RFC 9112 §3.2.2). Throws a 400 otherwise.
 */
export function requestUrl(target: string, hostHeader: string | undefined, fallbackHost: string): URL {
  const host = hostHeader ?? fallbackHost;
  if (parseHostHeader(host) === undefined) {
    throw new HttpError(400, 'invalid_host_header', `The Host header '${host.slice(0, 100)}' is not a valid host[:port].`);
  }
  const badTarget = () => new HttpError(400, 'invalid_request_target', `The request target '${target.slice(0, 100)}' is not a path or an http URL.`);
  if (target.startsWith('/')) {
    // RFC 3986's characters only: a `[` or a quote has no place in any route, and the old
    // `new URL('//[', base)` threw inside the request handler.
    if (!ORIGIN_FORM.test(target)) throw badTarget();
    try {
      return new URL(`http://${host}${target}`);
    } catch {
      throw badTarget();
    }
  }
  if (!/^https?:\/\//i.test(target)) throw badTarget();
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw badTarget();
  }
  if (parseHostHeader(url.host) === undefined) throw badTarget();
  return url;
}

function toRequest(req: IncomingMessage, signal: AbortSignal, fallbackHost: string): Request {
  const url = requestUrl(req.url ?? '/', req.headers.host, fallbackHost);
  const method = req.method ?? 'GET';
  if (FORBIDDEN_METHODS.has(method.toUpperCase())) {
    throw new HttpError(405, 'method_not_allowed', `Method ${method} is not allowed; use GET, POST or OPTIONS.`);
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const value of Array.isArray(v) ? v : [v]) headers.append(k, value);
  }
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(url, {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal,
    // Node's fetch needs this for streamed request bodies.
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit);
}

/** Streams `response` out; throws only when its body failed while the client was still there. */
async function writeResponse(res: ServerResponse, response: Response, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  // A Response built without a statusText would give an empty reason phrase (`HTTP/1.1 200 `).
  res.writeHead(response.status, response.statusText || STATUS_CODES[response.status] || 'Unknown', headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const onAbort = () => void reader.cancel(signal.reason).catch(() => {});
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Respect backpressure so a slow client does not buffer the whole stream in memory.
      if (!res.write(value)) await new Promise<void>((r) => res.once('drain', r));
    }
    res.end();
  } catch (err) {
    res.destroy();
    // A client that went away is expected; a body that failed on its own is not.
    if (!signal.aborted) throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Answers malformed HTTP (the parser gave up) on the raw socket, as Node's default would. */
function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // Bytes already written belong to an earlier response on this connection: a status line
  // now would corrupt it, so close instead (Node's default does the same).
  if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'HPE_REQUEST_TIMEOUT' || err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

export function serveFetchHandler(handler: FetchHandler, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const fallbackHost = host.includes(':') ? `[${host}]` : host;
  const inflight = new Set<AbortController>();
  const stats: ServerStats = { unexpectedErrors: 0 };
  const unexpected = (err: unknown) => {
    stats.unexpectedErrors++;
    if (options.onError) options.onError(err);
    else process.stderr.write(`tabllm serve: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
  };

  const fail = (res: ServerResponse, err: unknown) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const response = errorResponse(toHttpError(err), 'openai');
    void response.text().then((body) => {
      const headers: Record<string, string> = { 'content-length': String(Buffer.byteLength(body)) };
      response.headers.forEach((v, k) => (headers[k] = v));
      if (res.destroyed || res.headersSent) return;
      res.writeHead(response.status, STATUS_CODES[response.status], headers);
      res.end(body);
    });
  };

  const server = createServer((req, res) => {
    const controller = new AbortController();
    inflight.add(controller);
    // 'close' on the response fires when the socket goes away before we finished.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new DOMException('client disconnected', 'AbortError'));
      inflight.delete(controller);
    });
    let request: Request;
    try {
      request = toRequest(req, controller.signal, fallbackHost);
    } catch (err) {
      // A coded 4xx is the client's fault; anything else here is ours.
      if (!(err instanceof HttpError)) unexpected(err);
      fail(res, err);
      return;
    }
    // `Promise.resolve().then`: a handler that throws synchronously becomes a rejection too.
    Promise.resolve()
      .then(() => handler(request))
      .then((response) => writeResponse(res, response, controller.signal))
      .catch((err: unknown) => {
        unexpected(err);
        fail(res, err);
      });
  });
  server.on('clientError', answerClientError);

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, host, () => {
      server.off('error', reject);
      // After listen, an 'error' (EMFILE on accept, say) must not crash the process.
      server.on('error', unexpected);
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : options.port;
      resolve({
        server,
        url: `http://${fallbackHost}:${port}`,
        stats,
        close: (graceMs = 5000) =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections?.();
            setTimeout(() => {
              for (const c of inflight) c.abort(new DOMException('server shutting down', 'AbortError'));
              server.closeAllConnections?.();
            }, graceMs).unref();
          }),
      });
    });
  });
}
