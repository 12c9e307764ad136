// `tabllm serve`'s access policy over real HTTP (serveCommand over a FakeEngine): which
// origins and hosts are answered, what preflights get, the API key, TABLLM_ORIGINS, the
// bind warning, and the request timeout. Origin-carrying requests go through fetch (Node's
// fetch sends the header as given); a foreign Host through raw TCP (fetch sets its own).
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCliArgs, type CliEnv, type ServeArgs } from '../../../src/cli/args';
import { serveCommand, type EngineFactory } from '../../../src/cli/commands';
import type { RunningServer } from '../../../src/cli/http-server';
import type { LocalEngine } from '../../../src/openai/local-engine';
import { FakeEngine } from '../../helpers/fake-engine';
import { rawBody, rawGet } from '../../helpers/raw-http';

let running: RunningServer | undefined;
afterEach(async () => {
  await running?.close(0);
  running = undefined;
});

const quiet = { stdout: () => {}, stderr: () => {} };

function factoryOf(engine: FakeEngine): EngineFactory {
  return async () => Object.assign(engine, { destroy: async () => {} }) as unknown as LocalEngine;
}

/** `tabllm serve m.gguf --port 0 …flags` over `engine`; returns the base URL. */
async function serve(flags: string[] = [], env: CliEnv = {}, engine = new FakeEngine()): Promise<string> {
  const args = parseCliArgs(['serve', 'm.gguf', '--port', '0', ...flags], env) as ServeArgs;
  running = await serveCommand(args, factoryOf(engine), quiet);
  return running.url;
}

const EVIL = 'http://evil.test:8080';
const chat = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 });

describe('tabllm serve: origins', () => {
  it('answers requests without an Origin and same-machine origins (echoed, Vary: Origin); refuses others with a bare 403', async () => {
    const url = await serve();
    const plain = await fetch(`${url}/v1/models`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();

    const local = await fetch(`${url}/v1/models`, { headers: { origin: 'http://localhost:5173' } });
    expect(local.status).toBe(200);
    expect(local.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(local.headers.get('vary')).toBe('Origin');

    for (const origin of [EVIL, 'null', 'https://localhost.evil.test']) {
      const refused = await fetch(`${url}/v1/models`, { headers: { origin } });
      expect(refused.status, origin).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('origin_not_allowed');
    }
    const ollama = await fetch(`${url}/api/tags`, { headers: { origin: EVIL } });
    expect(ollama.status).toBe(403);
    expect(typeof ((await ollama.json()) as { error: unknown }).error).toBe('string');
  });

  it('preflights: allowed origins get methods, headers and (when asked) the private-network grant; refused ones nothing', async () => {
    const url = await serve();
    const preflight = (origin: string, privateNetwork: boolean) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, x-stainless-os',
          ...(privateNetwork ? { 'access-control-request-private-network': 'true' } : {}),
        },
      });
    const ok = await preflight('http://127.0.0.1:3000', true);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:3000');
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE, OPTIONS');
    expect(ok.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-stainless-os');
    expect(ok.headers.get('access-control-allow-private-network')).toBe('true');

    const noPna = await preflight('http://127.0.0.1:3000', false);
    expect(noPna.status).toBe(204);
    expect(noPna.headers.get('access-control-allow-private-network')).toBeNull();

    for (const pna of [true, false]) {
      const refused = await preflight(EVIL, pna);
      expect(refused.status).toBe(403);
      for (const h of ['access-control-allow-origin', 'access-control-allow-headers', 'access-control-allow-methods', 'access-control-allow-private-network']) {
        expect(refused.headers.get(h), h).toBeNull();
      }
    }
  });

  it('a foreign text/plain POST (a simple request: no preflight) is refused before it reaches the engine', async () => {
    const engine = new FakeEngine();
    const url = await serve([], {}, engine);
    const r = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { origin: EVIL, 'content-type': 'text/plain' }, body: chat });
    expect(r.status).toBe(403);
    expect(engine.received).toEqual([]);
    // The same body from this machine runs.
    const ok = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { origin: 'http://localhost:3000', 'content-type': 'text/plain' }, body: chat });
    expect(ok.status).toBe(200);
    expect(engine.received).toHaveLength(1);
  });

  it('--allow-origin adds exact origins (others stay refused); --allow-origin "*" allows all', async () => {
    let url = await serve(['--allow-origin', EVIL, '--allow-origin', 'https://*.example.com']);
    for (const origin of [EVIL, 'https://app.example.com']) {
      const r = await fetch(`${url}/v1/models`, { headers: { origin } });
      expect(r.status, origin).toBe(200);
      expect(r.headers.get('access-control-allow-origin')).toBe(origin);
    }
    expect((await fetch(`${url}/v1/models`, { headers: { origin: 'http://other.test' } })).status).toBe(403);
    await running!.close(0);

    url = await serve(['--allow-origin', '*']);
    const any = await fetch(`${url}/v1/models`, { headers: { origin: 'https://anything.test' } });
    expect(any.status).toBe(200);
    expect(any.headers.get('access-control-allow-origin')).toBe('https://anything.test');
  });

  it('TABLLM_ORIGINS (comma-separated) adds origins like --allow-origin', async () => {
    const url = await serve([], { TABLLM_ORIGINS: `https://a.test, ${EVIL}` });
    expect((await fetch(`${url}/v1/models`, { headers: { origin: EVIL } })).status).toBe(200);
    expect((await fetch(`${url}/v1/models`, { headers: { origin: 'https://a.test' } })).status).toBe(200);
    expect((await fetch(`${url}/v1/models`, { headers: { origin: 'https://b.test' } })).status).toBe(403);
  });
});

describe('tabllm serve: hosts (DNS rebinding)', () => {
  it("bound to loopback, a Host that is not this machine's gets 403 host_not_allowed; --allow-host adds a name", async () => {
    let url = await serve();
    let port = Number(new URL(url).port);
    for (const host of [`evil.test:${port}`, 'evil.test', `192.168.1.10:${port}`]) {
      const r = await rawGet(port, '/v1/models', { host });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(rawBody(r)).error.code).toBe('host_not_allowed');
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) {
      expect((await rawGet(port, '/v1/models', { host })).status, host).toBe(200);
    }
    await running!.close(0);

    url = await serve(['--allow-host', 'mybox.lan']);
    port = Number(new URL(url).port);
    expect((await rawGet(port, '/v1/models', { host: `MyBox.lan:${port}` })).status).toBe(200);
    expect((await rawGet(port, '/v1/models', { host: `evil.test:${port}` })).status).toBe(403);
  });

  it('warns on stderr when bound beyond loopback (and suggests --api-key); not on loopback', async () => {
    const lines: string[] = [];
    const io = { stdout: () => {}, stderr: (t: string) => void lines.push(t) };
    // The factory fails, so nothing ever listens on every interface.
    const failing: EngineFactory = async () => {
      throw new Error('no engine in this test');
    };
    await expect(serveCommand(parseCliArgs(['serve', 'm.gguf', '--host', '0.0.0.0']) as ServeArgs, failing, io)).rejects.toThrow();
    expect(lines.join('')).toMatch(/warning: --host 0\.0\.0\.0 is not a loopback address: every device on the network can reach this server and use the model; add --api-key/);
    lines.length = 0;
    await expect(serveCommand(parseCliArgs(['serve', 'm.gguf', '--host', '::', '--api-key', 'k']) as ServeArgs, failing, io)).rejects.toThrow();
    expect(lines.join('')).toMatch(/warning: --host :: is not a loopback address.*\(with the API key\)/);
    lines.length = 0;
    await expect(serveCommand(parseCliArgs(['serve', 'm.gguf']) as ServeArgs, failing, io)).rejects.toThrow();
    expect(lines.join('')).not.toMatch(/warning/);
  });
});

describe('tabllm serve: --api-key', () => {
  it('requires Authorization: Bearer KEY on the API routes (401 in the route shape), not on /health and /', async () => {
    const url = await serve(['--api-key', 'sk-test-1']);
    const none = await fetch(`${url}/v1/models`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key');
    const wrong = await fetch(`${url}/api/tags`, { headers: { authorization: 'Bearer sk-test-2' } });
    expect(wrong.status).toBe(401);
    expect(typeof ((await wrong.json()) as { error: unknown }).error).toBe('string');
    for (const path of ['/tokenize', '/detokenize', '/v1/chat/completions', '/api/chat']) {
      expect((await fetch(`${url}${path}`, { method: 'POST', body: '{}' })).status, path).toBe(401);
    }
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/`)).status).toBe(200);
    expect((await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer sk-test-1' } })).status).toBe(200);
    // The openai client sends it as apiKey; a 401 reaches a browser page with CORS headers.
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-test-1', maxRetries: 0 });
    expect((await openai.models.list()).data.map((m) => m.id)).toEqual(['fake-model']);
    await expect(new OpenAI({ baseURL: `${url}/v1`, apiKey: 'nope', maxRetries: 0 }).models.list()).rejects.toMatchObject({ status: 401 });
    const page = await fetch(`${url}/v1/models`, { headers: { origin: 'http://localhost:3000' } });
    expect(page.status).toBe(401);
    expect(page.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    // Preflights carry no credentials.
    expect((await fetch(`${url}/v1/models`, { method: 'OPTIONS', headers: { origin: 'http://localhost:3000' } })).status).toBe(204);
  });

  it('TABLLM_API_KEY sets the key when the flag is absent', async () => {
    const url = await serve([], { TABLLM_API_KEY: 'sk-env' });
    expect((await fetch(`${url}/v1/models`)).status).toBe(401);
    expect((await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer sk-env' } })).status).toBe(200);
  });
});

describe('tabllm serve: --request-timeout', () => {
  // Each fake token takes 200 ms, so a 16-token answer takes over 3 s: the 0.5 s deadline fires first.
  const slow = () => new FakeEngine({ tokenDelayMs: 200 });

  it('answers 504 request_timeout when nothing was sent yet, and the engine request is aborted', async () => {
    const engine = slow();
    const url = await serve(['--request-timeout', '0.5'], {}, engine);
    const r = await fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'a b c', max_tokens: 16, ignore_eos: true }) });
    expect(r.status).toBe(504);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('request_timeout');
    await engine.whenIdle();
    expect(engine.abortedCount).toBe(1);
  });

  it('ends a stream under way with an in-band error (SSE event + [DONE], NDJSON line) and aborts the engine request', async () => {
    const engine = slow();
    const url = await serve(['--request-timeout', '0.5'], {}, engine);
    const sse = await fetch(`${url}/v1/completions`, { method: 'POST', body: JSON.stringify({ prompt: 'a', max_tokens: 16, ignore_eos: true, stream: true }) });
    expect(sse.status).toBe(200);
    const events = (await sse.text()).split('\n\n').filter((e) => e !== '');
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(JSON.parse(events.at(-2)!.slice('data: '.length)).error.code).toBe('request_timeout');
    expect(events.length).toBeLessThan(16);

    const nd = await fetch(`${url}/api/generate`, { method: 'POST', body: JSON.stringify({ model: 'fake-model', prompt: 'a', raw: true, options: { num_predict: 16 } }) });
    expect(nd.status).toBe(200);
    const lines = (await nd.text()).trim().split('\n');
    expect(JSON.parse(lines.at(-1)!).error).toMatch(/request timeout/);
    await engine.whenIdle();
    expect(engine.abortedCount).toBe(2);
  });
});
