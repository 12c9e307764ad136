// Byte-level framing: SSE for OpenAI routes, NDJSON for Ollama routes, and what happens
// when the engine fails mid-stream or the reader cancels.
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { ndjsonLine, sseEvent, SSE_DONE } from '../../../src/api/sse';
import { EngineError } from '../../../src/engine/errors';
import { FakeEngine } from '../../helpers/fake-engine';

const post = (path: string, body: unknown) =>
  new Request(`http://localhost:8000${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

describe('SSE framing', () => {
  it('frames one JSON per data line, blank-line separated, ending in [DONE]', async () => {
    expect(sseEvent({ a: 'x\ny' })).toBe('data: {"a":"x\\ny"}\n\n');
    expect(SSE_DONE).toBe('data: [DONE]\n\n');
    const router = createRouter(new FakeEngine());
    const response = await router(
      post('/v1/chat/completions', { model: 'fake-model', messages: [{ role: 'user', content: 'yo' }], temperature: 0, stream: true, stream_options: { include_usage: true } }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const text = await response.text();
    // The id and creation time are the engine's (random, now): read them off the first chunk.
    const { id, created } = JSON.parse(text.slice('data: '.length, text.indexOf('\n'))) as { id: string; created: number };
    expect(id).toMatch(/^chatcmpl-/);
    const head = { id, object: 'chat.completion.chunk', created, model: 'fake-model' };
    const choice = (delta: object, finish: string | null) => ({ ...head, usage: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
    const expected =
      [
        // The role first with empty content, as vLLM sends it.
        choice({ role: 'assistant', content: '' }, null),
        choice({ content: 'You' }, null),
        choice({ content: ' said:' }, null),
        choice({ content: ' yo' }, null),
        choice({}, 'stop'),
        // 3 words + EOS (the core counts the EOS it sampled, as vLLM does)
        { ...head, usage: { prompt_tokens: 4, completion_tokens: 4, total_tokens: 8, prompt_tokens_details: { cached_tokens: 0 } }, choices: [] },
      ]
        .map((c) => `data: ${JSON.stringify(c)}\n\n`)
        .join('') + 'data: [DONE]\n\n';
    expect(text).toBe(expected);
  });

  it('adds delta.role to the first chunk of each choice when the engine left it out', async () => {
    const engine = new FakeEngine();
    const original = engine.chat.completions.create;
    engine.chat.completions.create = (async (params: never, options: never) => {
      const chunks = (await original(params, options)) as unknown as AsyncIterable<{ choices: { delta: { role?: string } }[] }>;
      return (async function* () {
        for await (const chunk of chunks) {
          for (const c of chunk.choices) delete c.delta.role;
          yield chunk;
        }
      })();
    }) as never;
    const response = await createRouter(engine)(post('/v1/chat/completions', { messages: [{ role: 'user', content: 'a' }], stream: true, n: 2 }));
    const events = (await response.text()).split('\n\n').filter((e) => e.startsWith('data: {')).map((e) => JSON.parse(e.slice(6)));
    const firstOf = (i: number) => events.find((e) => e.choices[0].index === i);
    expect(firstOf(0).choices[0].delta.role).toBe('assistant');
    expect(firstOf(1).choices[0].delta.role).toBe('assistant');
    expect(events.filter((e) => e.choices[0].delta.role !== undefined)).toHaveLength(2);
  });

  it('an engine error mid-stream becomes an error event, then [DONE]', async () => {
    const engine = new FakeEngine();
    engine.failMidStream = new EngineError('device_lost', 'The GPU device was lost.');
    const response = await createRouter(engine)(post('/v1/completions', { prompt: 'a b c', stream: true, temperature: 0 }));
    const text = await response.text();
    const events = text.split('\n\n').filter((e) => e !== '');
    expect(events).toHaveLength(3);
    expect(JSON.parse(events[0].slice(6)).choices[0].text).toBe('You');
    expect(JSON.parse(events[1].slice(6))).toEqual({ error: { message: 'The GPU device was lost.', type: 'server_error', param: null, code: 'device_lost' } });
    expect(events[2]).toBe('data: [DONE]');
    expect(engine.inFlight).toBe(0);
  });

  it('cancelling the response stream aborts the engine request', async () => {
    const engine = new FakeEngine({ tokenDelayMs: 10 });
    const response = await createRouter(engine)(post('/v1/chat/completions', { messages: [{ role: 'user', content: 'a b c d e f g' }], stream: true }));
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first.startsWith('data: {')).toBe(true);
    expect(engine.inFlight).toBe(1);
    await reader.cancel();
    await engine.whenIdle();
    expect(engine.abortedCount).toBe(1);
  });

  it('cancelling before the first read still frees the engine request', async () => {
    const engine = new FakeEngine({ tokenDelayMs: 10 });
    const response = await createRouter(engine)(post('/v1/completions', { prompt: 'x', stream: true }));
    expect(engine.inFlight).toBe(1);
    await response.body!.cancel();
    await engine.whenIdle();
    expect(engine.abortedCount).toBe(1);
  });
});

describe('NDJSON framing', () => {
  it('frames one JSON object per line, newline-terminated, final object done', async () => {
    expect(ndjsonLine({ a: 'x\ny' })).toBe('{"a":"x\\ny"}\n');
    const router = createRouter(new FakeEngine());
    const response = await router(post('/api/generate', { model: 'fake-model', prompt: 'hi', options: { temperature: 0 } }));
    expect(response.headers.get('content-type')).toBe('application/x-ndjson');
    const text = await response.text();
    expect(text.endsWith('}\n')).toBe(true);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    const objects = lines.map((l) => JSON.parse(l));
    expect(objects.map((o) => o.response)).toEqual(['You', ' said:', ' hi', '']);
    expect(objects.map((o) => o.done)).toEqual([false, false, false, true]);
    for (const o of objects) expect(Object.keys(o).slice(0, 3)).toEqual(['model', 'created_at', 'response']);
    expect(Object.keys(objects[3])).toEqual([
      'model', 'created_at', 'response', 'done', 'done_reason', 'context', 'total_duration', 'load_duration',
      'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration',
    ]);
  });

  it('an engine error mid-stream becomes an { "error" } line', async () => {
    const engine = new FakeEngine();
    engine.failMidStream = new EngineError('device_lost', 'The GPU device was lost.');
    const response = await createRouter(engine)(post('/api/chat', { model: 'fake-model', messages: [{ role: 'user', content: 'a b' }] }));
    const lines = (await response.text()).split('\n').filter((l) => l !== '');
    expect(JSON.parse(lines[lines.length - 1])).toEqual({ error: 'The GPU device was lost.' });
  });

  it('an empty prompt is Ollama\'s load request: done_reason "load"', async () => {
    const response = await createRouter(new FakeEngine())(post('/api/generate', { model: 'fake-model' }));
    expect(await response.json()).toMatchObject({ model: 'fake-model', response: '', done: true, done_reason: 'load' });
  });
});
