// The demo's model-file middleware (demo/vite.config.ts) over real HTTP: stories260K is
// served from the shared fixtures with Range support (206 + Content-Range), bad ranges get
// 416, unknown names 404, and the page's default model points at the local copy.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createServer, type ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange } from '../../demo/vite.config';
import { PROJECT_ROOT, SHARED_DIR } from '../helpers/browser';

const GGUF = readFileSync(resolve(SHARED_DIR, 'fixtures/stories260K/stories260K.gguf'));

describe('demo model-file server', () => {
  let server: ViteDevServer;
  let base: string;

  beforeAll(async () => {
    server = await createServer({ configFile: resolve(PROJECT_ROOT, 'demo/vite.config.ts'), logLevel: 'error', server: { port: 0, hmr: false } });
    await server.listen();
    const addr = server.httpServer!.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves a byte range of stories260K.gguf with 206 and Content-Range', async () => {
    const r = await fetch(`${base}/models/stories260K.gguf`, { headers: { Range: 'bytes=0-15' } });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`bytes 0-15/${GGUF.byteLength}`);
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(new Uint8Array(GGUF.subarray(0, 16)));
    const tail = await fetch(`${base}/models/stories260K.gguf`, { headers: { Range: 'bytes=-5' } });
    expect(tail.status).toBe(206);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(new Uint8Array(GGUF.subarray(GGUF.byteLength - 5)));
  });

  it('serves the whole file with 200 and Accept-Ranges when no range is asked', async () => {
    const r = await fetch(`${base}/models/stories260K.gguf`);
    expect(r.status).toBe(200);
    expect(r.headers.get('accept-ranges')).toBe('bytes');
    expect(Number(r.headers.get('content-length'))).toBe(GGUF.byteLength);
    expect(Buffer.from(await r.arrayBuffer()).equals(GGUF)).toBe(true);
  });

  it('answers 416 for a range past the end and 404 for an unknown model', async () => {
    const past = await fetch(`${base}/models/stories260K.gguf`, { headers: { Range: `bytes=${GGUF.byteLength}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${GGUF.byteLength}`);
    const missing = await fetch(`${base}/models/nope.gguf`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain("no local model 'nope.gguf'");
  });

  it('parses ranges as RFC 9110 says', () => {
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange('bytes=5-', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=5-100', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=-30', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=10-', 10)).toBeNull();
    expect(parseRange('bytes=4-2', 10)).toBeNull();
    expect(parseRange('bytes=-0', 10)).toBeNull();
    expect(parseRange('items=0-1', 10)).toBeNull();
    expect(parseRange('bytes=0-1,4-5', 10)).toBeNull();
  });

  it('points the page at the local copy of stories260K', async () => {
    // In dev, Vite hands `define` values to the page through /@vite/env.
    const r = await fetch(`${base}/@vite/env`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('"__TABLLM_DEFAULT_MODEL__": "/models/stories260K.gguf"');
  });
});
