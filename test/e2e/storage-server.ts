// A tiny HTTP file server for storage tests: byte Ranges, CORS (the test page lives on
// another port), a log of every request, and a kill switch that cuts the next response
// after N body bytes — a dropped connection in the middle of a chunk.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoggedRequest {
  method: string;
  path: string;
  /** The Range header's first byte, or undefined for a plain GET. */
  rangeStart: number | undefined;
  status: number;
  /** Body bytes actually sent. */
  bytesSent: number;
}

export interface ServedFile {
  bytes: Uint8Array;
  /** Sent as the ETag header when set. */
  etag?: string;
  /** false: ignore Range and always answer 200 with the whole file. */
  ranges?: boolean;
}

export class RangeServer {
  readonly files = new Map<string, ServedFile>();
  readonly log: LoggedRequest[] = [];
  /** When set, the next GET of a file is cut after this many body bytes (then it resets). */
  cutNextAfterBytes: number | undefined;
  /** With `cutNextAfterBytes`: cut only a request whose Range starts here. */
  cutRangeStart: number | undefined;
  private server: Server | undefined;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      res.setHeader('access-control-allow-origin', '*');
      res.setHeader('access-control-expose-headers', 'content-range, content-length, accept-ranges, etag');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-headers': 'range, authorization', 'access-control-allow-methods': 'GET, HEAD' });
        res.end();
        return;
      }
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const file = this.files.get(path);
      const entry: LoggedRequest = { method: req.method ?? 'GET', path, rangeStart: undefined, status: 0, bytesSent: 0 };
      this.log.push(entry);
      if (!file) {
        entry.status = 404;
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
        return;
      }
      const size = file.bytes.byteLength;
      let start = 0;
      let end = size - 1;
      let status = 200;
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'accept-ranges': file.ranges === false ? 'none' : 'bytes' };
      const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
      if (range && file.ranges !== false) {
        start = Number(range[1]);
        entry.rangeStart = start;
        end = range[2] === '' ? size - 1 : Math.min(Number(range[2]), size - 1);
        if (start >= size) {
          entry.status = 416;
          res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
          return;
        }
        status = 206;
        headers['content-range'] = `bytes ${start}-${end}/${size}`;
      }
      headers['content-length'] = String(end - start + 1);
      if (file.etag) headers.etag = file.etag;
      entry.status = status;
      res.writeHead(status, headers);
      const body = file.bytes.subarray(start, end + 1);
      const cut = this.cutNextAfterBytes;
      if (cut !== undefined && req.method !== 'HEAD' && (this.cutRangeStart === undefined || this.cutRangeStart === entry.rangeStart)) {
        this.cutNextAfterBytes = undefined;
        this.cutRangeStart = undefined;
        const part = body.subarray(0, Math.min(cut, body.byteLength));
        entry.bytesSent = part.byteLength;
        res.write(part, () => setTimeout(() => res.destroy(), 20));
        return;
      }
      entry.bytesSent = req.method === 'HEAD' ? 0 : body.byteLength;
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    // Longer than any test: a client reusing a keep-alive socket the server is just closing
    // sees a reset, which would read as a cut connection.
    this.server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  /** Logged GETs of one path (preflights are not logged). */
  requestsFor(path: string): LoggedRequest[] {
    return this.log.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
