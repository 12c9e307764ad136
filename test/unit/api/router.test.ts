// Router behaviour common to all routes: CORS and preflight, HEAD, base-URL prefixes,
// vLLM's tokenizer routes, Ollama's /v1 being the OpenAI router, and concurrency.
import { describe, expect, it } from 'vitest';
import { createRouter, routePath } from '../../../src/api/router';
import { FakeEngine } from '../../helpers/fake-engine';

const post = (url: string, body: unknown) => new Request(url, { method: 'POST', body: JSON.stringify(body) });

describe('router', () => {
  it('answers an OPTIONS preflight with CORS headers, echoing the requested headers', async () => {
    const router = createRouter(new FakeEngine());
    const response = await router(
      new Request('http://localhost:8000/v1/chat/completions', {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type, x-stainless-os',
          'access-control-request-private-network': 'true',
        },
      }),
    );
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE, OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-stainless-os');
    expect(response.headers.get('access-control-allow-private-network')).toBe('true');
  });

  it('puts CORS headers on answers and errors; corsOrigin: false leaves them off', async () => {
    const ok = await createRouter(new FakeEngine())(new Request('http://localhost:8000/v1/models'));
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    const err = await createRouter(new FakeEngine(), { corsOrigin: 'https://app.example' })(new Request('http://localhost:8000/nope'));
    expect(err.status).toBe(404);
    expect(err.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const off = await createRouter(new FakeEngine(), { corsOrigin: false })(new Request('http://localhost:8000/v1/models'));
    expect(off.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('routes under a base-URL prefix and ignores a trailing slash', () => {
    expect(routePath('/v1/chat/completions')).toBe('/v1/chat/completions');
    expect(routePath('/llm/proxy/v1/chat/completions/')).toBe('/v1/chat/completions');
    expect(routePath('/ollama/api/tags')).toBe('/api/tags');
    expect(routePath('/')).toBe('/');
    expect(routePath('/tokenize')).toBe('/tokenize');
  });

  it('serves /v1 for Ollama clients on :11434 exactly as for vLLM clients on :8000', async () => {
    const router = createRouter(new FakeEngine());
    const body = { model: 'fake-model:latest', messages: [{ role: 'user', content: 'x' }], temperature: 0 };
    const a = await (await router(post('http://localhost:8000/v1/chat/completions', body))).json();
    const b = await (await router(post('http://127.0.0.1:11434/v1/chat/completions', body))).json();
    expect(a.choices).toEqual(b.choices);
    expect(a.model).toBe('fake-model');
  });

  it('tokenizes and detokenizes (vLLM routes), round trip', async () => {
    const router = createRouter(new FakeEngine());
    const tokenized = await (await router(post('http://localhost:8000/tokenize', { prompt: 'Hello big world' }))).json();
    expect(tokenized).toEqual({ count: 4, max_model_len: 512, tokens: [1, 100, 101, 102] });
    const noSpecial = await (await router(post('http://localhost:8000/tokenize', { prompt: 'Hello', add_special_tokens: false }))).json();
    expect(noSpecial.tokens).toEqual([100]);
    const chat = await (await router(post('http://localhost:8000/tokenize', { messages: [{ role: 'user', content: 'Hello' }] }))).json();
    expect(chat.count).toBe(4);
    const text = await (await router(post('http://localhost:8000/detokenize', { tokens: [100, 101, 102] }))).json();
    expect(text).toEqual({ prompt: 'Hello big world' });
  });

  it('answers HEAD like GET without a body, and the Ollama liveness probe', async () => {
    const router = createRouter(new FakeEngine());
    const head = await router(new Request('http://localhost:11434/api/version', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const root = await router(new Request('http://localhost:11434/'));
    expect(await root.text()).toBe('Ollama is running');
  });

  it('serves concurrent streams independently', async () => {
    const engine = new FakeEngine({ tokenDelayMs: 2 });
    const router = createRouter(engine);
    const texts = await Promise.all(
      ['one', 'two', 'three', 'four'].map(async (word) => {
        const response = await router(post('http://localhost:8000/v1/completions', { prompt: word, stream: true, temperature: 0 }));
        const events = (await response.text()).split('\n\n').filter((e) => e.startsWith('data: {'));
        return events.map((e) => JSON.parse(e.slice(6)).choices[0].text).join('');
      }),
    );
    expect(texts).toEqual(['You said: one', 'You said: two', 'You said: three', 'You said: four']);
    expect(engine.inFlight).toBe(0);
  });

  it('reports cached prompt tokens in usage.prompt_tokens_details', async () => {
    const router = createRouter(new FakeEngine());
    const prompt = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    await router(post('http://localhost:8000/v1/completions', { prompt, max_tokens: 1 }));
    const second = await (await router(post('http://localhost:8000/v1/completions', { prompt, max_tokens: 1 }))).json();
    expect(second.usage.prompt_tokens_details).toEqual({ cached_tokens: 32 });
  });
});
