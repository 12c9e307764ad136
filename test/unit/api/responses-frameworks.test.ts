// POST /v1/responses through the frameworks that use it by default: the AI SDK's
// `openai(model)` (`@ai-sdk/openai`, with `generateText`/`streamText` from `ai`) and
// LangChain's `ChatOpenAI({ useResponsesApi: true })` — each with temperature 0 and an
// output token limit that takes effect, through the fetch shim and a running server.
import { createOpenAI } from '@ai-sdk/openai';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { generateText, streamText } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatCompletionCreateParams } from '../../../src/openai/engine-api';
import { TRANSPORTS, type OpenTransport } from '../../helpers/api-transports';
import { FakeEngine } from '../../helpers/fake-engine';

describe.each(TRANSPORTS)('frameworks → /v1/responses ($name)', (transport) => {
  let open: OpenTransport | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  async function start(engine: FakeEngine): Promise<OpenTransport> {
    open = await transport.open(engine);
    return open;
  }

  const lastChat = (engine: FakeEngine) => engine.received[engine.received.length - 1].params as ChatCompletionCreateParams;
  /** Records each request's path and JSON body (the AI SDK must use /v1/responses, not chat). */
  function recordingFetch(fetch: OpenTransport['fetch'], sent: { path: string; body: unknown }[]): OpenTransport['fetch'] {
    return (input, init) => {
      const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
      sent.push({ path, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined });
      return fetch(input, init);
    };
  }

  it('AI SDK generateText: text, finish reason and usage, with temperature 0 and maxOutputTokens', async () => {
    const engine = new FakeEngine();
    const { baseURL, fetch } = await start(engine);
    const sent: { path: string; body: unknown }[] = [];
    const openai = createOpenAI({ baseURL, apiKey: 'none', fetch: recordingFetch(fetch, sent) });
    const full = await generateText({ model: openai('fake-model'), system: 'Be brief.', prompt: 'Hello there', temperature: 0 });
    expect(sent.map((r) => r.path)).toEqual(['/v1/responses']);
    expect(full.text).toBe('You said: Hello there');
    expect(full.finishReason).toBe('stop');
    // <s> + "<|system|> Be brief. <|user|> Hello there <|assistant|>" = 1 + 7
    expect(full.usage).toMatchObject({ inputTokens: 8, outputTokens: 5, totalTokens: 13 }); // the words + EOS (the core counts the EOS it sampled, as vLLM does)
    expect(lastChat(engine)).toMatchObject({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }], temperature: 0 });

    const cut = await generateText({ model: openai('fake-model'), prompt: 'alpha beta gamma', temperature: 0, maxOutputTokens: 2 });
    expect(cut.text).toBe('You said:');
    expect(cut.finishReason).toBe('length');
    expect(cut.usage.outputTokens).toBe(2);
    expect(lastChat(engine).max_completion_tokens).toBe(2);
  });

  it('AI SDK streamText: deltas, finish reason and usage', async () => {
    const engine = new FakeEngine();
    const { baseURL, fetch } = await start(engine);
    const openai = createOpenAI({ baseURL, apiKey: 'none', fetch });
    const result = streamText({ model: openai('fake-model'), prompt: 'one two three', temperature: 0, maxOutputTokens: 3 });
    const deltas: string[] = [];
    for await (const delta of result.textStream) deltas.push(delta);
    expect(deltas).toEqual(['You', ' said:', ' one']);
    expect(await result.finishReason).toBe('length');
    expect(await result.usage).toMatchObject({ inputTokens: 6, outputTokens: 3, totalTokens: 9 });
  });

  it('AI SDK multi-turn: the previous answer goes back as an item_reference to the stored message', async () => {
    const engine = new FakeEngine();
    const { baseURL, fetch } = await start(engine);
    const sent: { path: string; body: unknown }[] = [];
    const openai = createOpenAI({ baseURL, apiKey: 'none', fetch: recordingFetch(fetch, sent) });
    const first = await generateText({ model: openai('fake-model'), prompt: 'my name is Ada', temperature: 0 });
    const second = await generateText({
      model: openai('fake-model'),
      messages: [{ role: 'user', content: 'my name is Ada' }, ...first.response.messages, { role: 'user', content: 'and yours' }],
      temperature: 0,
    });
    expect(second.text).toBe('You said: and yours');
    const input = (sent[1].body as { input: unknown[] }).input;
    expect(input[1]).toEqual({ type: 'item_reference', id: (first.response.body as { output: { id: string }[] }).output[0].id });
    expect(lastChat(engine).messages).toEqual([
      { role: 'user', content: 'my name is Ada' },
      { role: 'assistant', content: 'You said: my name is Ada' },
      { role: 'user', content: 'and yours' },
    ]);
  });

  it('AI SDK previousResponseId: the second turn includes the first', async () => {
    const engine = new FakeEngine();
    const { baseURL, fetch } = await start(engine);
    const openai = createOpenAI({ baseURL, apiKey: 'none', fetch });
    const first = await generateText({ model: openai('fake-model'), prompt: 'red', temperature: 0 });
    const second = await generateText({
      model: openai('fake-model'),
      prompt: 'blue',
      temperature: 0,
      providerOptions: { openai: { previousResponseId: first.response.id } },
    });
    // <s> + "<|user|> red <|assistant|> You said: red <|user|> blue <|assistant|>" = 1 + 9
    expect(second.usage.inputTokens).toBe(10);
    expect(second.usage.inputTokens!).toBeGreaterThan(first.usage.inputTokens!);
  });

  function chatModel(t: OpenTransport, maxTokens?: number): ChatOpenAI {
    return new ChatOpenAI({
      model: 'fake-model',
      useResponsesApi: true,
      temperature: 0,
      maxTokens,
      apiKey: 'none',
      maxRetries: 0,
      configuration: { baseURL: t.baseURL, fetch: t.fetch },
    });
  }

  it('LangChain ChatOpenAI (useResponsesApi) invoke: text and usage_metadata, maxTokens cuts', async () => {
    const engine = new FakeEngine();
    const t = await start(engine);
    const reply = await chatModel(t).invoke([new SystemMessage('Be brief.'), new HumanMessage('Hello there')]);
    expect(reply.text).toBe('You said: Hello there');
    expect(reply.usage_metadata).toMatchObject({ input_tokens: 8, output_tokens: 5, total_tokens: 13 }); // the words + EOS (the core counts the EOS it sampled, as vLLM does)
    expect(reply.response_metadata).toMatchObject({ model_name: 'fake-model', status: 'completed' });
    expect(lastChat(engine)).toMatchObject({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }], temperature: 0 });

    const cut = await chatModel(t, 2).invoke('alpha beta gamma');
    expect(cut.text).toBe('You said:');
    expect(cut.usage_metadata).toMatchObject({ output_tokens: 2 });
    expect(cut.response_metadata).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
  });

  it('LangChain ChatOpenAI (useResponsesApi) stream: chunks join to the answer, usage at the end', async () => {
    const engine = new FakeEngine();
    const t = await start(engine);
    const stream = await chatModel(t, 3).stream('one two three');
    const texts: string[] = [];
    let usage: unknown;
    for await (const chunk of stream) {
      if (chunk.text !== '') texts.push(chunk.text);
      if (chunk.usage_metadata) usage = chunk.usage_metadata;
    }
    expect(texts).toEqual(['You', ' said:', ' one']);
    expect(usage).toMatchObject({ input_tokens: 6, output_tokens: 3, total_tokens: 9 });
  });
});
