// Tool calling through the real router and LocalEngine on real chat templates, with a
// scripted model: the tools reach the prompt, tool_choice becomes the right constraint, the
// model's calls (in its template's format) come back as message.tool_calls and as streamed
// deltas, and a call's result goes back through the template.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { ChatTemplate } from '../../../src/model/template';
import type { ChatCompletion, ChatCompletionChunk } from '../../../src/openai/engine-api';
import { CHATML } from '../../helpers/fake-local-engine';
import { fixtureTemplate, scriptedEngine, type ScriptedEngine } from '../../helpers/scripted-engine';

const WEATHER = { type: 'function', function: { name: 'get_weather', description: 'Weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } };
const SEARCH = { type: 'function', function: { name: 'search_docs', parameters: { type: 'object', properties: { query: { type: 'string' } } } } };
const TOOLS = [WEATHER, SEARCH];
const ASK = [{ role: 'user', content: "What's the weather in Paris?" }];
const HERMES_CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>';

async function post(router: (r: Request) => Promise<Response>, path: string, body: unknown): Promise<Response> {
  return router(new Request(`http://localhost:8000${path}`, { method: 'POST', body: JSON.stringify(body) }));
}

async function sse(response: Response): Promise<ChatCompletionChunk[]> {
  const text = await response.text();
  return text.split('\n\n').filter((f) => f.startsWith('data: ') && f !== 'data: [DONE]').map((f) => JSON.parse(f.slice(6)) as ChatCompletionChunk);
}

describe('Hermes-style template (Qwen2.5)', () => {
  let s: ScriptedEngine;
  let router: (r: Request) => Promise<Response>;
  const chat = (extra: Record<string, unknown>) => post(router, '/v1/chat/completions', { model: 'stories260K', messages: ASK, tools: TOOLS, ...extra });
  beforeAll(async () => {
    s = await scriptedEngine(fixtureTemplate('Qwen-Qwen2.5-7B-Instruct.jinja'));
    router = createRouter(s.engine);
  });

  it('renders the tools into the prompt', async () => {
    s.say('Hi');
    await (await chat({})).json();
    const prompt = await s.engine.detokenize({ tokens: Array.from(s.requests.at(-1)!.promptIds) });
    expect(prompt.prompt).toContain('<tools>\n{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city."');
  });

  it('tool_choice → constraint: auto triggers on <tool_call>, required and named force calls, none has none', async () => {
    s.say('Hi');
    const tagOf = async (extra: Record<string, unknown>) => {
      await (await chat({ max_tokens: 1, ...extra })).json();
      const c = s.requests.at(-1)!.constraint;
      return c === undefined ? undefined : (JSON.parse((c as { tag: string }).tag) as { format: Record<string, unknown> & { tags: { begin: string; content: unknown }[] } }).format;
    };
    const auto = await tagOf({});
    expect(auto).toMatchObject({ type: 'triggered_tags', triggers: ['<tool_call>'], at_least_one: false, stop_after_first: false });
    expect(auto!.tags.map((t) => t.begin)).toEqual(['<tool_call>\n{"name": "get_weather", "arguments": ', '<tool_call>\n{"name": "search_docs", "arguments": ']);
    expect(auto!.tags[0]!.content).toEqual({ type: 'json_schema', json_schema: WEATHER.function.parameters });
    expect(await tagOf({ tool_choice: 'required', parallel_tool_calls: false })).toMatchObject({ type: 'tags_with_separator', at_least_one: true, stop_after_first: true });
    const named = await tagOf({ tool_choice: { type: 'function', function: { name: 'search_docs' } } });
    expect(named).toMatchObject({ at_least_one: true, stop_after_first: true });
    expect(named!.tags.map((t) => t.begin)).toEqual(['<tool_call>\n{"name": "search_docs", "arguments": ']);
    expect(await tagOf({ tool_choice: 'none' })).toBeUndefined();
  });

  it('a call becomes message.tool_calls (content null, finish_reason tool_calls)', async () => {
    s.say(HERMES_CALL);
    const r = (await (await chat({})).json()) as ChatCompletion;
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    expect(r.choices[0]!.message.content).toBeNull();
    expect(r.choices[0]!.message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_[A-Za-z0-9]{9}$/), type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }]);
  });

  it('text before the call stays content; parallel calls get their own ids; n = 2 parses each choice', async () => {
    s.say(`Let me check.${HERMES_CALL}\n<tool_call>\n{"name": "search_docs", "arguments": {"query": "rain"}}\n</tool_call>`);
    const r = (await (await chat({ n: 2, temperature: 1, seed: 3 })).json()) as ChatCompletion;
    for (const choice of r.choices) {
      expect(choice.message.content).toBe('Let me check.');
      expect(choice.message.tool_calls!.map((c) => [c.function.name, JSON.parse(c.function.arguments)])).toEqual([['get_weather', { city: 'Paris' }], ['search_docs', { query: 'rain' }]]);
      expect(new Set(choice.message.tool_calls!.map((c) => c.id)).size).toBe(2);
    }
  });

  it("tool_choice 'none': the tools are shown, nothing is parsed", async () => {
    s.say(HERMES_CALL);
    const r = (await (await chat({ tool_choice: 'none' })).json()) as ChatCompletion;
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.choices[0]!.message.tool_calls).toBeUndefined();
    expect(r.choices[0]!.message.content).toBe(HERMES_CALL);
  });

  it('a call cut by max_tokens keeps finish_reason length', async () => {
    s.say(HERMES_CALL);
    const r = (await (await chat({ max_tokens: 12 })).json()) as ChatCompletion;
    expect(r.choices[0]!.finish_reason).toBe('length');
  });

  it('streams OpenAI tool_calls deltas: index, id, type and name first, then argument pieces; then finish_reason tool_calls', async () => {
    s.say(HERMES_CALL);
    const chunks = await sse(await chat({ stream: true }));
    const deltas = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.tool_calls ?? []).flat());
    expect(deltas[0]).toEqual({ index: 0, id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'get_weather', arguments: '' } });
    expect(deltas.slice(1).every((d) => d.index === 0 && d.id === undefined && d.function.name === undefined)).toBe(true);
    expect(deltas.map((d) => d.function.arguments).join('')).toBe('{"city": "Paris"}');
    expect(deltas.length).toBeGreaterThan(2);
    const finishes = chunks.flatMap((c) => c.choices.map((ch) => ch.finish_reason)).filter((f) => f !== null);
    expect(finishes).toEqual(['tool_calls']);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
  });

  it('a call and its result go back through the template as the fixture renders them', async () => {
    s.say('Sunny.');
    const messages = [
      { role: 'user', content: "What's the weather in Paris?" },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc123def', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_abc123def', content: '{"temperature": 21}' },
    ];
    const r = (await (await post(router, '/v1/chat/completions', { model: 'stories260K', messages, tools: TOOLS })).json()) as ChatCompletion;
    expect(r.choices[0]!.message.content).toBe('Sunny.');
    const prompt = (await s.engine.detokenize({ tokens: Array.from(s.requests.at(-1)!.promptIds) })).prompt;
    expect(prompt).toContain('<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{"temperature": 21}\n</tool_response><|im_end|>');
  });
});

describe('templates and formats', () => {
  it('a template that does not render tools: 400 tools_not_supported_by_template naming tools', async () => {
    const { engine } = await scriptedEngine(CHATML);
    const response = await post(createRouter(engine), '/v1/chat/completions', { model: 'stories260K', messages: ASK, tools: TOOLS });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'tools_not_supported_by_template', param: 'tools', type: 'invalid_request_error' } });
  });

  it('Llama 3.1: a bare {"name", "parameters"} answer is a call', async () => {
    const s = await scriptedEngine(fixtureTemplate('meta-llama-Llama-3.1-8B-Instruct.jinja'));
    s.say('{"name": "get_weather", "parameters": {"city": "Paris"}}');
    const r = (await s.engine.chat.completions.create({ messages: ASK as never, tools: TOOLS as never, tool_choice: 'required' })) as ChatCompletion;
    expect(r.choices[0]!.message.tool_calls!.map((c) => c.function)).toEqual([{ name: 'get_weather', arguments: '{"city": "Paris"}' }]);
    expect(r.choices[0]!.finish_reason).toBe('tool_calls');
    expect(JSON.parse((s.requests[0]!.constraint as { tag: string }).tag).format.tags[0].begin).toBe('{"name": "get_weather", "parameters": ');
  });

  it('Mistral: [TOOL_CALLS][…] is parsed; history ids become the nine characters its template requires', async () => {
    const s = await scriptedEngine(fixtureTemplate('mistralai-Mistral-Nemo-Instruct-2407.jinja'));
    s.say('[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Oslo"}}, {"name": "search_docs", "arguments": {"query": "x"}}]');
    const r = (await s.engine.chat.completions.create({ messages: ASK as never, tools: TOOLS as never })) as ChatCompletion;
    expect(r.choices[0]!.message.tool_calls!.map((c) => c.function.name)).toEqual(['get_weather', 'search_docs']);
    const call = r.choices[0]!.message.tool_calls![0]!;
    s.say('Cold.');
    await s.engine.chat.completions.create({
      messages: [...ASK, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: '{"t": -3}' }] as never,
      tools: TOOLS as never,
    });
    const prompt = (await s.engine.detokenize({ tokens: Array.from(s.requests.at(-1)!.promptIds) })).prompt;
    // (stories260K's tokenizer reads a space after </s>: its SentencePiece dummy prefix.)
    expect(prompt).toContain(`[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Oslo"}, "id": "${call.id.slice(-9)}"}]</s>`);
    expect(prompt).toContain(`[TOOL_RESULTS]{"content": {"t": -3}, "call_id": "${call.id.slice(-9)}"}[/TOOL_RESULTS]`);
  });

  it("Ollama /api/show lists the 'tools' capability only for a template that writes calls", async () => {
    const show = async (template: string) => {
      const { engine } = await scriptedEngine(template);
      const r = await post(createRouter(engine), '/api/show', { model: 'stories260K' });
      return ((await r.json()) as { capabilities: string[] }).capabilities;
    };
    expect(await show(fixtureTemplate('Qwen-Qwen3-0.6B.jinja'))).toEqual(['completion', 'tools']);
    expect(await show(fixtureTemplate('google-gemma-2-2b-it.jinja'))).toEqual(['completion']);
  });

  it('vLLM /tokenize with tools counts the prompt the chat request would send', async () => {
    const s = await scriptedEngine(fixtureTemplate('Qwen-Qwen2.5-7B-Instruct.jinja'));
    const { tokens } = await s.engine.tokenize({ messages: ASK as never, tools: TOOLS as never });
    s.say('Hi');
    await s.engine.chat.completions.create({ messages: ASK as never, tools: TOOLS as never });
    expect(tokens).toEqual(Array.from(s.requests[0]!.promptIds));
    const template = new ChatTemplate(fixtureTemplate('Qwen-Qwen2.5-7B-Instruct.jinja'));
    expect(template.render({ messages: ASK as never, addGenerationPrompt: true, tools: TOOLS })).toContain('"name": "search_docs"');
  });
});
