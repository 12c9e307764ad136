import { afterEach, describe, expect, it } from 'vitest';
import { serveFetchHandler, type RunningServer } from '../../../src/cli/http-server';

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close(0);
  running = undefined;
});

describe('serveFetchHandler', () => {
  it('passes method, path, headers and body to the handler and streams the response back', async () => {
    running = await serveFetchHandler(
      async (req) => {
        const body = await req.text();
        const url = new URL(req.url);
        return new Response(JSON.stringify({ method: req.method, path: url.pathname + url.search, body, ct: req.headers.get('content-type') }), {
          status: 201,
          headers: { 'content-type': 'application/json', 'x-test': 'yes' },
        });
      },
      { port: 0 },
    );
    const r = await fetch(`${running.url}/v1/echo?x=1`, { method: 'POST', body: 'héllo', headers: { 'content-type': 'text/plain' } });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-test')).toBe('yes');
    expect(await r.json()).toEqual({ method: 'POST', path: '/v1/echo?x=1', body: 'héllo', ct: 'text/plain' });
  });

  it('aborts the request signal when the client disconnects mid-stream', async () => {
    let aborted!: () => void;
    const abortedPromise = new Promise<void>((r) => (aborted = r));
    running = await serveFetchHandler(
      async (req) => {
        req.signal.addEventListener('abort', () => aborted());
        let n = 0;
        const stream = new ReadableStream<Uint8Array>({
          async pull(c) {
            await new Promise((r) => setTimeout(r, 5));
            c.enqueue(new TextEncoder().encode(`data: ${n++}\n\n`));
          },
        });
        return new Response(stream, { headers: { 'content-type': 'text/event-stream' } });
      },
      { port: 0 },
    );
    const controller = new AbortController();
    const r = await fetch(`${running.url}/stream`, { signal: controller.signal });
    const reader = r.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toMatch(/^data: 0/);
    controller.abort();
    await abortedPromise; // resolves only if the server saw the disconnect
  });

  it('answers 500 with an OpenAI-shaped error when the handler throws', async () => {
    running = await serveFetchHandler(async () => {
      throw new Error('boom');
    }, { port: 0, onError: () => {} });
    const r = await fetch(`${running.url}/x`);
    expect(r.status).toBe(500);
    const j = (await r.json()) as { error: { type: string } };
    expect(j.error.type).toBe('server_error');
  });
});
