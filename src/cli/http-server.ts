// Node HTTP server over a fetch-style router: (Request) => Promise<Response>.
// Bodies stream both ways; a client that disconnects aborts the Request's signal,
// which the router passes to the engine so the request's KV blocks are freed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

export type FetchHandler = (request: Request) => Promise<Response>;

export interface ServeOptions {
  host?: string;
  port?: number;
  /** Called for errors thrown by the handler itself (it should return error Responses instead). */
  onError?: (err: unknown) => void;
}

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting connections; in-flight requests are aborted after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

function toRequest(req: IncomingMessage, signal: AbortSignal, origin: string): Request {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    for (const value of Array.isArray(v) ? v : [v]) headers.append(k, value);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
    signal,
    // Node's fetch needs this for streamed request bodies.
    ...(hasBody ? { duplex: 'half' } : {}),
  } as RequestInit);
}

async function writeResponse(res: ServerResponse, response: Response, signal: AbortSignal): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((v, k) => (headers[k] = v));
  res.writeHead(response.status, response.statusText, headers);
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
  } catch {
    res.destroy();
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

export function serveFetchHandler(handler: FetchHandler, options: ServeOptions = {}): Promise<RunningServer> {
  const host = options.host ?? '127.0.0.1';
  const inflight = new Set<AbortController>();
  const server = createServer((req, res) => {
    const controller = new AbortController();
    inflight.add(controller);
    // 'close' on the response fires when the socket goes away before we finished.
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new DOMException('client disconnected', 'AbortError'));
      inflight.delete(controller);
    });
    const origin = `http://${req.headers.host ?? host}`;
    handler(toRequest(req, controller.signal, origin))
      .then((response) => writeResponse(res, response, controller.signal))
      .catch((err) => {
        options.onError?.(err);
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: String(err), type: 'server_error', param: null, code: 'internal_error' } }));
        } else res.destroy();
      });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8000, host, () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr ? addr.port : options.port;
      const shownHost = host.includes(':') ? `[${host}]` : host;
      resolve({
        server,
        url: `http://${shownHost}:${port}`,
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
