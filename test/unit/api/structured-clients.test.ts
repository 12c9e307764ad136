// Real clients, unmodified, over the fetch shim and a running `tabllm serve` server, against
// the real LocalEngine with XGrammar (a Qwen2.5 template, so Hermes-style tool calls) on a
// scripted fake model: the openai client's `chat.completions.parse` with zodResponseFormat
// and a full tool round trip; the AI SDK's generateObject / streamObject and generateText
// with tools and toolChoice 'required'; LangChain's withStructuredOutput and bindTools; the
// ollama client with a `format` schema and with tools.
import { createOpenAI } from '@ai-sdk/openai';
import { tool as langchainTool } from '@langchain/core/tools';
import { ChatOpenAI } from '@langchain/openai';
import { generateObject, generateText, streamObject, tool } from 'ai';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TRANSPORTS, type OpenTransport } from '../../helpers/api-transports';
import { fixtureTemplate, scriptedEngine, type ScriptedEngine } from '../../helpers/scripted-engine';

const PERSON = z.object({ name: z.string(), age: z.number() });
const ADA = '{"name": "Ada", "age": 36}';
const WEATHER_ARGS = z.object({ city: z.string() });
const CALL = (name: string, args: string) => `<tool_call>\n{"name": "${name}", "arguments": ${args}}\n</tool_call>`;

describe.each(TRANSPORTS)('structured output and tools with real clients ($name)', (transport) => {
  let s: ScriptedEngine;
  let open: OpenTransport;
  beforeAll(async () => {
    s = await scriptedEngine(fixtureTemplate('Qwen-Qwen2.5-7B-Instruct.jinja'));
    open = await transport.open(s.engine);
  });
  afterAll(() => open.close());

  const openai = () => new OpenAI({ baseURL: open.baseURL, apiKey: 'none', fetch: open.fetch });
  const aiSdk = () => createOpenAI({ baseURL: open.baseURL, apiKey: 'none', fetch: open.fetch });
  const langchain = () => new ChatOpenAI({ model: 'stories260K', apiKey: 'none', temperature: 0, configuration: { baseURL: open.baseURL, fetch: open.fetch } });
  const lastConstraint = () => s.requests.at(-1)!.constraint;

  it('openai chat.completions.parse with zodResponseFormat', async () => {
    s.say(ADA);
    const r = await openai().chat.completions.parse({ model: 'stories260K', messages: [{ role: 'user', content: 'Who?' }], response_format: zodResponseFormat(PERSON, 'person') });
    expect(r.choices[0]!.message.parsed).toEqual({ name: 'Ada', age: 36 });
    expect(lastConstraint()).toMatchObject({ kind: 'json_schema', strict: true });
  });

  it('openai: a full tool round trip (call → tool message → answer)', async () => {
    const client = openai();
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];
    s.say(CALL('get_weather', '{"city": "Paris"}'));
    const first = await client.chat.completions.create({ model: 'stories260K', messages, tools });
    const call = first.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect([call.function.name, JSON.parse(call.function.arguments)]).toEqual(['get_weather', { city: 'Paris' }]);
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' });
    s.say('It is 21 degrees in Paris.');
    const second = await client.chat.completions.create({ model: 'stories260K', messages, tools });
    expect(second.choices[0]!.message.content).toBe('It is 21 degrees in Paris.');
    expect(second.choices[0]!.finish_reason).toBe('stop');

    // The same call streamed: the client's stream helper assembles the deltas.
    s.say(CALL('get_weather', '{"city": "Paris"}'));
    const stream = client.chat.completions.stream({ model: 'stories260K', messages: messages.slice(0, 1), tools });
    const final = await stream.finalChatCompletion();
    const streamed = final.choices[0]!.message.tool_calls![0]! as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect([streamed.function.name, JSON.parse(streamed.function.arguments)]).toEqual(['get_weather', { city: 'Paris' }]);
  });

  it('AI SDK generateObject and streamObject', async () => {
    const provider = aiSdk();
    s.say(ADA);
    const { object } = await generateObject({ model: provider.chat('stories260K'), schema: PERSON, prompt: 'Who?' });
    expect(object).toEqual({ name: 'Ada', age: 36 });
    s.say(ADA);
    const streamed = streamObject({ model: provider.chat('stories260K'), schema: PERSON, prompt: 'Who?' });
    const partials: unknown[] = [];
    for await (const partial of streamed.partialObjectStream) partials.push(partial);
    expect(partials.at(-1)).toEqual({ name: 'Ada', age: 36 });
    expect(partials.length).toBeGreaterThan(2);
    expect(await streamed.object).toEqual({ name: 'Ada', age: 36 });
  });

  it("AI SDK generateText with tools and toolChoice 'required'", async () => {
    s.say(CALL('get_weather', '{"city": "Oslo"}'));
    const seen: unknown[] = [];
    const result = await generateText({
      model: aiSdk().chat('stories260K'),
      prompt: 'Weather in Oslo?',
      toolChoice: 'required',
      tools: { get_weather: tool({ description: 'Weather in a city.', inputSchema: WEATHER_ARGS, execute: async (input) => (seen.push(input), { temperature: -3 }) }) },
    });
    expect(result.toolCalls.map((c) => [c.toolName, c.input])).toEqual([['get_weather', { city: 'Oslo' }]]);
    expect(seen).toEqual([{ city: 'Oslo' }]);
    expect(result.toolResults[0]!.output).toEqual({ temperature: -3 });
    expect(lastConstraint()).toMatchObject({ kind: 'structural_tag' });
    expect(JSON.parse((lastConstraint() as { tag: string }).tag).format).toMatchObject({ type: 'tags_with_separator', at_least_one: true });
  });

  it('LangChain withStructuredOutput and bindTools', async () => {
    s.say(ADA);
    const structured = await langchain().withStructuredOutput(PERSON, { name: 'person' }).invoke('Who?');
    expect(structured).toEqual({ name: 'Ada', age: 36 });
    const weather = langchainTool(async () => 'sunny', { name: 'get_weather', description: 'Weather in a city.', schema: WEATHER_ARGS });
    s.say(CALL('get_weather', '{"city": "Lima"}'));
    const message = await langchain().bindTools([weather]).invoke('Weather in Lima?');
    expect(message.tool_calls?.map((c) => [c.name, c.args])).toEqual([['get_weather', { city: 'Lima' }]]);
  });

  it('ollama client: format (a schema) and tools, answered and streamed', async () => {
    const ollama = new Ollama({ host: open.baseURL.replace(/\/v1$/, ''), fetch: open.fetch });
    s.say(ADA);
    const formatted = await ollama.chat({ model: 'stories260K', messages: [{ role: 'user', content: 'Who?' }], format: z.toJSONSchema(PERSON) });
    expect(JSON.parse(formatted.message.content)).toEqual({ name: 'Ada', age: 36 });
    expect(lastConstraint()).toMatchObject({ kind: 'json_schema' });

    // ollama-js's Tool type allows `function.type`; Ollama ignores fields it does not read.
    const tools = [{ type: 'function', function: { name: 'get_weather', type: 'function', description: 'Weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
    s.say(`${CALL('get_weather', '{"city": "Oslo"}')}\n${CALL('get_weather', '{"city": "Lima"}')}`);
    const called = await ollama.chat({ model: 'stories260K', messages: [{ role: 'user', content: 'Oslo and Lima?' }], tools });
    expect(called.message.tool_calls).toEqual([{ function: { name: 'get_weather', arguments: { city: 'Oslo' } } }, { function: { name: 'get_weather', arguments: { city: 'Lima' } } }]);
    expect(called.done_reason).toBe('stop');

    s.say(CALL('get_weather', '{"city": "Oslo"}'));
    const parts = await ollama.chat({ model: 'stories260K', messages: [{ role: 'user', content: 'Oslo?' }], tools, stream: true });
    const streamedCalls = [];
    for await (const part of parts) streamedCalls.push(...(part.message.tool_calls ?? []));
    expect(streamedCalls).toEqual([{ function: { name: 'get_weather', arguments: { city: 'Oslo' } } }]);

    // The result goes back as Ollama sends it: a tool message after the call, no ids.
    s.say('Cold in Oslo.');
    const answer = await ollama.chat({
      model: 'stories260K',
      messages: [{ role: 'user', content: 'Oslo?' }, { role: 'assistant', content: '', tool_calls: streamedCalls }, { role: 'tool', content: '{"temperature": -3}', tool_name: 'get_weather' }],
      tools,
    });
    expect(answer.message.content).toBe('Cold in Oslo.');
    const prompt = (await s.engine.detokenize({ tokens: Array.from(s.requests.at(-1)!.promptIds) })).prompt;
    expect(prompt).toContain('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{"temperature": -3}\n</tool_response>');
  });
});
