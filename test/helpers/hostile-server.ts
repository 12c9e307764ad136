// A loopback HTTP server that misbehaves on purpose, one behaviour per path, for the
// bounded-download tests: it never answers, answers headers then stalls, streams hundreds
// of MiB of junk at a range request (generated piece by piece, never allocated whole),
// lies in Content-Length or changes the Content-Range total. Paths not listed serve the
// file honestly, with ranges.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';

export type HostileMode =
  /** Honest 206 answers. */
  | 'honest'
  /** Accepts the connection, reads the request, never answers. */
  | 'silent'
  /** Sends 206 headers for the probe, then no body byte. */
  | 'stall-headers-only'
  /** Honest probe; later reads send half their body, then stall. */
  | 'stall-mid-body'
  /** 206 with the right Content-Range but JUNK_BYTES of body (chunked), for every request. */
  | 'oversize'
  /** Honest probe; later reads get JUNK_BYTES of body. */
  | 'oversize-after-probe'
  /** Ignores Range: 200, no Content-Length, JUNK_BYTES of body. */
  | 'whole-junk'
  /** Honest probe; later reads declare a Content-Length twice the range. */
  | 'lying-length'
  /** Honest probe; later reads claim another file size in Content-Range. */
  | 'changing-total'
  /** Honest probe; later reads send one byte less than asked (chunked, so nothing declares the length). */
  | 'short-body';

/** Junk sent by the oversize modes: far more than any read asks for, and more than the memory bound. */
export const JUNK_BYTES = 512 * 1024 * 1024;
const JUNK_PIECE = Buffer.alloc(1024 * 1024, 0x5a);

export class HostileServer {
  url = '';
  /** Body bytes the junk modes managed to write before the client hung up. */
  junkBytesSent = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly file: Uint8Array) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    // Stalled responses never end by themselves.
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const mode = (new URL(req.url ?? '/', 'http://x').pathname.slice(1).replace(/\.gguf$/, '') || 'honest') as HostileMode;
    const size = this.file.byteLength;
    const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
    if (mode === 'silent') return;
    if (mode === 'whole-junk' || !match) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      this.streamJunk(res);
      return;
    }
    const start = Number(match[1]);
    const end = Math.min(Number(match[2]), size - 1);
    const probe = start === 0 && end === 0;
    const honest = { 'content-range': `bytes ${start}-${end}/${size}` };
    const body = this.file.subarray(start, end + 1);
    if (mode === 'oversize' || (mode === 'oversize-after-probe' && !probe)) {
      res.writeHead(206, honest);
      this.streamJunk(res);
      return;
    }
    if (mode === 'stall-headers-only') {
      res.writeHead(206, { ...honest, 'content-length': String(body.byteLength) });
      res.flushHeaders();
      return;
    }
    if (probe || mode === 'honest') {
      res.writeHead(206, { ...honest, 'content-length': String(body.byteLength) }).end(Buffer.from(body));
      return;
    }
    if (mode === 'stall-mid-body') {
      res.writeHead(206, { ...honest, 'content-length': String(body.byteLength) });
      res.write(Buffer.from(body.subarray(0, Math.floor(body.byteLength / 2))));
      return;
    }
    if (mode === 'lying-length') {
      res.writeHead(206, { ...honest, 'content-length': String(2 * body.byteLength) });
      res.write(Buffer.from(body));
      return;
    }
    if (mode === 'changing-total') {
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${size + 4096}`, 'content-length': String(body.byteLength) }).end(Buffer.from(body));
      return;
    }
    // short-body: chunked, so only Content-Range says how long the body should be.
    res.writeHead(206, honest).end(Buffer.from(body.subarray(0, body.byteLength - 1)));
  }

  /** Writes JUNK_BYTES a piece at a time, waiting for the socket to drain; stops when the client hangs up. */
  private streamJunk(res: ServerResponse): void {
    let sent = 0;
    let closed = false;
    res.on('close', () => (closed = true));
    const pump = () => {
      while (!closed && sent < JUNK_BYTES) {
        sent += JUNK_PIECE.byteLength;
        this.junkBytesSent += JUNK_PIECE.byteLength;
        if (!res.write(JUNK_PIECE)) {
          res.once('drain', pump);
          return;
        }
      }
      if (!closed) res.end();
    };
    pump();
  }
}
