// The router's access options on their own (no server): 'open' stays the default for the
// fetch shim and service worker, the local policy refuses foreign origins and hosts,
// bad options fail at createRouter, and the deadline answers even when nothing honours the abort.
import { describe, expect, it } from 'vitest';
import { PREFLIGHT_ALLOWED_HEADERS } from '../../../src/api/cors';
import { PolicyConfigError } from '../../../src/api/origin-policy';
import { createRouter } from '../../../src/api/router';
import { FakeEngine } from '../../helpers/fake-engine';

const get = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers });

describe('router access', () => {
  it("'open' (the default) answers any origin with CORS, as the in-page hosts need", async () => {
    const r = await createRouter(new FakeEngine())(get('http://localhost:8000/v1/models', { origin: 'https://app.example' }));
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('the local policy checks the Host header and the URL host alike (an absolute-form target names its own)', async () => {
    const router = createRouter(new FakeEngine(), { access: {} });
    expect((await router(get('http://localhost:8000/v1/models', { host: 'evil.test:8000' }))).status).toBe(403);
    expect((await router(get('http://evil.test:8000/v1/models', { host: 'localhost:8000' }))).status).toBe(403);
    expect((await router(get('http://localhost:8000/v1/models', { host: 'LOCALHOST:8000' }))).status).toBe(200);
    const wide = createRouter(new FakeEngine(), { access: { checkHost: false } });
    expect((await wide(get('http://192.168.1.2:8000/v1/models', { host: '192.168.1.2:8000' }))).status).toBe(200);
    expect((await wide(get('http://192.168.1.2:8000/v1/models', { origin: 'http://192.168.1.3' }))).status).toBe(403);
  });

  it('a preflight whose header list is malformed gets the fixed list, not an echo', async () => {
    const router = createRouter(new FakeEngine(), { access: {} });
    const r = await router(new Request('http://localhost:8000/v1/chat/completions', { method: 'OPTIONS', headers: { origin: 'http://localhost:3000', 'access-control-request-headers': 'a;b, <c>' } }));
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-headers')).toBe(PREFLIGHT_ALLOWED_HEADERS);
  });

  it.each([
    [{ access: { allowOrigins: ['evil.test'] } }],
    [{ access: { allowHosts: ['a:1'] } }],
    [{ apiKey: '' }],
    [{ requestTimeoutMs: 0 }],
    [{ requestTimeoutMs: Number.NaN }],
  ])('bad options fail at createRouter: %j', (options) => {
    expect(() => createRouter(new FakeEngine(), options)).toThrowError(PolicyConfigError);
  });

  it('the deadline answers 504 even while the request body never ends', async () => {
    const router = createRouter(new FakeEngine(), { requestTimeoutMs: 50 });
    const body = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new TextEncoder().encode('{"prompt":')) });
    const r = await router(new Request('http://localhost:8000/v1/completions', { method: 'POST', body, duplex: 'half' } as RequestInit));
    expect(r.status).toBe(504);
    expect(r.headers.get('x-tabllm-error-code')).toBe('request_timeout');
  });

  it('a stream that ends before the deadline passes through whole, nothing aborted', async () => {
    const engine = new FakeEngine();
    const router = createRouter(engine, { requestTimeoutMs: 60_000 });
    const r = await router(new Request('http://localhost:8000/v1/completions', { method: 'POST', body: JSON.stringify({ prompt: 'a', stream: true }) }));
    expect(await r.text()).toMatch(/data: \[DONE\]\n\n$/);
    expect(engine.abortedCount).toBe(0);
    expect(engine.inFlight).toBe(0);
  });
});
