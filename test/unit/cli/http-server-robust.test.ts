// The Node server survives any one request: malformed Host headers and request targets
// (which used to throw inside the 'request' handler and exit the process), methods
// undici's Request refuses, broken HTTP framing, a handler that throws, and 250 seeded
// random request lines and headers — each one answered (or, for bytes that are not HTTP,
// closed) while /health keeps answering 200. Raw TCP: fetch would normalise the Host.
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { serveFetchHandler, type FetchHandler, type RunningServer } from '../../../src/cli/http-server';
import { FakeEngine } from '../../helpers/fake-engine';
import { rawBody, rawGet, rawRequest } from '../../helpers/raw-http';
import { rng } from '../../helpers/rng';

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close(0);
  running = undefined;
});

const portOf = (server: RunningServer) => Number(new URL(server.url).port);

async function start(handler: FetchHandler = createRouter(new FakeEngine(), { access: {} }), errors: unknown[] = []): Promise<number> {
  running = await serveFetchHandler(handler, { port: 0, onError: (err) => errors.push(err) });
  return portOf(running);
}

async function expectAlive(port: number): Promise<void> {
  const health = await rawGet(port, '/health');
  expect(health.status).toBe(200);
}

describe('serveFetchHandler: one request cannot bring the server down', () => {
  it.each(['[', 'a b', '127.0.0.1:99999', 'x:y:z', 'a/b', 'u@127.0.0.1', '[::1', ''])('Host %j → 400 invalid_host_header', async (host) => {
    const port = await start();
    const answer = await rawGet(port, '/health', { host });
    expect(answer.status).toBe(400);
    expect(JSON.parse(rawBody(answer)).error.code).toBe('invalid_host_header');
    await expectAlive(port);
  });

  it.each(['//[', '/v1/models/"x"', 'http://[/v1/models', '*', 'ftp://127.0.0.1/v1/models'])('request target %j → 400 invalid_request_target', async (target) => {
    const port = await start();
    const answer = await rawGet(port, target);
    expect(answer.status).toBe(400);
    expect(JSON.parse(rawBody(answer)).error.code).toBe('invalid_request_target');
    await expectAlive(port);
  });

  it('a `//host/…` target stays a path on this server: it cannot change the host the router sees', async () => {
    let seen = '';
    const port = await start(async (request) => ((seen = request.url), new Response('ok')));
    expect((await rawGet(port, '//evil.test/v1/models')).status).toBe(200);
    expect(seen).toBe(`http://127.0.0.1:${port}//evil.test/v1/models`);
  });

  it('an absolute-form target is read as such (RFC 9112 §3.2.2), its host checked like a Host header', async () => {
    let seen = '';
    const port = await start(async (request) => ((seen = request.url), new Response('ok')));
    expect((await rawGet(port, `http://localhost:${port}/v1/models?x=1`)).status).toBe(200);
    expect(seen).toBe(`http://localhost:${port}/v1/models?x=1`);
    expect((await rawGet(port, 'http://a b/v1/models')).status).toBe(400);
  });

  it('TRACE (a method fetch refuses to build) → 405', async () => {
    const port = await start();
    const answer = await rawRequest(port, `TRACE /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`);
    expect(answer.status).toBe(405);
    expect(JSON.parse(rawBody(answer)).error.code).toBe('method_not_allowed');
    await expectAlive(port);
  });

  it('`//v1/models` (a base URL with a trailing slash) is the path `/v1/models`', async () => {
    const port = await start();
    const answer = await rawGet(port, '//v1/models');
    expect(answer.status).toBe(200);
    expect(JSON.parse(rawBody(answer)).data[0].id).toBe('fake-model');
  });

  it('malformed HTTP (clientError) gets a 400 on the socket and the server lives', async () => {
    const port = await start();
    for (const bytes of ['GARBAGE\r\n\r\n', 'GET v1/models HTTP/1.1\r\nhost: x\r\n\r\n', 'TRACK / HTTP/1.1\r\n\r\n', 'GET / HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n', 'GET /\0 HTTP/1.1\r\n\r\n', `GET / HTTP/1.1\r\nx: ${'a'.repeat(20_000)}\r\n\r\n`]) {
      const answer = await rawRequest(port, bytes);
      expect(answer.settled).toBe(true);
      expect([400, 431]).toContain(answer.status);
    }
    // Garbage pipelined after a good request: when both arrive in one read, the parser fails
    // before the first answer is written and the connection gets the 400 (as with Node's
    // default handler); when the first answer went out already, the connection just closes.
    const pipelined = await rawRequest(port, `GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\nGARBAGE\r\n\r\n`);
    expect(pipelined.settled).toBe(true);
    expect([200, 400]).toContain(pipelined.status);
    await expectAlive(port);
  });

  it('a handler that throws (even synchronously) gets a 500, is logged once and counted', async () => {
    const errors: unknown[] = [];
    const handler = ((request: Request) => {
      if (new URL(request.url).pathname === '/health') return Promise.resolve(new Response(''));
      throw new Error('boom');
    }) as FetchHandler;
    const port = await start(handler, errors);
    const answer = await rawGet(port, '/x');
    expect(answer.status).toBe(500);
    expect(JSON.parse(rawBody(answer)).error.code).toBe('internal_error');
    expect(errors).toHaveLength(1);
    expect(running!.stats.unexpectedErrors).toBe(1);
    await expectAlive(port);
  });

  it('answers 250 seeded random request lines and headers, and /health stays 200 after each', async () => {
    const engine = new FakeEngine();
    const errors: unknown[] = [];
    const port = await start(createRouter(engine, { access: {} }), errors);
    const random = rng(1234);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const junk = (n: number) => Array.from({ length: Math.floor(random() * n) }, () => String.fromCharCode(Math.floor(random() * 256))).join('');
    const printable = (n: number) => Array.from({ length: Math.floor(random() * n) }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('');
    const methods = ['GET', 'POST', 'OPTIONS', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'TRACE', 'TRACK', 'PROPFIND', 'constructor', '__proto__', 'G E T', ''];
    const targets = ['/health', '/v1/models', '/v1/models/%', '/v1/models/%E0%A4%A', '/v1/chat/completions', '/v1/completions', '/api/generate', '/api/tags', '//[', '//evil/v1/models', 'http://[/v1/models', `http://127.0.0.1:${port}/health`, 'http://x:99999/', '*', '/?a=%zz', '/' + 'a'.repeat(5000), ''];
    const hosts = [`127.0.0.1:${port}`, 'localhost', '[::1]:1', '[', 'a b', '127.0.0.1:99999', 'x:y:z', 'evil.test', '', 'LOCALHOST', '127.1', '%41'];
    const origins = ['http://localhost:3000', 'https://evil.test', 'null', 'http://[', '*', 'file://', ''];
    const versions = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', 'HTTX/1.1', ''];
    const bodies = ['{"prompt":"hi","max_tokens":2}', '{"model":"fake-model","prompt":"hi","stream":true}', '{"messages":[{"role":"user","content":"x"}],"stream":true}', '{', '', 'null'];
    const seen = new Map<number | undefined, number>();
    const started = Date.now();
    let sent = 0;
    for (; sent < 250 && Date.now() - started < 60_000; sent++) {
      let bytes: string;
      if (random() < 0.1) bytes = junk(200);
      else {
        const lines = [`${pick(methods)} ${random() < 0.1 ? printable(40) : pick(targets)} ${pick(versions)}`];
        if (random() < 0.85) lines.push(`Host: ${random() < 0.1 ? printable(30) : pick(hosts)}`);
        if (random() < 0.2) lines.push(`Host: ${pick(hosts)}`);
        if (random() < 0.4) lines.push(`Origin: ${random() < 0.1 ? printable(30) : pick(origins)}`);
        if (random() < 0.2) lines.push(`Access-Control-Request-Private-Network: true`, `Access-Control-Request-Headers: ${printable(30)}`);
        for (let i = Math.floor(random() * 3); i > 0; i--) lines.push(`${printable(12)}: ${random() < 0.2 ? junk(20) : printable(40)}`);
        const body = pick(bodies);
        if (random() < 0.2) lines.push('Transfer-Encoding: chunked');
        else if (random() < 0.9) lines.push(`Content-Length: ${random() < 0.15 ? pick(['-1', '1e3', '99999999', ' 5', '0x10', String(body.length + 3)]) : body.length}`);
        if (random() < 0.3) lines.push(`Content-Type: ${pick(['text/plain', 'application/json', printable(20)])}`);
        lines.push('Connection: close');
        bytes = `${lines.join('\r\n')}\r\n\r\n${random() < 0.9 ? body : junk(50)}`;
      }
      const answer = await rawRequest(port, bytes);
      if (!answer.settled) throw new Error(`no answer and no close for request ${sent}: ${JSON.stringify(bytes.slice(0, 300))}`);
      seen.set(answer.status, (seen.get(answer.status) ?? 0) + 1);
      const health = await rawGet(port, '/health');
      if (health.status !== 200) throw new Error(`/health answered ${health.status} after request ${sent}: ${JSON.stringify(bytes.slice(0, 300))}`);
    }
    expect(sent).toBeGreaterThanOrEqual(200);
    // Nothing reached the 500 path: every failure was a coded 4xx.
    expect(seen.get(500)).toBeUndefined();
    expect(errors).toEqual([]);
    expect(running!.stats.unexpectedErrors).toBe(0);
    // The mix exercised answers and refusals alike.
    expect([...seen.keys()]).toEqual(expect.arrayContaining([200, 400, 403]));
    await engine.whenIdle();
  }, 120_000);
});

describe('status line', () => {
  it('carries the standard reason phrase when the Response has none, its own when it has one', async () => {
    const port = await start(async (request) => {
      const path = new URL(request.url).pathname;
      if (path === '/teapot') return new Response('', { status: 418, statusText: 'Short And Stout' });
      if (path === '/nope') return new Response('', { status: 404 });
      return new Response('');
    });
    expect((await rawGet(port, '/health')).text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect((await rawGet(port, '/nope')).text).toMatch(/^HTTP\/1\.1 404 Not Found\r\n/);
    expect((await rawGet(port, '/teapot')).text).toMatch(/^HTTP\/1\.1 418 Short And Stout\r\n/);
  });
});
