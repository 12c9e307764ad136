// POST /v1/responses through the official `openai` client (`client.responses.*`),
// unmodified, against FakeEngine — through the fetch shim and through a running
// `tabllm serve`-style server: bodies, the event stream, usage, previous_response_id, the
// store (retrieve, delete, store: false, LRU bound), item_reference, errors and aborts.
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatCompletionCreateParams } from '../../../src/openai/engine-api';
import { EngineError } from '../../../src/engine/errors';
import type { RouterOptions } from '../../../src/api/router';
import { TRANSPORTS, type OpenTransport } from '../../helpers/api-transports';
import { FakeEngine } from '../../helpers/fake-engine';

const STREAM_EVENTS = [
  'response.created',
  'response.in_progress',
  'response.output_item.added',
  'response.content_part.added',
  'response.output_text.delta',
  'response.output_text.done',
  'response.content_part.done',
  'response.output_item.done',
];

describe.each(TRANSPORTS)('openai client → responses ($name)', (transport) => {
  let open: OpenTransport | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  async function client(engine: FakeEngine, options?: RouterOptions): Promise<OpenAI> {
    open = await transport.open(engine, options);
    return new OpenAI({ baseURL: open.baseURL, apiKey: 'none', fetch: open.fetch, maxRetries: 0 });
  }

  const lastChat = (engine: FakeEngine) => engine.received[engine.received.length - 1].params as ChatCompletionCreateParams;

  it('answers a non-streaming request with the response object, output_text and usage', async () => {
    const engine = new FakeEngine();
    const response = await (await client(engine)).responses.create({ model: 'fake-model', input: 'Hello there', instructions: 'Be brief.', temperature: 0 });
    expect(response.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(response.object).toBe('response');
    expect(response.status).toBe('completed');
    expect(response.incomplete_details).toBeNull();
    expect(response.model).toBe('fake-model');
    expect(response.instructions).toBe('Be brief.');
    expect(response.temperature).toBe(0);
    expect(response.output).toHaveLength(1);
    expect(response.output[0]).toMatchObject({ type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'You said: Hello there', annotations: [] }] });
    expect(response.output[0].id).toMatch(/^msg_/);
    expect(response.output_text).toBe('You said: Hello there');
    // <s> + "<|system|> Be brief. <|user|> Hello there <|assistant|>" = 1 + 7 words
    expect(response.usage).toEqual({ input_tokens: 8, input_tokens_details: { cached_tokens: 0 }, output_tokens: 5, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 13 }); // the words + EOS (the core counts the EOS it sampled, as vLLM does)
    // The chat pipeline got instructions as a system message and the sampling options.
    expect(lastChat(engine)).toMatchObject({
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }],
      temperature: 0,
    });
  });

  it('max_output_tokens cuts the answer: status incomplete, reason max_output_tokens', async () => {
    const engine = new FakeEngine();
    const response = await (await client(engine)).responses.create({ model: 'fake-model', input: 'alpha beta gamma', temperature: 0, max_output_tokens: 2 });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.max_output_tokens).toBe(2);
    expect(response.output_text).toBe('You said:');
    expect(response.output[0]).toMatchObject({ status: 'incomplete' });
    expect(response.usage).toMatchObject({ output_tokens: 2 });
    expect(lastChat(engine).max_completion_tokens).toBe(2);
  });

  it('streams the Responses events in order, numbered from 0, with usage on response.completed', async () => {
    const engine = new FakeEngine();
    const stream = await (await client(engine)).responses.create({ model: 'fake-model', input: 'Hi', temperature: 0, stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t !== 'response.output_text.delta')).toEqual([...STREAM_EVENTS.filter((t) => t !== 'response.output_text.delta'), 'response.completed']);
    expect(types.slice(4, 7)).toEqual(['response.output_text.delta', 'response.output_text.delta', 'response.output_text.delta']);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const deltas = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : []));
    expect(deltas.join('')).toBe('You said: Hi');
    const created = events[0];
    const done = events[events.length - 1];
    if (created.type !== 'response.created' || done.type !== 'response.completed') throw new Error('unexpected first/last event');
    expect(created.response).toMatchObject({ status: 'in_progress', output: [], usage: null });
    expect(done.response.id).toBe(created.response.id);
    expect(done.response.output[0]).toMatchObject({ status: 'completed', content: [{ type: 'output_text', text: 'You said: Hi' }] });
    // <s> + "<|user|> Hi <|assistant|>"
    expect(done.response.usage).toMatchObject({ input_tokens: 4, output_tokens: 4, total_tokens: 8 }); // the words + EOS (the core counts the EOS it sampled, as vLLM does)
    // Every event names the one message item.
    const itemIds = events.flatMap((e) => ('item_id' in e ? [e.item_id] : 'item' in e ? [e.item.id] : []));
    expect(new Set(itemIds)).toEqual(new Set([done.response.output[0].id]));
  });

  it('a stream cut by max_output_tokens ends with response.incomplete; the stream helper builds the final response', async () => {
    const engine = new FakeEngine();
    const openai = await client(engine);
    const stream = await openai.responses.create({ model: 'fake-model', input: 'one two three', temperature: 0, max_output_tokens: 1, stream: true });
    const events = [];
    for await (const event of stream) events.push(event);
    const last = events[events.length - 1];
    expect(last.type).toBe('response.incomplete');
    if (last.type !== 'response.incomplete') return;
    expect(last.response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(last.response.usage?.output_tokens).toBe(1);
    const final = await openai.responses.stream({ model: 'fake-model', input: 'four five', temperature: 0, max_output_tokens: 3 }).finalResponse();
    expect(final.output_text).toBe('You said: four');
    expect(final.status).toBe('incomplete');
  });

  it('previous_response_id: the second turn is prompted with the first turn, not its instructions', async () => {
    const engine = new FakeEngine();
    const openai = await client(engine);
    const first = await openai.responses.create({ model: 'fake-model', input: 'my name is Ada', instructions: 'Be kind.', temperature: 0 });
    const second = await openai.responses.create({ model: 'fake-model', input: 'what is my name', previous_response_id: first.id, temperature: 0 });
    expect(second.previous_response_id).toBe(first.id);
    const turns = [
      { role: 'user' as const, content: 'my name is Ada' },
      { role: 'assistant' as const, content: 'You said: my name is Ada' },
      { role: 'user' as const, content: 'what is my name' },
    ];
    expect(lastChat(engine).messages).toEqual(turns);
    expect(second.usage?.input_tokens).toBe((await engine.tokenize({ messages: turns })).count);
    expect(second.usage!.input_tokens).toBeGreaterThan(first.usage!.input_tokens);
    // A third turn chains through the second (which holds the first).
    const third = await openai.responses.create({ model: 'fake-model', input: 'bye', previous_response_id: second.id, instructions: 'Short.', temperature: 0 });
    expect(lastChat(engine).messages).toEqual([{ role: 'system', content: 'Short.' }, ...turns, { role: 'assistant', content: 'You said: what is my name' }, { role: 'user', content: 'bye' }]);
    expect(third.output_text).toBe('You said: bye');
  });

  it('a streamed answer is stored too and can be continued', async () => {
    const engine = new FakeEngine();
    const openai = await client(engine);
    const stream = await openai.responses.create({ model: 'fake-model', input: 'red', temperature: 0, stream: true });
    let id = '';
    for await (const event of stream) if (event.type === 'response.completed') id = event.response.id;
    const next = await openai.responses.create({ model: 'fake-model', input: 'blue', previous_response_id: id, temperature: 0 });
    expect(lastChat(engine).messages).toEqual([
      { role: 'user', content: 'red' },
      { role: 'assistant', content: 'You said: red' },
      { role: 'user', content: 'blue' },
    ]);
    expect(next.output_text).toBe('You said: blue');
  });

  it('retrieve returns the stored response; delete removes it; store: false is never kept', async () => {
    const engine = new FakeEngine();
    const openai = await client(engine);
    const created = await openai.responses.create({ model: 'fake-model', input: 'keep me', temperature: 0 });
    const { output_text: _sdkSide, ...wire } = created;
    const retrieved = await openai.responses.retrieve(created.id);
    expect(retrieved.output_text).toBe('You said: keep me');
    expect({ ...retrieved, output_text: undefined }).toEqual({ ...wire, output_text: undefined });
    await openai.responses.delete(created.id);
    const gone = await openai.responses.retrieve(created.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
    expect(gone).toMatchObject({ status: 404, code: 'response_not_found', param: 'response_id' });
    const deletedTwice = await openai.responses.delete(created.id).catch((e: unknown) => e);
    expect(deletedTwice).toMatchObject({ status: 404, code: 'response_not_found' });

    const unstored = await openai.responses.create({ model: 'fake-model', input: 'forget me', store: false, temperature: 0 });
    expect((unstored as unknown as { store: boolean }).store).toBe(false);
    expect(await openai.responses.retrieve(unstored.id).catch((e: unknown) => e)).toMatchObject({ status: 404, code: 'response_not_found' });
    const follow = await openai.responses.create({ model: 'fake-model', input: 'x', previous_response_id: unstored.id }).catch((e: unknown) => e);
    expect(follow).toMatchObject({ status: 404, code: 'response_not_found', param: 'previous_response_id' });
  });

  it('keeps at most maxStoredResponses, dropping the least recently used', async () => {
    const engine = new FakeEngine();
    const openai = await client(engine, { maxStoredResponses: 2 });
    const a = await openai.responses.create({ model: 'fake-model', input: 'a', temperature: 0 });
    const b = await openai.responses.create({ model: 'fake-model', input: 'b', temperature: 0 });
    await openai.responses.retrieve(a.id); // a is now more recent than b
    const c = await openai.responses.create({ model: 'fake-model', input: 'c', temperature: 0 });
    expect((await openai.responses.retrieve(a.id)).id).toBe(a.id);
    expect((await openai.responses.retrieve(c.id)).id).toBe(c.id);
    expect(await openai.responses.retrieve(b.id).catch((e: unknown) => e)).toMatchObject({ status: 404, code: 'response_not_found' });
  });

  it('takes message items with input_text/output_text parts and item_reference to a stored message', async () => {
    const engine = new FakeEngine();
    const openai = await client(engine);
    const first = await openai.responses.create({ model: 'fake-model', input: [{ role: 'user', content: [{ type: 'input_text', text: 'ping' }] }], temperature: 0 });
    const second = await openai.responses.create({
      model: 'fake-model',
      temperature: 0,
      input: [
        { type: 'message', role: 'developer', content: 'dev note' },
        { role: 'user', content: [{ type: 'input_text', text: 'ping' }] },
        { type: 'item_reference', id: first.output[0].id! },
        { type: 'message', id: 'msg_client', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'pong', annotations: [] }] },
        { role: 'user', content: [{ type: 'input_text', text: 'again' }, { type: 'input_text', text: ' please' }] },
      ],
    });
    expect(lastChat(engine).messages).toEqual([
      { role: 'developer', content: 'dev note' },
      { role: 'user', content: 'ping' },
      { role: 'assistant', content: 'You said: ping' },
      { role: 'assistant', content: 'pong' },
      { role: 'user', content: 'again please' },
    ]);
    expect(second.output_text).toBe('You said: again please');
    const missing = await openai.responses.create({ model: 'fake-model', input: [{ type: 'item_reference', id: 'msg_nope' }] }).catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 400, code: 'invalid_request', param: 'input[0].id' });
  });

  it('an engine error mid-stream reaches the client as an APIError with its code', async () => {
    const engine = new FakeEngine();
    const openai = await client(engine);
    engine.failMidStream = new EngineError('device_lost', 'The GPU device was lost.');
    const stream = await openai.responses.create({ model: 'fake-model', input: 'a b c', stream: true, temperature: 0 });
    const seen: string[] = [];
    const err = await (async () => {
      for await (const event of stream) seen.push(event.type);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err).toMatchObject({ code: 'device_lost' });
    expect(seen).toContain('response.output_text.delta');
    expect(seen).not.toContain('response.completed');
  });

  it('errors before the stream: 404 for an unknown model, 400 with param input when the context is exceeded', async () => {
    const engine = new FakeEngine({ contextLength: 16 });
    const openai = await client(engine);
    expect(await openai.responses.create({ model: 'gpt-4o', input: 'x' }).catch((e: unknown) => e)).toMatchObject({ status: 404, code: 'model_not_found' });
    const long = await openai.responses.create({ model: 'fake-model', input: 'w '.repeat(40), stream: true }).catch((e: unknown) => e);
    expect(long).toMatchObject({ status: 400, code: 'context_length_exceeded', param: 'input' });
  });

  it('breaking out of the stream loop aborts the engine request', async () => {
    const engine = new FakeEngine({ tokenDelayMs: 10 });
    const openai = await client(engine);
    const stream = await openai.responses.create({ model: 'fake-model', input: 'a b c d e f g h', stream: true, temperature: 0 });
    let deltas = 0;
    for await (const event of stream) if (event.type === 'response.output_text.delta' && ++deltas === 2) break;
    await engine.whenIdle();
    expect(engine.abortedCount).toBe(1);
  });
});
