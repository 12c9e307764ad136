// Every structured-output surface at the facade boundary: what OutputConstraint the
// EngineRequest carries for each field of each API (OpenAI, vLLM, Ollama, Responses,
// WebLLM), through the real router and LocalEngine.
import { beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import type { OutputConstraint } from '../../../src/engine/request';
import { translateChatRequest } from '../../../src/compat/webllm/request';
import { CHATML } from '../../helpers/fake-local-engine';
import { scriptedEngine, type ScriptedEngine } from '../../helpers/scripted-engine';

const SCHEMA = { type: 'object', properties: { name: { type: 'string' }, age: { type: 'integer', minimum: 0 } }, required: ['name'], additionalProperties: false };
const TEXT = JSON.stringify(SCHEMA);
const user = [{ role: 'user', content: 'hi' }];

let s: ScriptedEngine;
let router: (r: Request) => Promise<Response>;
beforeAll(async () => {
  s = await scriptedEngine(CHATML);
  s.say('{}');
  router = createRouter(s.engine);
});

async function constraintOf(path: string, body: Record<string, unknown>): Promise<OutputConstraint | undefined> {
  const before = s.requests.length;
  const response = await router(new Request(`http://localhost:8000${path}`, { method: 'POST', body: JSON.stringify({ model: 'stories260K', ...body }) }));
  expect(response.status, await response.clone().text()).toBe(200);
  await response.text();
  expect(s.requests.length).toBe(before + 1);
  return s.requests[before]!.constraint;
}

const chat = (extra: Record<string, unknown>) => constraintOf('/v1/chat/completions', { messages: user, max_tokens: 2, ...extra });

describe('OpenAI response_format', () => {
  it('text → none; json_object → json_object; json_schema → its schema (and strict)', async () => {
    expect(await chat({ response_format: { type: 'text' } })).toBeUndefined();
    expect(await chat({})).toBeUndefined();
    expect(await chat({ response_format: { type: 'json_object' } })).toEqual({ kind: 'json_object' });
    expect(await chat({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema: SCHEMA, strict: true } } })).toEqual({ kind: 'json_schema', schema: TEXT, strict: true });
    expect(await chat({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema: SCHEMA } }, stream: true })).toEqual({ kind: 'json_schema', schema: TEXT });
  });
});

describe("vLLM's structured_outputs and guided_*", () => {
  it('structured_outputs: json (object or text), regex, choice, grammar, json_object, structural_tag', async () => {
    expect(await chat({ structured_outputs: { json: SCHEMA } })).toEqual({ kind: 'json_schema', schema: TEXT });
    expect(await chat({ structured_outputs: { json: TEXT } })).toEqual({ kind: 'json_schema', schema: TEXT });
    expect(await chat({ structured_outputs: { regex: '[a-z]+' } })).toEqual({ kind: 'regex', pattern: '[a-z]+' });
    expect(await chat({ structured_outputs: { choice: ['yes', 'no'] } })).toEqual({ kind: 'choice', choices: ['yes', 'no'] });
    expect(await chat({ structured_outputs: { grammar: 'root ::= "a"' } })).toEqual({ kind: 'grammar', ebnf: 'root ::= "a"' });
    expect(await chat({ structured_outputs: { json_object: true } })).toEqual({ kind: 'json_object' });
    expect(await chat({ structured_outputs: { structural_tag: '{"format":{"type":"any_text"}}' } })).toEqual({ kind: 'structural_tag', tag: '{"format":{"type":"any_text"}}' });
  });

  it('guided_json / guided_regex / guided_choice / guided_grammar', async () => {
    expect(await chat({ guided_json: SCHEMA })).toEqual({ kind: 'json_schema', schema: TEXT });
    expect(await chat({ guided_json: TEXT })).toEqual({ kind: 'json_schema', schema: TEXT });
    expect(await chat({ guided_regex: '\\d+' })).toEqual({ kind: 'regex', pattern: '\\d+' });
    expect(await chat({ guided_choice: ['a', 'b'] })).toEqual({ kind: 'choice', choices: ['a', 'b'] });
    expect(await chat({ guided_grammar: 'root ::= "x"' })).toEqual({ kind: 'grammar', ebnf: 'root ::= "x"' });
  });

  it('completions take the same surfaces', async () => {
    const completion = (extra: Record<string, unknown>) => constraintOf('/v1/completions', { prompt: 'Once', max_tokens: 2, ...extra });
    expect(await completion({ guided_regex: '[0-9]' })).toEqual({ kind: 'regex', pattern: '[0-9]' });
    expect(await completion({ structured_outputs: { choice: ['x'] } })).toEqual({ kind: 'choice', choices: ['x'] });
    expect(await completion({ response_format: { type: 'json_object' } })).toEqual({ kind: 'json_object' });
  });
});

describe('Ollama format', () => {
  it("'json' → json_object, a schema → json_schema, '' → none; on /api/chat and /api/generate", async () => {
    const ollamaChat = (format: unknown) => constraintOf('/api/chat', { messages: user, format, stream: false, options: { num_predict: 2 } });
    expect(await ollamaChat('json')).toEqual({ kind: 'json_object' });
    expect(await ollamaChat(SCHEMA)).toEqual({ kind: 'json_schema', schema: TEXT });
    expect(await ollamaChat('')).toBeUndefined();
    const generate = (format: unknown, raw: boolean) => constraintOf('/api/generate', { prompt: 'Once', format, raw, stream: false, options: { num_predict: 2 } });
    expect(await generate('json', false)).toEqual({ kind: 'json_object' });
    expect(await generate(SCHEMA, true)).toEqual({ kind: 'json_schema', schema: TEXT });
  });
});

describe('Responses text.format', () => {
  it('json_schema (flat: name, schema, strict) and json_object; text → none', async () => {
    const resp = (format: unknown) => constraintOf('/v1/responses', { input: 'hi', text: { format }, max_output_tokens: 2, store: false });
    expect(await resp({ type: 'json_schema', name: 'person', schema: SCHEMA, strict: true })).toEqual({ kind: 'json_schema', schema: TEXT, strict: true });
    expect(await resp({ type: 'json_object' })).toEqual({ kind: 'json_object' });
    expect(await resp({ type: 'text' })).toBeUndefined();
  });
});

describe("tabllm/webllm's response_format (WebLLM's semantics)", () => {
  it('json_object alone is any JSON; with a schema string, that schema; grammar is EBNF', async () => {
    const webllm = async (format: Record<string, unknown>) => {
      const before = s.requests.length;
      const { params } = translateChatRequest({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, response_format: format }, 'stories260K', {});
      const stream = await s.engine.chat.completions.create(params);
      for await (const _ of stream) { /* drain */ }
      return s.requests[before]!.constraint;
    };
    expect(await webllm({ type: 'json_object' })).toEqual({ kind: 'json_object' });
    expect(await webllm({ type: 'json_object', schema: TEXT })).toEqual({ kind: 'json_schema', schema: TEXT });
    expect(await webllm({ type: 'grammar', grammar: 'root ::= "a"' })).toEqual({ kind: 'grammar', ebnf: 'root ::= "a"' });
  });
});
