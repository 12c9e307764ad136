// The official `openai` client, unmodified, against createOpenAIFetch(FakeEngine).
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createOpenAIFetch } from '../../../src/shim/fetch';
import { FakeEngine } from '../../helpers/fake-engine';

function client(engine: FakeEngine) {
  return new OpenAI({ baseURL: 'http://localhost:8000/v1', apiKey: 'none', fetch: createOpenAIFetch(engine), maxRetries: 0 });
}

describe('openai client → chat.completions', () => {
  it('answers a non-streaming chat with the OpenAI shape and usage', async () => {
    const engine = new FakeEngine();
    const completion = await client(engine).chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'Hello there' }],
      temperature: 0,
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe('fake-model');
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0].message).toEqual({ role: 'assistant', content: 'You said: Hello there', refusal: null });
    expect(completion.choices[0].finish_reason).toBe('stop');
    // <s> + "<|user|> Hello there <|assistant|>" = 1 + 4 words
    // 4 words + EOS (the real core counts the EOS it sampled, as vLLM does)
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 5, total_tokens: 10, prompt_tokens_details: { cached_tokens: 0 } });
    // The tabllm `timings` extension stays off the OpenAI wire.
    expect(completion).not.toHaveProperty('timings');
  });

  it('streams: role first, content deltas, finish_reason, then an include_usage chunk', async () => {
    const engine = new FakeEngine();
    const stream = await client(engine).chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'Hi' }],
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('You said: Hi');
    const last = chunks[chunks.length - 1];
    expect(last.choices).toEqual([]);
    // <s> + "<|user|> Hi <|assistant|>"
    expect(last.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
    expect(chunks[chunks.length - 2].choices[0].finish_reason).toBe('stop');
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('n = 2 with a seed gives two indexed, different choices', async () => {
    const engine = new FakeEngine();
    const completion = await client(engine).chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'one two three' }],
      n: 2,
      seed: 1,
      temperature: 0.8,
    });
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1]);
    expect(completion.choices[0].message.content).toBe('said: one two three You');
    expect(completion.choices[1].message.content).toBe('one two three You said:');
    expect(completion.usage?.completion_tokens).toBe(12); // 2 × (5 words + EOS)
  });

  it('honours stop strings and max_tokens (finish_reason length)', async () => {
    const engine = new FakeEngine();
    const stopped = await client(engine).chat.completions.create({
      messages: [{ role: 'user', content: 'alpha beta gamma' }],
      model: 'fake-model',
      temperature: 0,
      stop: [' gam'],
    });
    expect(stopped.choices[0].message.content).toBe('You said: alpha beta');
    expect(stopped.choices[0].finish_reason).toBe('stop');
    const cut = await client(engine).chat.completions.create({
      messages: [{ role: 'user', content: 'alpha beta gamma' }],
      model: 'fake-model',
      temperature: 0,
      max_tokens: 2,
    });
    expect(cut.choices[0].message.content).toBe('You said:');
    expect(cut.choices[0].finish_reason).toBe('length');
  });

  it('returns logprobs with top_logprobs', async () => {
    const engine = new FakeEngine();
    const completion = await client(engine).chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'x' }],
      temperature: 0,
      max_tokens: 3, // the reply's words, not the EOS after them
      logprobs: true,
      top_logprobs: 2,
    });
    const content = completion.choices[0].logprobs!.content!;
    expect(content.map((t) => t.token)).toEqual(['You', ' said:', ' x']);
    expect(content[0].logprob).toBeCloseTo(-0.1);
    expect(content[0].bytes).toEqual([89, 111, 117]);
    expect(content[1].top_logprobs.map((t) => t.token)).toEqual([' said:', ' alt1']);
  });

  it('aborting a stream mid-way aborts the engine request', async () => {
    const engine = new FakeEngine({ tokenDelayMs: 20 });
    const controller = new AbortController();
    const stream = await client(engine).chat.completions.create(
      { model: 'fake-model', messages: [{ role: 'user', content: 'a b c d e f g h i j k l' }], stream: true, max_tokens: 12, temperature: 0 },
      { signal: controller.signal },
    );
    const seen: string[] = [];
    for await (const chunk of stream) {
      seen.push(chunk.choices[0]?.delta.content ?? '');
      if (seen.length === 3) controller.abort();
    }
    expect(seen.length).toBeLessThan(6);
    await engine.whenIdle();
    expect(engine.inFlight).toBe(0);
    expect(engine.abortedCount).toBe(1);
  });

  it('aborting a non-streaming request rejects it and aborts the engine request', async () => {
    const engine = new FakeEngine({ tokenDelayMs: 20 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const err = await client(engine)
      .chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'a b c d e f g h' }] }, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIUserAbortError);
    await engine.whenIdle();
    expect(engine.abortedCount).toBe(1);
  });

  it('breaking out of the stream loop aborts the engine request', async () => {
    const engine = new FakeEngine({ tokenDelayMs: 10 });
    const stream = await client(engine).chat.completions.create({
      model: 'fake-model',
      messages: [{ role: 'user', content: 'a b c d e f g h' }],
      stream: true,
      temperature: 0,
    });
    let count = 0;
    for await (const _chunk of stream) if (++count === 2) break;
    await engine.whenIdle();
    expect(engine.abortedCount).toBe(1);
  });
});

describe('openai client → completions', () => {
  it('answers prompts (array × n), echo and logprobs', async () => {
    const engine = new FakeEngine();
    const completion = await client(engine).completions.create({
      model: 'fake-model',
      prompt: ['Once upon', 'a time'],
      n: 2,
      temperature: 0,
      echo: true,
      logprobs: 1,
      max_tokens: 4, // the reply's words, not the EOS after them
    });
    expect(completion.object).toBe('text_completion');
    expect(completion.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    expect(completion.choices[0].text).toBe('Once uponYou said: Once upon');
    expect(completion.choices[2].text).toBe('a timeYou said: a time');
    expect(completion.choices[0].logprobs!.tokens).toEqual(['You', ' said:', ' Once', ' upon']);
    expect(completion.choices[0].logprobs!.text_offset).toEqual([9, 12, 18, 23]);
    expect(completion.choices[0].logprobs!.top_logprobs![0]).toEqual({ You: -0.1 });
  });

  it('defaults to 16 tokens and streams text chunks with usage', async () => {
    const engine = new FakeEngine();
    const long = Array.from({ length: 30 }, (_, i) => `w${i}`).join(' ');
    const stream = await client(engine).completions.create({
      model: 'fake-model',
      prompt: long,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(`You said: ${Array.from({ length: 14 }, (_, i) => `w${i}`).join(' ')}`);
    expect(finish).toBe('length');
    expect(usage).toMatchObject({ completion_tokens: 16, prompt_tokens: 31 });
  });

  it('lists and retrieves models', async () => {
    const engine = new FakeEngine();
    const models = await client(engine).models.list();
    expect(models.data.map((m) => m.id)).toEqual(['fake-model']);
    const model = await client(engine).models.retrieve('fake-model');
    expect(model).toMatchObject({ id: 'fake-model', object: 'model', owned_by: 'tabllm' });
  });

  it('an unknown model is a NotFoundError with code model_not_found', async () => {
    const engine = new FakeEngine();
    const err = await client(engine)
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
    expect((err as InstanceType<typeof OpenAI.NotFoundError>).param).toBe('model');
  });
});
