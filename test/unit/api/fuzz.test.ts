// No input crashes the router: random bodies (random JSON, and objects built from the
// real parameter names with random values) always get an answer — 200 or a coded 4xx
// with the route's error shape — and leave no request in flight.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CHAT_PARAMS, COMPLETION_PARAMS } from '../../../src/openai/params';
import { CHAT_TABLE, GENERATE_TABLE } from '../../../src/api/ollama-params';
import { createRouter } from '../../../src/api/router';
import { FakeEngine } from '../../helpers/fake-engine';

const routes = [
  { path: '/v1/chat/completions', names: Object.keys(CHAT_PARAMS), flavor: 'openai', base: { messages: [{ role: 'user', content: 'hi' }] } },
  { path: '/v1/completions', names: Object.keys(COMPLETION_PARAMS), flavor: 'openai', base: { prompt: 'hi' } },
  { path: '/api/chat', names: Object.keys(CHAT_TABLE), flavor: 'ollama', base: { model: 'fake-model', messages: [{ role: 'user', content: 'hi' }] } },
  { path: '/api/generate', names: Object.keys(GENERATE_TABLE), flavor: 'ollama', base: { model: 'fake-model', prompt: 'hi' } },
  { path: '/tokenize', names: ['prompt', 'messages', 'add_special_tokens', 'model'], flavor: 'openai', base: { prompt: 'hi' } },
] as const;

const value = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constant('fake-model'),
  fc.integer({ min: -3, max: 40 }),
  fc.double({ min: -3, max: 3, noNaN: true }),
  fc.constant([{ role: 'user', content: 'hi' }]),
  fc.constant({ include_usage: true }),
);

async function drain(response: Response): Promise<string> {
  return response.text();
}

describe('router fuzz', () => {
  for (const route of routes) {
    it(`${route.path}: every body gets a coded answer`, async () => {
      const engine = new FakeEngine({ contextLength: 64 });
      const router = createRouter(engine);
      const statuses = new Set<number>();
      const body = fc.oneof(
        fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 40 }),
        fc.dictionary(fc.constantFrom(...route.names), value, { maxKeys: 6 }).map((o) => JSON.stringify(o)),
        // A good body with a couple of fields replaced.
        fc.dictionary(fc.constantFrom(...route.names), value, { maxKeys: 2 }).map((o) => JSON.stringify({ ...route.base, ...o })),
      );
      await fc.assert(
        fc.asyncProperty(body, async (text) => {
          const response = await router(new Request(`http://localhost:8000${route.path}`, { method: 'POST', body: text }));
          const out = await drain(response);
          expect([200, 400, 404]).toContain(response.status);
          statuses.add(response.status);
          if (response.status !== 200) {
            const json = JSON.parse(out);
            const code = response.headers.get('x-tabllm-error-code');
            expect(code).toMatch(/^[a-z_]+$/);
            if (route.flavor === 'ollama') expect(typeof json.error).toBe('string');
            else expect(json.error.code).toBe(code);
          }
        }),
        { numRuns: 150, seed: 42 },
      );
      // The generators reach both sides: some bodies are good, most are not.
      expect(statuses.has(200)).toBe(true);
      expect(statuses.has(400)).toBe(true);
      await engine.whenIdle();
      expect(engine.inFlight).toBe(0);
    });
  }
});
