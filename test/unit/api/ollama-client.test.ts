// The official `ollama` client, unmodified, against createOpenAIFetch(FakeEngine).
import { Ollama } from 'ollama';
import { describe, expect, it } from 'vitest';
import { createOpenAIFetch } from '../../../src/shim/fetch';
import { FakeEngine } from '../../helpers/fake-engine';

function client(engine: FakeEngine) {
  return new Ollama({ host: 'http://127.0.0.1:11434', fetch: createOpenAIFetch(engine) });
}

describe('ollama client', () => {
  it('chat (stream: false) maps options and answers with done_reason and ns timings', async () => {
    const engine = new FakeEngine();
    const response = await client(engine).chat({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }],
      options: { temperature: 0, num_predict: 3, top_k: 40, repeat_penalty: 1.1, seed: 7, stop: ['zzz'], num_ctx: 2048 },
    });
    expect(response.model).toBe('fake-model');
    expect(response.message).toEqual({ role: 'assistant', content: 'You said: Why' });
    expect(response.done).toBe(true);
    expect(response.done_reason).toBe('length');
    expect(response.eval_count).toBe(3);
    // <s> <|user|> Why is the sky blue? <|assistant|> = 1 + 7
    expect(response.prompt_eval_count).toBe(8);
    expect(response.prompt_eval_duration).toBe(8e6);
    expect(response.eval_duration).toBe(6e6);
    expect(response.total_duration).toBe(14e6);
    expect(response.load_duration).toBe(0);
    expect(Date.parse(String(response.created_at))).not.toBeNaN();
    expect(engine.received[0].params).toMatchObject({ temperature: 0, max_tokens: 3, top_k: 40, repetition_penalty: 1.1, seed: 7, stop: ['zzz'] });
  });

  it('chat streams NDJSON objects and a final done object', async () => {
    const engine = new FakeEngine();
    const stream = await client(engine).chat({
      model: 'fake-model:latest',
      messages: [{ role: 'user', content: 'hi there' }],
      stream: true,
      options: { temperature: 0 },
    });
    const parts = [];
    for await (const part of stream) parts.push(part);
    expect(parts.map((p) => p.message.content).join('')).toBe('You said: hi there');
    expect(parts.slice(0, -1).every((p) => p.done === false)).toBe(true);
    const last = parts[parts.length - 1];
    expect(last).toMatchObject({ done: true, done_reason: 'stop', eval_count: 5, model: 'fake-model:latest' }); // the words + EOS (the core counts the EOS it sampled, as vLLM does)
  });

  it('generate with a chat template wraps the prompt as a user turn; raw does not', async () => {
    const engine = new FakeEngine();
    const templated = await client(engine).generate({ model: 'fake-model', prompt: 'tell me', system: 'be brief', options: { temperature: 0 } });
    expect(templated.response).toBe('You said: tell me');
    expect(engine.received[0]).toMatchObject({ kind: 'chat', params: { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'tell me' }] } });
    const raw = await client(engine).generate({ model: 'fake-model', prompt: 'Once upon a time', raw: true, options: { temperature: 0 } });
    expect(raw.response).toBe('You said: Once upon a time');
    expect(raw.done_reason).toBe('stop');
    // Ollama's default is until EOS: the context left, not OpenAI's 16 tokens.
    expect(engine.received[1]).toMatchObject({ kind: 'completion', params: { prompt: 'Once upon a time', max_tokens: 512 - 5 } });
  });

  it('generate streams', async () => {
    const engine = new FakeEngine({ hasChatTemplate: false });
    const stream = await client(engine).generate({ model: 'fake-model', prompt: 'a b', stream: true, options: { temperature: 0, num_predict: 2 } });
    const parts = [];
    for await (const part of stream) parts.push(part);
    expect(parts.map((p) => p.response)).toEqual(['You', ' said:', '']);
    expect(parts[2]).toMatchObject({ done: true, done_reason: 'length', eval_count: 2, prompt_eval_count: 3 });
  });

  it('aborting a streamed chat reaches the engine', async () => {
    const engine = new FakeEngine({ tokenDelayMs: 20 });
    const ollama = client(engine);
    const stream = await ollama.chat({ model: 'fake-model', messages: [{ role: 'user', content: 'a b c d e f g h i j' }], stream: true });
    let count = 0;
    const err = await (async () => {
      for await (const _part of stream) if (++count === 2) stream.abort();
    })().catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    await engine.whenIdle();
    expect(engine.abortedCount).toBe(1);
  });

  it('list, show, ps and version', async () => {
    const engine = new FakeEngine();
    const ollama = client(engine);
    const { models } = await ollama.list();
    expect(models).toHaveLength(1);
    expect(models[0]).toMatchObject({ name: 'fake-model:latest', size: 1_185_376, details: { format: 'gguf', family: 'llama', quantization_level: 'Q8_0', parameter_size: '260.00K' } });
    expect(models[0].digest).toMatch(/^[0-9a-f]{64}$/);
    const shown = await ollama.show({ model: 'fake-model' });
    expect(shown.template).toContain('<|assistant|>');
    expect(shown.model_info).toMatchObject({ 'general.architecture': 'llama', 'llama.context_length': 512 });
    const ps = await ollama.ps();
    expect(ps.models[0]).toMatchObject({ name: 'fake-model:latest', size_vram: 2_000_000 });
    expect((await ollama.version()).version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('an unknown model is a ResponseError 404 with Ollama\'s error text', async () => {
    const engine = new FakeEngine();
    const err = await client(engine)
      .chat({ model: 'llama3', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ResponseError', status_code: 404 });
    expect((err as Error).message).toContain("'llama3'");
  });

  it('embed reaches the engine, which answers that a chat model does not embed', async () => {
    const err = await client(new FakeEngine()).embed({ model: 'fake-model', input: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'ResponseError', status_code: 400 });
    expect((err as Error).message).toContain('not an embedding model');
  });
});
