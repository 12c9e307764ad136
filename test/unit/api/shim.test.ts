// installFetchShim and the passthrough fallback: only the API paths of listed origins are
// answered by the engine; everything else — and, with `fallback: 'passthrough'`, unknown
// models — reaches a real server (here a loopback node:http server playing vLLM) or a stub.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpenAIFetch, FetchShimError, installFetchShim } from '../../../src/shim/fetch';
import { FakeEngine } from '../../helpers/fake-engine';

let server: Server;
let realBase: string;
const seenByReal: { method: string; url: string; body: string; auth: string | undefined }[] = [];

async function readAll(req: IncomingMessage): Promise<string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = await readAll(req);
    seenByReal.push({ method: req.method!, url: req.url!, body, auth: req.headers.authorization });
    res.setHeader('content-type', 'application/json');
    if (req.url === '/v1/chat/completions') {
      const model = JSON.parse(body).model;
      res.end(
        JSON.stringify({
          id: 'chatcmpl-real', object: 'chat.completion', created: 1, model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'from the real server' }, logprobs: null, finish_reason: 'stop' }],
          usage: { prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 },
        }),
      );
    } else res.end(JSON.stringify({ hello: 'network' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  realBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('installFetchShim', () => {
  it('answers listed origins from the engine and passes every other request through untouched', async () => {
    const engine = new FakeEngine();
    const original = globalThis.fetch;
    const uninstall = installFetchShim(engine);
    try {
      expect(globalThis.fetch).not.toBe(original);
      // Nothing listens on :8000 — the engine answers.
      const openai = new OpenAI({ baseURL: 'http://localhost:8000/v1', apiKey: 'none', maxRetries: 0 });
      const completion = await openai.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hey' }], temperature: 0 });
      expect(completion.choices[0].message.content).toBe('You said: hey');
      const tags = await (await fetch('http://127.0.0.1:11434/api/tags')).json();
      expect(tags.models[0].name).toBe('fake-model:latest');
      // Another origin reaches the network, with its body and headers intact.
      const before = seenByReal.length;
      const response = await fetch(`${realBase}/v1/chat/other`, { method: 'POST', body: 'raw bytes', headers: { authorization: 'Bearer k' } });
      expect(await response.json()).toEqual({ hello: 'network' });
      expect(seenByReal.slice(before)).toEqual([{ method: 'POST', url: '/v1/chat/other', body: 'raw bytes', auth: 'Bearer k' }]);
    } finally {
      uninstall();
    }
    expect(globalThis.fetch).toBe(original);
  });

  it('answers only the origins it was given', async () => {
    const engine = new FakeEngine();
    const uninstall = installFetchShim(engine, { origins: ['http://my-llm.test'] });
    try {
      const models = await (await fetch('http://my-llm.test/v1/models')).json();
      expect(models.data[0].id).toBe('fake-model');
      // The same route on an origin not in the list is the network's to answer.
      expect(await (await fetch(`${realBase}/v1/models`)).json()).toEqual({ hello: 'network' });
    } finally {
      uninstall();
    }
  });

  it('a bad origin is a bad_config error at install, and fetch stays unpatched', () => {
    const original = globalThis.fetch;
    for (const origin of ['localhost:8000', 'ftp://h', 'http://h/v1', 'not a url']) {
      let error: FetchShimError | undefined;
      try {
        installFetchShim(new FakeEngine(), { origins: ['http://localhost:8000', origin] });
      } catch (err) {
        error = err as FetchShimError;
      }
      expect([origin, error?.code]).toEqual([origin, 'bad_config']);
      expect(globalThis.fetch).toBe(original);
    }
  });

  it('a request already aborted rejects with AbortError, as fetch does', async () => {
    const fetchFn = createOpenAIFetch(new FakeEngine());
    const err = await fetchFn('http://localhost:8000/v1/models', { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
  });

  it('answers routes under any base URL, prefix included', async () => {
    const fetchFn = createOpenAIFetch(new FakeEngine());
    const response = await fetchFn('https://example.test/some/prefix/v1/models');
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: { id: string }[] }).data[0].id).toBe('fake-model');
  });
});

describe('installFetchShim takes only API paths from its origins', () => {
  /** Installs the shim over a stub network fetch that records what reached it. */
  function withStubNetwork(): { network: string[]; uninstall: () => void } {
    const network: string[] = [];
    const real = globalThis.fetch;
    globalThis.fetch = (async (input: RequestInfo | URL) => {
      network.push(input instanceof Request ? input.url : String(input));
      return new Response('from the network', { status: 200 });
    }) as typeof fetch;
    const uninstallShim = installFetchShim(new FakeEngine());
    return {
      network,
      uninstall: () => {
        uninstallShim();
        globalThis.fetch = real;
      },
    };
  }

  it("a page's own files on :8000 reach the network; the API paths are the engine's", async () => {
    const { network, uninstall } = withStubNetwork();
    try {
      expect(await (await fetch('http://localhost:8000/data.json')).text()).toBe('from the network');
      expect(await (await fetch(new Request('http://localhost:8000/dist/index.js'))).text()).toBe('from the network');
      expect(await (await fetch(new URL('http://127.0.0.1:11434/healthz'))).text()).toBe('from the network');
      // No page in Node: `/` may be this process's own server, so it is not taken.
      expect(await (await fetch('http://localhost:8000/')).text()).toBe('from the network');
      expect(network).toEqual(['http://localhost:8000/data.json', 'http://localhost:8000/dist/index.js', 'http://127.0.0.1:11434/healthz', 'http://localhost:8000/']);

      const models = (await (await fetch('http://localhost:8000/v1/models')).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(['fake-model']);
      const tags = (await (await fetch('http://localhost:8000/api/tags')).json()) as { models: { name: string }[] };
      expect(tags.models.map((m) => m.name)).toEqual(['fake-model:latest']);
      const prefixed = (await (await fetch('http://localhost:8000/llm/v1/models')).json()) as { data: { id: string }[] };
      expect(prefixed.data.map((m) => m.id)).toEqual(['fake-model']);
      const health = await fetch('http://127.0.0.1:8000/health');
      expect([health.status, await health.text()]).toEqual([200, '']);
      // Under a namespace the API answers, its 404 included: nothing leaves for the network.
      const unknown = await fetch('http://localhost:11434/api/own');
      expect([unknown.status, unknown.headers.get('x-tabllm-error-code')]).toEqual([404, 'not_found']);
      expect(network).toHaveLength(4);
    } finally {
      uninstall();
    }
  });

  it("takes Ollama's `/` on an origin other than the page's, never the page's own", async () => {
    const { location } = globalThis as { location?: unknown };
    Object.defineProperty(globalThis, 'location', { value: new URL('http://localhost:8000/app/'), configurable: true });
    const { network, uninstall } = withStubNetwork();
    try {
      expect(await (await fetch('http://localhost:11434/')).text()).toBe('Ollama is running');
      expect(await (await fetch('/')).text()).toBe('from the network');
      expect(await (await fetch('/data.json')).text()).toBe('from the network');
      expect(((await (await fetch('/v1/models')).json()) as { data: unknown[] }).data).toHaveLength(1);
      expect(network).toEqual(['/', '/data.json']);
    } finally {
      uninstall();
      if (location === undefined) delete (globalThis as { location?: unknown }).location;
      else Object.defineProperty(globalThis, 'location', { value: location, configurable: true });
    }
  });
});

describe("fallback: 'passthrough'", () => {
  it('sends a request for a model that is not loaded to the real server at that URL', async () => {
    const engine = new FakeEngine();
    const openai = new OpenAI({ baseURL: `${realBase}/v1`, apiKey: 'secret', maxRetries: 0, fetch: createOpenAIFetch(engine, { fallback: 'passthrough' }) });
    const local = await openai.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'here' }], temperature: 0 });
    expect(local.choices[0].message.content).toBe('You said: here');
    const before = seenByReal.length;
    const remote = await openai.chat.completions.create({ model: 'meta-llama/Llama-3.1-70B', messages: [{ role: 'user', content: 'there' }] });
    expect(remote.choices[0].message.content).toBe('from the real server');
    expect(remote.model).toBe('meta-llama/Llama-3.1-70B');
    const forwarded = seenByReal.slice(before);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]).toMatchObject({ method: 'POST', url: '/v1/chat/completions', auth: 'Bearer secret' });
    expect(JSON.parse(forwarded[0].body)).toEqual({ model: 'meta-llama/Llama-3.1-70B', messages: [{ role: 'user', content: 'there' }] });
    expect(engine.received).toHaveLength(1);
  });

  it("without passthrough ('none'), the unknown model is a 404 and nothing leaves the page", async () => {
    const before = seenByReal.length;
    const fetchFn = createOpenAIFetch(new FakeEngine());
    const response = await fetchFn(`${realBase}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'other', messages: [{ role: 'user', content: 'x' }] }) });
    expect(response.status).toBe(404);
    expect(seenByReal.length).toBe(before);
  });
});
