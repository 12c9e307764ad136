// Raw HTTP over node:net, for tests that must send bytes fetch would refuse or normalise
// (a malformed Host, a request target like `//[`, broken framing).
import { connect } from 'node:net';

export interface RawAnswer {
  /** The status of the first response, or undefined when the server closed without one. */
  status: number | undefined;
  /** The reason phrase of the first status line ('' when absent). */
  reason: string;
  /** Everything the server sent, as latin1 text. */
  text: string;
  /** False when nothing came back and the connection stayed open past `timeoutMs`. */
  settled: boolean;
}

/**
 * Sends `bytes` to 127.0.0.1:`port`, half-closes, and collects the reply until the server
 * closes the connection (or `timeoutMs` passes: then `settled` is false).
 */
export function rawRequest(port: number, bytes: string | Uint8Array, timeoutMs = 5000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: '127.0.0.1', port });
    let done = false;
    const finish = (settled: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?\r\n/.exec(text);
      resolve({ status: m ? Number(m[1]) : undefined, reason: m?.[2] ?? '', text, settled });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    // A reset after the answer (the server closing a socket with unread bytes) is still an answer.
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('connect', () => {
      socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
      socket.end();
    });
  });
}

/** `GET path` with the given extra header lines, `Connection: close`. */
export function rawGet(port: number, path: string, headers: Record<string, string> = { host: `127.0.0.1:${port}` }): Promise<RawAnswer> {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return rawRequest(port, `GET ${path} HTTP/1.1\r\n${lines}connection: close\r\n\r\n`);
}

/** The body of a raw answer (after the blank line), chunked framing undone. */
export function rawBody(answer: RawAnswer): string {
  const at = answer.text.indexOf('\r\n\r\n');
  if (at < 0) return '';
  const body = answer.text.slice(at + 4);
  if (!/^transfer-encoding: chunked\r$/im.test(answer.text.slice(0, at + 2))) return body;
  let out = '';
  for (let i = 0; ; ) {
    const eol = body.indexOf('\r\n', i);
    const size = parseInt(body.slice(i, eol), 16);
    if (eol < 0 || !(size > 0)) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}
