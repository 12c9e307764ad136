// Deeply nested and huge values (issue #13 item 6): a 20,000-deep array in a parameter is
// a 400 naming the param, never a 500 "Maximum call stack size exceeded"; error messages
// show a bad value by its type and a bounded preview; `1e400` (Infinity) is "not finite".
import { describe, expect, it } from 'vitest';
import { CHAT_TABLE, LENIENT } from '../../../src/api/ollama-params';
import { validateChatParams } from '../../../src/openai/params';
import { createRouter } from '../../../src/api/router';
import { MAX_JSON_DEPTH, nestsDeeperThan, preview, validateBody } from '../../../src/openai/validate';
import { EngineError } from '../../../src/engine/errors';
import { FakeEngine } from '../../helpers/fake-engine';

const DEPTH = 20_000;
const deepText = (n: number) => '['.repeat(n) + ']'.repeat(n);
const deepValue = (n: number): unknown => JSON.parse(deepText(n));

function thrown(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    return err as EngineError;
  }
  throw new Error('expected a throw');
}

async function post(path: string, body: string) {
  const router = createRouter(new FakeEngine());
  const response = await router(new Request(`http://localhost:8000${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }));
  return { status: response.status, code: response.headers.get('x-tabllm-error-code'), json: (await response.json()) as { error: unknown } };
}

describe('deeply nested values through the router', () => {
  const msgs = (role: string) => `[{"role":${role},"content":"hi"}]`;
  it.each([
    ['messages[].role', '/v1/chat/completions', `{"messages":${msgs(deepText(DEPTH))}}`],
    ['max_tokens', '/v1/chat/completions', `{"messages":${msgs('"user"')},"max_tokens":${deepText(DEPTH)}}`],
    ['an ignored field (metadata)', '/v1/chat/completions', `{"messages":${msgs('"user"')},"metadata":${deepText(DEPTH)}}`],
    ['Ollama options.num_predict', '/api/chat', `{"model":"fake-model","messages":${msgs('"user"')},"options":{"num_predict":${deepText(DEPTH)}}}`],
    ['an unknown Ollama field', '/api/generate', `{"model":"fake-model","prompt":"x","extra":${deepText(DEPTH)}}`],
  ])('%s: 400 invalid_request', async (_name, path, body) => {
    const r = await post(path, body);
    expect(r.status).toBe(400);
    expect(r.code).toBe('invalid_request');
    const message = typeof r.json.error === 'string' ? r.json.error : (r.json.error as { message: string }).message;
    expect(message).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it('a body at the depth bound still gets the validator\'s answer', async () => {
    // body object (1) + messages (2) + message (3) + role: 125 arrays = 128 levels.
    const r = await post('/v1/chat/completions', `{"messages":${msgs(deepText(MAX_JSON_DEPTH - 3))}}`);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'invalid_request', param: 'messages[0].role' });
  });

  it('temperature 1e400 (Infinity) says "must be a finite number"', async () => {
    const r = await post('/v1/chat/completions', `{"messages":${msgs('"user"')},"temperature":1e400}`);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'invalid_request', param: 'temperature' });
    expect((r.json.error as { message: string }).message).toBe("'temperature' must be a finite number, got Infinity.");
    const o = await post('/api/generate', '{"model":"fake-model","prompt":"x","options":{"num_predict":-1e400}}');
    expect(o.status).toBe(400);
    expect(o.json.error).toBe("'options.num_predict' must be a finite number, got -Infinity.");
  });
});

describe('validators on deep values, without the router (as the engine calls them)', () => {
  const user = (extra: Record<string, unknown>) => ({ messages: [{ role: 'user', content: 'x' }], ...extra });

  it.each([
    ['messages[0].role', () => validateChatParams({ messages: [{ role: deepValue(DEPTH), content: 'x' }] }), "'messages[0].role' must be one of 'system', 'developer', 'user', 'assistant', 'tool', got array [[[["],
    ['max_tokens', () => validateChatParams(user({ max_tokens: deepValue(DEPTH) })), "'max_tokens' must be a number, not array [[[["],
    ['options.num_predict', () => validateBody({ model: 'm', options: { num_predict: deepValue(DEPTH) } }, CHAT_TABLE, LENIENT), "'options.num_predict' must be a number, not array [[[["],
  ])('%s: a coded 400 with a bounded preview', (param, call, start) => {
    const err = thrown(call);
    expect(err).toBeInstanceOf(EngineError);
    expect(err.code).toBe('invalid_request');
    expect(err.param).toBe(param);
    expect(err.message.startsWith(start)).toBe(true);
    expect(err.message.length).toBeLessThan(200);
  });

  it('a 4 MiB string is previewed, not copied into the message', () => {
    const err = thrown(() => validateChatParams({ messages: [{ role: 'x'.repeat(4 << 20), content: 'x' }] }));
    expect(err.param).toBe('messages[0].role');
    expect(err.message.length).toBeLessThan(200);
  });
});

describe('preview and nestsDeeperThan', () => {
  it('preview prints JSON-like text cut at the bound', () => {
    expect(preview([1, 'a', null, { b: true }])).toBe('[1,"a",null,{"b":true}]');
    expect(preview(Infinity)).toBe('Infinity');
    expect(preview(deepValue(DEPTH), 10)).toBe('[[[[[[[[[[…');
    expect(preview('y'.repeat(100), 5)).toBe('"yyyy…');
    expect(preview(Array.from({ length: 1e5 }, () => 0), 8)).toBe('[0,0,0,0…');
    expect(preview({ [`k${'z'.repeat(50)}`]: 1 }, 6)).toBe('{"kzzz…');
  });

  it('nestsDeeperThan counts arrays and objects, iteratively', () => {
    expect(nestsDeeperThan(5, 0)).toBe(false);
    expect(nestsDeeperThan({}, 1)).toBe(false);
    expect(nestsDeeperThan({ a: [] }, 1)).toBe(true);
    expect(nestsDeeperThan(deepValue(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
    expect(nestsDeeperThan(deepValue(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
    expect(nestsDeeperThan(deepValue(DEPTH), MAX_JSON_DEPTH)).toBe(true);
  });
});
