// Bad structured-output and tool input, through the router to the real LocalEngine (a
// Qwen2.5 template, so tools are allowed, and XGrammar compiling what passes the checks):
// each case is a 400 naming the field at fault, and nothing reaches the engine's queue.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { CHATML } from '../../helpers/fake-local-engine';
import { fixtureTemplate, scriptedEngine, type ScriptedEngine } from '../../helpers/scripted-engine';

interface Case {
  name: string;
  path?: string;
  body: Record<string, unknown>;
  code?: string;
  param: string;
}

const FN = (name: string, parameters: unknown = { type: 'object', properties: { q: { type: 'string' } } }) => ({ type: 'function', function: { name, parameters } });
const call = (args: unknown, id: unknown = 'call_1') => ({ id, type: 'function', function: { name: 'f', arguments: args } });
const history = (assistant: Record<string, unknown>, tool: Record<string, unknown> = { role: 'tool', tool_call_id: 'call_1', content: '1' }) =>
  [{ role: 'user', content: 'hi' }, { role: 'assistant', content: null, ...assistant }, tool];
const nestedItems = (depth: number): unknown => (depth === 0 ? { type: 'string' } : { type: 'array', items: nestedItems(depth - 1) });
const schema = (s: unknown) => ({ response_format: { type: 'json_schema', json_schema: { name: 'x', schema: s } } });

const cases: Case[] = [
  { name: 'response_format of an unknown type', body: { response_format: { type: 'xml' } }, param: 'response_format.type' },
  { name: 'json_schema without a name', body: { response_format: { type: 'json_schema', json_schema: { schema: {} } } }, param: 'response_format.json_schema.name' },
  { name: 'json_schema name with a space', body: { response_format: { type: 'json_schema', json_schema: { name: 'my schema', schema: {} } } }, param: 'response_format.json_schema.name' },
  { name: 'schema with an unknown type', body: schema({ type: 'object', properties: { age: { type: 'int' } } }), param: 'response_format.json_schema.schema.properties.age.type' },
  { name: 'schema required not an array', body: schema({ type: 'object', required: 'a' }), param: 'response_format.json_schema.schema.required' },
  { name: 'schema minLength above maxLength', body: schema({ type: 'string', minLength: 5, maxLength: 2 }), param: 'response_format.json_schema.schema.minLength' },
  { name: 'schema number range with no number of at most 6 decimals', body: schema({ type: 'number', minimum: 0.1234561, maximum: 0.1234569 }), param: 'response_format' },
  { name: 'schema pattern that is no regex', body: schema({ type: 'string', pattern: '([a-z' }), param: 'response_format.json_schema.schema.pattern' },
  { name: 'schema an array', body: schema([1]), param: 'response_format.json_schema.schema' },
  { name: 'schema nested 70 subschemas deep', body: schema(nestedItems(70)), param: `response_format.json_schema.schema${'.items'.repeat(64)}` },
  { name: 'guided_choice empty', body: { guided_choice: [] }, param: 'guided_choice' },
  { name: 'guided_json not JSON', body: { guided_json: '{"type": ' }, param: 'guided_json' },
  { name: 'guided_regex XGrammar cannot compile', body: { guided_regex: '(' }, param: 'guided_regex' },
  { name: 'guided_grammar XGrammar cannot compile', body: { guided_grammar: 'root ::= (' }, param: 'guided_grammar' },
  { name: 'structured_outputs.grammar XGrammar cannot compile', body: { structured_outputs: { grammar: 'root = "a"' } }, param: 'structured_outputs.grammar' },
  { name: 'two surfaces at once', body: { response_format: { type: 'json_object' }, guided_regex: 'a+' }, param: 'guided_regex' },
  { name: 'two structured_outputs fields', body: { structured_outputs: { regex: 'a', choice: ['a'] } }, param: 'structured_outputs.choice' },
  { name: 'structured_outputs.whitespace_pattern', body: { structured_outputs: { json_object: true, whitespace_pattern: ' ' } }, code: 'unsupported_parameter', param: 'structured_outputs.whitespace_pattern' },
  { name: 'tool function name with a dot', body: { tools: [FN('get.weather')] }, param: 'tools[0].function.name' },
  { name: 'tool parameters of type array', body: { tools: [FN('f', { type: 'array' })] }, param: 'tools[0].function.parameters.type' },
  { name: 'tool parameters a string', body: { tools: [FN('f', '{"type":"object"}')] }, param: 'tools[0].function.parameters' },
  { name: 'tool parameters an invalid schema', body: { tools: [FN('f', { type: 'object', properties: { n: { type: 'integer', minimum: 'zero' } } })] }, param: 'tools[0].function.parameters.properties.n.minimum' },
  { name: 'two tools with one name', body: { tools: [FN('f'), FN('f')] }, param: 'tools[1].function.name' },
  { name: 'tool type not function', body: { tools: [{ type: 'code_interpreter' }] }, param: 'tools[0].type' },
  { name: 'tool_choice naming a missing function', body: { tools: [FN('f')], tool_choice: { type: 'function', function: { name: 'g' } } }, param: 'tool_choice.function.name' },
  { name: "tool_choice 'required' without tools", body: { tool_choice: 'required' }, param: 'tool_choice' },
  { name: 'tool_choice an unknown mode', body: { tools: [FN('f')], tool_choice: 'always' }, param: 'tool_choice' },
  { name: 'response_format with a forced tool call', body: { tools: [FN('f')], tool_choice: 'required', response_format: { type: 'json_object' } }, param: 'response_format' },
  { name: 'tool message without tool_call_id', body: { messages: history({ tool_calls: [call('{}')] }, { role: 'tool', content: '1' }) }, param: 'messages[2].tool_call_id' },
  { name: 'assistant tool_calls with non-JSON arguments', body: { messages: history({ tool_calls: [call('city=Paris')] }) }, param: 'messages[1].tool_calls[0].function.arguments' },
  { name: 'assistant tool_calls with array arguments', body: { messages: history({ tool_calls: [call('[1]')] }) }, param: 'messages[1].tool_calls[0].function.arguments' },
  { name: 'assistant tool_calls without an id', body: { messages: history({ tool_calls: [call('{}', null)] }) }, param: 'messages[1].tool_calls[0].id' },
  { name: 'assistant message with neither content nor tool_calls', body: { messages: [{ role: 'user', content: 'hi' }, { role: 'assistant' }, { role: 'user', content: 'x' }] }, param: 'messages[1].content' },
  { name: "legacy role 'function'", body: { messages: [{ role: 'function', name: 'f', content: '1' }] }, code: 'unsupported_parameter', param: 'messages[0].role' },
  { name: 'Ollama format: an invalid schema', path: '/api/chat', body: { format: { type: 'object', properties: { a: { type: 'text' } } } }, param: 'format.properties.a.type' },
  { name: 'Ollama tools: a bad name', path: '/api/chat', body: { tools: [FN('a b')] }, param: 'tools[0].function.name' },
  { name: 'Responses text.format json_schema without a schema', path: '/v1/responses', body: { text: { format: { type: 'json_schema', name: 'x' } } }, param: 'text.format.schema' },
];

describe('structured output and tools: bad input is a 400 naming the field', () => {
  let s: ScriptedEngine;
  let router: (r: Request) => Promise<Response>;
  beforeAll(async () => {
    s = await scriptedEngine(fixtureTemplate('Qwen-Qwen2.5-7B-Instruct.jinja'));
    s.say('Hi');
    router = createRouter(s.engine);
  });

  it('has at least 15 cases', () => expect(cases.length).toBeGreaterThanOrEqual(15));

  it.each(cases)('$name → 400 $param', async (c) => {
    const path = c.path ?? '/v1/chat/completions';
    const base = path === '/v1/responses' ? { input: 'hi' } : { messages: [{ role: 'user', content: 'hi' }] };
    const before = s.requests.length;
    const response = await router(new Request(`http://localhost:8000${path}`, { method: 'POST', body: JSON.stringify({ model: 'stories260K', ...base, ...c.body }) }));
    expect(response.status).toBe(400);
    const code = c.code ?? 'invalid_request';
    expect(response.headers.get('x-tabllm-error-code')).toBe(code);
    const json = (await response.json()) as { error: { param?: string; message: string; code?: string } | string };
    if (path.startsWith('/api/')) expect(json.error).toContain(`'${c.param}'`);
    else expect(json.error).toMatchObject({ code, param: c.param, type: 'invalid_request_error' });
    expect(s.requests.length, 'the engine got the request').toBe(before);
  });

  it('tools for a template that does not render them: 400 tools_not_supported_by_template (OpenAI and Ollama routes)', async () => {
    const { engine } = await scriptedEngine(CHATML);
    const r = createRouter(engine);
    const send = (path: string) => r(new Request(`http://localhost:8000${path}`, { method: 'POST', body: JSON.stringify({ model: 'stories260K', messages: [{ role: 'user', content: 'hi' }], tools: [FN('f')], stream: false }) }));
    const openai = await send('/v1/chat/completions');
    expect(openai.status).toBe(400);
    expect(await openai.json()).toMatchObject({ error: { code: 'tools_not_supported_by_template', param: 'tools' } });
    const ollama = await send('/api/chat');
    expect(ollama.status).toBe(400);
    expect(ollama.headers.get('x-tabllm-error-code')).toBe('tools_not_supported_by_template');
  });
});
