// Byte sources: HTTP Range requests against a loopback server (ranged reads only, size from
// Content-Range, servers that ignore Range), Blob/File, Node paths and file:// URLs.
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobSource, classifySourceString, GGUFError, HttpRangeSource, openSource, readGGUF, readTensorBytes } from '../../../src/model/gguf';
import { STORIES_GGUF } from './fixtures';

interface Served {
  bytes: Uint8Array;
  /** 'range': honours Range; 'ignore': always 200 with the whole body; 'wrong-start': 206 from a wrong offset. */
  mode: 'range' | 'ignore' | 'wrong-start' | 'short' | 'hidden-range' | 'zero-end-is-open';
}

const files = new Map<string, Served>();
const requests: { path: string; range: string | undefined }[] = [];
let server: Server;
let base: string;

function handle(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  const path = req.url ?? '/';
  requests.push({ path, range: req.headers.range });
  const file = files.get(path);
  if (!file) {
    res.writeHead(404).end('not found');
    return;
  }
  const { bytes, mode } = file;
  if (req.method === 'HEAD') {
    res.writeHead(200, { 'Content-Length': bytes.byteLength }).end();
    return;
  }
  const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (mode === 'ignore' || !match) {
    res.writeHead(200, { 'Content-Length': bytes.byteLength }).end(Buffer.from(bytes));
    return;
  }
  const start = Number(match[1]);
  // 'zero-end-is-open' mimics Vite's dev server (sirv): `bytes=0-0` is read as `bytes=0-`.
  const openEnd = mode === 'zero-end-is-open' && Number(match[2]) === 0;
  const end = openEnd ? bytes.byteLength - 1 : Math.min(Number(match[2]), bytes.byteLength - 1);
  if (start >= bytes.byteLength) {
    res.writeHead(416, { 'Content-Range': `bytes */${bytes.byteLength}` }).end();
    return;
  }
  // The faulty modes leave the 1-byte size probe alone and break the reads after it.
  const probe = start === 0 && end === 0;
  const from = mode === 'wrong-start' && !probe ? start + 1 : start;
  let body = bytes.subarray(from, end + 1);
  if (mode === 'short' && !probe) body = body.subarray(0, body.length - 1);
  // 'hidden-range' mimics a cross-origin response that does not expose Content-Range.
  const rangeHeader: Record<string, string> = mode === 'hidden-range' ? {} : { 'Content-Range': `bytes ${from}-${end}/${bytes.byteLength}` };
  res
    .writeHead(206, { ...rangeHeader, 'Content-Length': body.byteLength })
    .end(Buffer.from(body));
}

let stories: Uint8Array<ArrayBuffer>;
beforeAll(async () => {
  stories = new Uint8Array(await readFile(STORIES_GGUF));
  files.set('/stories.gguf', { bytes: stories, mode: 'range' });
  files.set('/no-range.gguf', { bytes: stories, mode: 'ignore' });
  files.set('/wrong-start.gguf', { bytes: stories, mode: 'wrong-start' });
  files.set('/short.gguf', { bytes: stories, mode: 'short' });
  files.set('/hidden-range.gguf', { bytes: stories, mode: 'hidden-range' });
  files.set('/zero-end-is-open.gguf', { bytes: stories, mode: 'zero-end-is-open' });
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('HTTP Range source', () => {
  it('reads the header with ranged requests only, never the whole file', async () => {
    requests.length = 0;
    const local = await readGGUF(stories);
    const remote = await readGGUF(`${base}/stories.gguf`, { windowBytes: 64 * 1024 });
    expect(remote).toEqual(local);
    expect(requests.length).toBeGreaterThanOrEqual(2);
    let requestedBytes = 0;
    for (const r of requests) {
      const m = /^bytes=(\d+)-(\d+)$/.exec(r.range ?? '');
      expect(m, `request without Range: ${JSON.stringify(r)}`).not.toBeNull();
      requestedBytes += Number(m![2]) - Number(m![1]) + 1;
    }
    expect(requestedBytes).toBeLessThan(64 * 1024 + 2); // the 1-byte probe + one 64 KiB window
  });

  it('knows the size from Content-Range and reads one tensor with its exact byte range', async () => {
    const source = await openSource(`${base}/stories.gguf`);
    expect(source).toBeInstanceOf(HttpRangeSource);
    expect(source.size).toBe(stories.byteLength);
    const gguf = await readGGUF(source);
    const tensor = gguf.tensors.find((t) => t.name === 'blk.4.ffn_down.weight')!;
    requests.length = 0;
    const bytes = await readTensorBytes(source, tensor);
    expect(requests).toEqual([{ path: '/stories.gguf', range: `bytes=${tensor.offset}-${tensor.offset + tensor.byteLength - 1}` }]);
    expect(Buffer.from(bytes).equals(Buffer.from(stories.subarray(tensor.offset, tensor.offset + tensor.byteLength)))).toBe(true);
  });

  it('a server that ignores Range is refused for big files, accepted for small ones', async () => {
    await expect(readGGUF(`${base}/no-range.gguf`, { maxNonRangeBytes: 1024 })).rejects.toMatchObject({ code: 'range_not_supported' });
    const small = await readGGUF(`${base}/no-range.gguf`, { maxNonRangeBytes: 2 * 1024 * 1024 });
    expect(small.tensors).toHaveLength(48);
  });

  it('wrong Content-Range, short bodies, 404 and unreachable hosts give coded errors', async () => {
    await expect(readGGUF(`${base}/wrong-start.gguf`)).rejects.toMatchObject({ code: 'range_not_supported' });
    await expect(readGGUF(`${base}/short.gguf`)).rejects.toMatchObject({ code: 'download_size_mismatch' });
    await expect(readGGUF(`${base}/missing.gguf`)).rejects.toMatchObject({ code: 'fetch_failed' });
    await expect(openSource('http://127.0.0.1:1/x.gguf')).rejects.toMatchObject({ code: 'fetch_failed' });
  });

  it('a server that answers the 1-byte probe with the whole file (Vite dev, sirv) works; only the first byte is kept', async () => {
    const source = await HttpRangeSource.open(`${base}/zero-end-is-open.gguf`);
    expect(source.size).toBe(stories.byteLength);
    const gguf = await readGGUF(source);
    expect(gguf.tensors.length).toBe(48);
    expect([...(await source.read(100, 16))]).toEqual([...stories.subarray(100, 116)]);
  });

  it('falls back to HEAD Content-Length when Content-Range is not readable', async () => {
    requests.length = 0;
    const source = await openSource(`${base}/hidden-range.gguf`);
    expect(source.size).toBe(stories.byteLength);
    expect((await readGGUF(source)).tensors).toHaveLength(48);
  });

  it('an AbortSignal aborts with fetch’s AbortError', async () => {
    const controller = new AbortController();
    const source = await openSource(`${base}/stories.gguf`, { signal: controller.signal });
    controller.abort();
    await expect(source.read(0, 16)).rejects.toMatchObject({ name: 'AbortError' });
    await expect(readGGUF(`${base}/stories.gguf`, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reads past the end are refused before any request', async () => {
    const source = await openSource(`${base}/stories.gguf`);
    requests.length = 0;
    await expect(source.read(stories.byteLength - 4, 8)).rejects.toBeInstanceOf(GGUFError);
    expect(requests).toEqual([]);
  });
});

describe('what a string source names', () => {
  it('in Node: http(s) URLs, file:// URLs and paths', () => {
    expect(classifySourceString('https://h/m.gguf', true)).toEqual({ kind: 'url', url: 'https://h/m.gguf' });
    expect(classifySourceString('file:///tmp/a%20b.gguf', true)).toEqual({ kind: 'file', path: '/tmp/a b.gguf' });
    expect(classifySourceString('models/m.gguf', true)).toEqual({ kind: 'file', path: 'models/m.gguf' });
    expect(classifySourceString('C:\\models\\m.gguf', true)).toEqual({ kind: 'file', path: 'C:\\models\\m.gguf' });
    expect(() => classifySourceString('s3://bucket/m.gguf', true)).toThrow(expect.objectContaining({ code: 'bad_source' }));
  });

  it('in a browser: relative strings resolve against the page, blob: URLs pass through', () => {
    expect(classifySourceString('/models/m.gguf', false, 'http://127.0.0.1:5173/demo/')).toEqual({ kind: 'url', url: 'http://127.0.0.1:5173/models/m.gguf' });
    expect(classifySourceString('m.gguf', false, 'http://127.0.0.1:5173/demo/')).toEqual({ kind: 'url', url: 'http://127.0.0.1:5173/demo/m.gguf' });
    expect(classifySourceString('blob:http://x/1', false, 'http://x/')).toEqual({ kind: 'url', url: 'blob:http://x/1' });
    expect(() => classifySourceString('file:///m.gguf', false, 'http://x/')).toThrow(expect.objectContaining({ code: 'bad_source' }));
    expect(() => classifySourceString('m.gguf', false, undefined)).toThrow(expect.objectContaining({ code: 'bad_source' }));
  });
});

describe('Blob, path and file:// sources', () => {
  it('a Blob is read in slices', async () => {
    const blob = new Blob([stories]);
    const source = new BlobSource(blob);
    expect(source.size).toBe(stories.byteLength);
    expect(Array.from(await source.read(0, 4))).toEqual([0x47, 0x47, 0x55, 0x46]);
    expect((await readGGUF(blob)).tensors.map((t) => t.offset)).toEqual((await readGGUF(stories)).tensors.map((t) => t.offset));
    await expect(source.read(stories.byteLength, 1)).rejects.toMatchObject({ code: 'truncated' });
  });

  it('a path and a file:// URL read the same file; a missing path is bad_source', async () => {
    const fromUrl = await readGGUF(pathToFileURL(STORIES_GGUF));
    expect(fromUrl).toEqual(await readGGUF(STORIES_GGUF));
    await expect(readGGUF('/nonexistent/model.gguf')).rejects.toMatchObject({ code: 'bad_source' });
    await expect(readGGUF(dirname(STORIES_GGUF))).rejects.toMatchObject({ code: 'not_a_regular_file' });
    await expect(openSource('ftp://example.com/m.gguf')).rejects.toMatchObject({ code: 'bad_source' });
  });
});
