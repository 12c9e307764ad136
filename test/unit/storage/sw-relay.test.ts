// The service-worker relay without a browser: relayRequest (the SW half) and serveRelayPort
// (the host half) over a Node MessageChannel, with the real router and FakeEngine.
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { checkRelayConfig, encodeRelayConfig, RelayError } from '../../../src/client/sw-config';
import { decodeRelayConfig, DEFAULT_RELAY_ORIGINS, shouldRelay, type RelayConfig } from '../../../src/client/sw-protocol';
import { hostEngineForServiceWorker, serveRelayPort } from '../../../src/client/sw-host';
import { registerTabllmServiceWorker } from '../../../src/client/sw-register';
import { relayRequest, type RelayOptions } from '../../../src/client/sw-relay';
import { FakeEngine } from '../../helpers/fake-engine';

const ports: MessagePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

/** A fetch that behaves like a page controlled by the SW: every request goes through the relay. */
function relayedFetch(engine: FakeEngine, extra: Partial<RelayOptions> = {}): typeof fetch {
  const channel = new MessageChannel();
  ports.push(channel.port1, channel.port2);
  serveRelayPort(channel.port2, createRouter(engine));
  return (input, init) => {
    const request = new Request(input as RequestInfo, init);
    return relayRequest(request, channel.port1, { signal: init?.signal ?? undefined, ...extra });
  };
}

describe('service worker relay (Node, MessageChannel)', () => {
  it('relays a completion: status, headers and body as the router answers them', async () => {
    const engine = new FakeEngine();
    const response = await relayedFetch(engine)('http://localhost:8000/v1/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', prompt: 'hello relay', max_tokens: 8, temperature: 0 }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const body = (await response.json()) as { choices: { text: string }[] };
    expect(body.choices[0].text).toBe('You said: hello relay');
  });

  it('streams through the openai client and relays router errors with their status', async () => {
    const engine = new FakeEngine();
    const client = new OpenAI({ baseURL: 'http://localhost:8000/v1', apiKey: 'none', fetch: relayedFetch(engine), maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'one two' }], stream: true, temperature: 0 });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('You said: one two');
    const err = await client.chat.completions.create({ model: 'nope', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('an abort on the requesting side reaches the engine', async () => {
    const engine = new FakeEngine({ tokenDelayMs: 20 });
    const client = new OpenAI({ baseURL: 'http://localhost:8000/v1', apiKey: 'none', fetch: relayedFetch(engine), maxRetries: 0 });
    const controller = new AbortController();
    const stream = await client.completions.create(
      { model: 'fake-model', prompt: 'a b c d e f g h i j', max_tokens: 12, stream: true, temperature: 0 },
      { signal: controller.signal },
    );
    let seen = 0;
    await (async () => {
      for await (const _chunk of stream) if (++seen === 2) controller.abort();
    })().catch(() => undefined);
    await engine.whenIdle();
    expect(seen).toBeLessThan(6);
    expect(engine.abortedCount).toBe(1);
  });

  it('a host that goes away answers 503 no_engine_host before the head', async () => {
    const channel = new MessageChannel(); // nobody serves port2
    ports.push(channel.port1, channel.port2);
    const response = await relayRequest(new Request('http://localhost:8000/v1/models'), channel.port1, { isHostAlive: async () => false, livenessMs: 10 });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('no_engine_host');
    const ollama = await relayRequest(new Request('http://localhost:11434/api/tags'), channel.port1, { isHostAlive: async () => false, livenessMs: 10 });
    expect(ollama.status).toBe(503);
    expect(typeof ((await ollama.json()) as { error: unknown }).error).toBe('string');
    // Ollama's liveness probe `/` and a prefixed /api path get Ollama's error shape too.
    for (const url of ['http://localhost:11434/', 'http://localhost:11434/ollama/api/tags']) {
      const response = await relayRequest(new Request(url), channel.port1, { isHostAlive: async () => false, livenessMs: 10 });
      expect([url, typeof ((await response.json()) as { error: unknown }).error]).toEqual([url, 'string']);
    }
  });

  it('OPTIONS preflights get a body-less 204', async () => {
    const response = await relayedFetch(new FakeEngine())('http://localhost:8000/v1/chat/completions', { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });
});

describe('relay config', () => {
  const own = 'http://127.0.0.1:5173';

  it('relays the API paths of configured origins and of opted-in own-origin prefixes only', () => {
    const config = decodeRelayConfig(encodeRelayConfig(new URL('http://x/sw.js'), checkRelayConfig({ origins: ['http://localhost:8000/'], sameOriginPrefixes: ['/v1/'] })));
    expect(config.origins).toEqual(['http://localhost:8000']);
    expect(shouldRelay(new URL('http://localhost:8000/v1/completions'), own, config)).toBe(true);
    expect(shouldRelay(new URL('http://localhost:8000/health'), own, config)).toBe(true);
    expect(shouldRelay(new URL('http://localhost:8001/v1/completions'), own, config)).toBe(false);
    expect(shouldRelay(new URL(`${own}/v1/models`), own, config)).toBe(true);
    expect(shouldRelay(new URL(`${own}/src/index.ts`), own, config)).toBe(false);
    // Not under the opted-in prefix: the app's own /api/ stays its server's.
    expect(shouldRelay(new URL(`${own}/api/own`), own, config)).toBe(false);
  });

  it("a configured origin's other paths go to the network; its `/` is Ollama's liveness probe", () => {
    const config = decodeRelayConfig(new URL('http://x/sw.js'));
    expect(shouldRelay(new URL('http://localhost:8000/data.json'), own, config)).toBe(false);
    expect(shouldRelay(new URL('http://localhost:8000/dist/index.js'), own, config)).toBe(false);
    expect(shouldRelay(new URL('http://localhost:8000/healthz'), own, config)).toBe(false);
    expect(shouldRelay(new URL('http://localhost:8000/llm/v1/models'), own, config)).toBe(true);
    expect(shouldRelay(new URL('http://localhost:11434/api/tags'), own, config)).toBe(true);
    expect(shouldRelay(new URL('http://localhost:11434/'), own, config)).toBe(true);
  });

  it('by default relays nothing of its own origin, even when that origin is a configured one', () => {
    const config = decodeRelayConfig(new URL('http://x/sw.js'));
    expect(config.sameOriginPrefixes).toEqual([]);
    for (const path of ['/api/own', '/v1/models', '/tokenize', '/', '/index.html']) {
      expect(shouldRelay(new URL(`${own}${path}`), own, config)).toBe(false);
      // A site served from :8000 keeps its own routes too.
      expect(shouldRelay(new URL(`http://localhost:8000${path}`), 'http://localhost:8000', config)).toBe(false);
    }
  });

  it('an opted-in prefix relays its API paths (base-URL rule included), never its other files or `/`', () => {
    const config = decodeRelayConfig(encodeRelayConfig(new URL('http://x/sw.js'), checkRelayConfig({ sameOriginPrefixes: ['/llm/', '/'] })));
    expect(shouldRelay(new URL(`${own}/llm/v1/models`), own, config)).toBe(true);
    expect(shouldRelay(new URL(`${own}/api/own`), own, config)).toBe(true);
    expect(shouldRelay(new URL(`${own}/llm/index.html`), own, config)).toBe(false);
    expect(shouldRelay(new URL(`${own}/`), own, config)).toBe(false);
  });

  it('round-trips through the script URL and rejects bad entries with bad_config', () => {
    const config = checkRelayConfig({ origins: ['http://localhost:9999'], sameOriginPrefixes: ['/llm/', '/api/'] });
    expect(decodeRelayConfig(encodeRelayConfig(new URL('http://x/sw.js'), config))).toEqual(config);
    // Lists left out stay out of the URL; the worker falls back to its defaults.
    const onlyPrefixes = encodeRelayConfig(new URL('http://x/sw.js'), checkRelayConfig({ sameOriginPrefixes: ['/llm/'] }));
    expect(onlyPrefixes.searchParams.has('origins')).toBe(false);
    expect(decodeRelayConfig(onlyPrefixes)).toEqual({ origins: DEFAULT_RELAY_ORIGINS, sameOriginPrefixes: ['/llm/'] });
    // The old option name relayed the app's /v1/ and /api/ by default: named in the error.
    const bads = [{ origins: ['localhost:8000'] }, { origins: ['ftp://h'] }, { origins: ['http://h/v1'] }, { sameOriginPrefixes: ['v1/'] }, { prefixes: ['/v1/'] }];
    for (const bad of bads) {
      let error: RelayError | undefined;
      try {
        checkRelayConfig(bad as Partial<RelayConfig>);
      } catch (err) {
        error = err as RelayError;
      }
      expect(error?.code).toBe('bad_config');
    }
  });
});

describe('where service workers are missing (Node has none)', () => {
  it('register and host fail with service_worker_unavailable', async () => {
    const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e: RelayError) => e.code);
    expect(await codeOf(registerTabllmServiceWorker({ scriptUrl: '/sw.js' }))).toBe('service_worker_unavailable');
    expect(await codeOf(hostEngineForServiceWorker(new FakeEngine()))).toBe('service_worker_unavailable');
  });
});
