// Leniency policy: Ollama's routes ignore unknown fields (as Ollama's Go decoder does) and
// honour generation options sent at the top level, `options` winning; the OpenAI routes
// keep answering 400 `unknown_parameter`.
import { describe, expect, it } from 'vitest';
import { requestOptions } from '../../../src/api/ollama-params';
import { createRouter } from '../../../src/api/router';
import { FakeEngine } from '../../helpers/fake-engine';

async function post(engine: FakeEngine, path: string, body: unknown) {
  const response = await createRouter(engine)(new Request(`http://localhost:8000${path}`, { method: 'POST', body: JSON.stringify(body) }));
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

const messages = [{ role: 'user', content: 'hi there' }];

describe('Ollama routes: lenient', () => {
  it('top-level generation options reach the engine; options wins over them', async () => {
    const engine = new FakeEngine();
    const r = await post(engine, '/api/chat', {
      model: 'fake-model', messages, stream: false,
      temperature: 0.5, top_p: 0.8, top_k: 7, min_p: 0.1, seed: 3, stop: ['zz'], max_output_tokens: 2,
      repeat_penalty: 1.2, presence_penalty: 0.3, frequency_penalty: 0.4, repeat_last_n: 8,
      options: { temperature: 0, seed: 9 },
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ done_reason: 'length', eval_count: 2 });
    expect(engine.received[0]!.params).toMatchObject({
      temperature: 0, seed: 9, top_p: 0.8, top_k: 7, min_p: 0.1, stop: ['zz'], max_tokens: 2,
      repetition_penalty: 1.2, presence_penalty: 0.3, frequency_penalty: 0.4, repeat_last_n: 8,
    });
  });

  it('num_predict names: options.num_predict > num_predict > max_output_tokens > max_tokens', () => {
    const base = { model: 'm' };
    expect(requestOptions({ ...base, max_tokens: 4 }).num_predict).toBe(4);
    expect(requestOptions({ ...base, max_tokens: 4, max_output_tokens: 5 }).num_predict).toBe(5);
    expect(requestOptions({ ...base, max_tokens: 4, max_output_tokens: 5, num_predict: 6 }).num_predict).toBe(6);
    expect(requestOptions({ ...base, num_predict: 6, options: { num_predict: 7 } }).num_predict).toBe(7);
  });

  it('unknown fields are ignored at the top level, in options and in messages', async () => {
    const engine = new FakeEngine();
    const chat = await post(engine, '/api/chat', {
      model: 'fake-model', stream: false, messages: [{ role: 'user', content: 'hi there', whatever: 1 }],
      tool_choice: 'auto', frobnicate: { a: 1 }, options: { temperature: 0, logits_all: false, embedding_only: false },
    });
    expect(chat.status).toBe(200);
    expect(chat.json.message.content).toBe('You said: hi there');
    const generate = await post(engine, '/api/generate', { model: 'fake-model', prompt: 'x', stream: false, echo: false, user: 'u', temperature: 0 });
    expect(generate.status).toBe(200);
    expect(generate.json.response).toBe('You said: x');
    // A non-raw generate ends with Ollama's `context` (empty: tabllm keeps no token state).
    expect(generate.json.context).toEqual([]);
  });

  it('known fields are still checked: a bad top-level option is a 400 naming it', async () => {
    const r = await post(new FakeEngine(), '/api/chat', { model: 'fake-model', messages, temperature: 'warm' });
    expect(r.status).toBe(400);
    expect(r.json.error).toBe("'temperature' must be a number, not string \"warm\".");
    const unsupported = await post(new FakeEngine(), '/api/chat', { model: 'fake-model', messages, options: { mirostat: 2 } });
    expect(unsupported.status).toBe(400);
  });
});

describe('OpenAI routes: strict', () => {
  it('an unknown field is still 400 unknown_parameter', async () => {
    const r = await post(new FakeEngine(), '/v1/chat/completions', { messages, max_output_tokens: 5 });
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({ code: 'unknown_parameter', param: 'max_output_tokens', message: 'Unrecognized request argument supplied: max_output_tokens' });
  });
});
