// Table-driven bad input across routes: each case asserts the HTTP status, the error type
// (OpenAI `type` + `code`, or Ollama's `{ error }` with the code header) and the `param`.
// After all of them, a good request on the same router still succeeds.
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { EngineError } from '../../../src/engine/errors';
import { FakeEngine } from '../../helpers/fake-engine';

interface Case {
  name: string;
  method?: string;
  path: string;
  /** A string is sent as-is (malformed JSON); anything else is JSON-encoded. */
  body?: unknown;
  before?: (engine: FakeEngine) => void;
  status: number;
  type: 'invalid_request_error' | 'rate_limit_error' | 'server_error' | 'ollama';
  code: string;
  param: string | null;
}

const chat = (extra: Record<string, unknown>) => ({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], ...extra });
const completion = (extra: Record<string, unknown>) => ({ model: 'fake-model', prompt: 'hi', ...extra });
const resp = (extra: Record<string, unknown>) => ({ model: 'fake-model', input: 'hi', ...extra });
const ollamaChat = (extra: Record<string, unknown>) => ({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], ...extra });

const C = '/v1/chat/completions';
const P = '/v1/completions';
const R = '/v1/responses';
const BAD = 'invalid_request_error';

const cases: Case[] = [
  // --- chat completions
  { name: 'malformed JSON', path: C, body: '{"model": ', status: 400, type: BAD, code: 'invalid_json', param: null },
  { name: 'empty body', path: C, body: '', status: 400, type: BAD, code: 'invalid_json', param: null },
  { name: 'body is an array', path: C, body: [1, 2], status: 400, type: BAD, code: 'invalid_request', param: null },
  { name: 'messages missing', path: C, body: { model: 'fake-model' }, status: 400, type: BAD, code: 'invalid_request', param: 'messages' },
  { name: 'messages not an array', path: C, body: chat({ messages: 'hi' }), status: 400, type: BAD, code: 'invalid_request', param: 'messages' },
  { name: 'messages empty', path: C, body: chat({ messages: [] }), status: 400, type: BAD, code: 'invalid_request', param: 'messages' },
  { name: 'unknown role', path: C, body: chat({ messages: [{ role: 'wizard', content: 'x' }] }), status: 400, type: BAD, code: 'invalid_request', param: 'messages[0].role' },
  { name: 'content is a number', path: C, body: chat({ messages: [{ role: 'user', content: 5 }] }), status: 400, type: BAD, code: 'invalid_request', param: 'messages[0].content' },
  { name: 'content part without text', path: C, body: chat({ messages: [{ role: 'user', content: [{ type: 'text' }] }] }), status: 400, type: BAD, code: 'invalid_request', param: 'messages[0].content[0].text' },
  { name: 'image content part', path: C, body: chat({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'messages[0].content[0].type' },
  { name: 'tool message without tool_call_id', path: C, body: chat({ messages: [{ role: 'tool', content: 'x' }] }), status: 400, type: BAD, code: 'invalid_request', param: 'messages[0].tool_call_id' },
  { name: 'temperature is a string', path: C, body: chat({ temperature: 'hot' }), status: 400, type: BAD, code: 'invalid_request', param: 'temperature' },
  { name: 'temperature out of range', path: C, body: chat({ temperature: 3 }), status: 400, type: BAD, code: 'invalid_request', param: 'temperature' },
  { name: 'top_p = 0', path: C, body: chat({ top_p: 0 }), status: 400, type: BAD, code: 'invalid_request', param: 'top_p' },
  { name: 'n = 0', path: C, body: chat({ n: 0 }), status: 400, type: BAD, code: 'invalid_request', param: 'n' },
  { name: 'n fractional', path: C, body: chat({ n: 1.5 }), status: 400, type: BAD, code: 'invalid_request', param: 'n' },
  { name: 'max_tokens negative', path: C, body: chat({ max_tokens: -1 }), status: 400, type: BAD, code: 'invalid_request', param: 'max_tokens' },
  { name: 'seed fractional', path: C, body: chat({ seed: 1.5 }), status: 400, type: BAD, code: 'invalid_request', param: 'seed' },
  { name: 'presence_penalty out of range', path: C, body: chat({ presence_penalty: 5 }), status: 400, type: BAD, code: 'invalid_request', param: 'presence_penalty' },
  { name: 'stop holds a number', path: C, body: chat({ stop: ['a', 1] }), status: 400, type: BAD, code: 'invalid_request', param: 'stop[1]' },
  { name: 'logit_bias key not a token id', path: C, body: chat({ logit_bias: { abc: 1 } }), status: 400, type: BAD, code: 'invalid_request', param: 'logit_bias' },
  { name: 'top_logprobs without logprobs', path: C, body: chat({ top_logprobs: 3 }), status: 400, type: BAD, code: 'invalid_request', param: 'top_logprobs' },
  { name: 'top_logprobs > 20', path: C, body: chat({ logprobs: true, top_logprobs: 21 }), status: 400, type: BAD, code: 'invalid_request', param: 'top_logprobs' },
  { name: 'tools: a function name with a space', path: C, body: chat({ tools: [{ type: 'function', function: { name: 'f g' } }] }), status: 400, type: BAD, code: 'invalid_request', param: 'tools[0].function.name' },
  { name: 'response_format json_schema without a name', path: C, body: chat({ response_format: { type: 'json_schema', json_schema: { schema: {} } } }), status: 400, type: BAD, code: 'invalid_request', param: 'response_format.json_schema.name' },
  { name: 'audio (not supported)', path: C, body: chat({ audio: { voice: 'alloy', format: 'wav' } }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'audio' },
  { name: 'unknown parameter', path: C, body: chat({ frobnicate: true }), status: 400, type: BAD, code: 'unknown_parameter', param: 'frobnicate' },
  { name: 'inherited name as a parameter', path: C, body: '{"messages":[{"role":"user","content":"x"}],"constructor":1}', status: 400, type: BAD, code: 'unknown_parameter', param: 'constructor' },
  { name: '__proto__ as a parameter', path: C, body: '{"messages":[{"role":"user","content":"x"}],"__proto__":{"x":1}}', status: 400, type: BAD, code: 'unknown_parameter', param: '__proto__' },
  { name: 'null message', path: C, body: chat({ messages: [null] }), status: 400, type: BAD, code: 'invalid_request', param: 'messages[0]' },
  { name: 'stream_options without stream', path: C, body: chat({ stream_options: { include_usage: true } }), status: 400, type: BAD, code: 'invalid_request', param: 'stream_options' },
  { name: 'stream_options.include_usage not boolean', path: C, body: chat({ stream: true, stream_options: { include_usage: 'yes' } }), status: 400, type: BAD, code: 'invalid_request', param: 'stream_options.include_usage' },
  { name: 'unknown model', path: C, body: chat({ model: 'gpt-4o' }), status: 404, type: BAD, code: 'model_not_found', param: 'model' },
  { name: 'context length exceeded', path: C, body: chat({ max_tokens: 100_000 }), status: 400, type: BAD, code: 'context_length_exceeded', param: 'max_tokens' },
  { name: 'prompt fills the context', path: C, body: chat({ messages: [{ role: 'user', content: 'x '.repeat(300) }] }), status: 400, type: BAD, code: 'context_length_exceeded', param: 'messages' },
  { name: 'top_k below -1', path: C, body: chat({ top_k: -2 }), status: 400, type: BAD, code: 'invalid_request', param: 'top_k' },
  // --- completions
  { name: 'prompt missing', path: P, body: { model: 'fake-model' }, status: 400, type: BAD, code: 'invalid_request', param: 'prompt' },
  { name: 'prompt as token ids (not supported)', path: P, body: completion({ prompt: [1, 2, 3] }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'prompt' },
  { name: 'prompt array holds a number', path: P, body: completion({ prompt: ['a', 2] }), status: 400, type: BAD, code: 'invalid_request', param: 'prompt[1]' },
  { name: 'logprobs > 20', path: P, body: completion({ logprobs: 21 }), status: 400, type: BAD, code: 'invalid_request', param: 'logprobs' },
  { name: 'suffix (not supported)', path: P, body: completion({ suffix: 'end' }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'suffix' },
  { name: 'best_of > n (not supported)', path: P, body: completion({ best_of: 3 }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'best_of' },
  { name: 'echo not boolean', path: P, body: completion({ echo: 'yes' }), status: 400, type: BAD, code: 'invalid_request', param: 'echo' },
  // --- responses (OpenAI's Responses API)
  { name: 'responses: input missing', path: R, body: { model: 'fake-model' }, status: 400, type: BAD, code: 'invalid_request', param: 'input' },
  { name: 'responses: input is a number', path: R, body: resp({ input: 5 }), status: 400, type: BAD, code: 'invalid_request', param: 'input' },
  { name: 'responses: input is an empty list', path: R, body: resp({ input: [] }), status: 400, type: BAD, code: 'invalid_request', param: 'input' },
  { name: 'responses: unknown role', path: R, body: resp({ input: [{ role: 'wizard', content: 'x' }] }), status: 400, type: BAD, code: 'invalid_request', param: 'input[0].role' },
  { name: 'responses: content is a number', path: R, body: resp({ input: [{ role: 'user', content: 5 }] }), status: 400, type: BAD, code: 'invalid_request', param: 'input[0].content' },
  { name: 'responses: input_text without text', path: R, body: resp({ input: [{ role: 'user', content: [{ type: 'input_text' }] }] }), status: 400, type: BAD, code: 'invalid_request', param: 'input[0].content[0].text' },
  { name: 'responses: content part type text (chat\'s name)', path: R, body: resp({ input: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] }), status: 400, type: BAD, code: 'invalid_request', param: 'input[0].content[0].type' },
  { name: 'responses: input_image part (not supported)', path: R, body: resp({ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'input[0].content[0].type' },
  { name: 'responses: input_file part (not supported)', path: R, body: resp({ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'f' }] }] }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'input[0].content[0].type' },
  { name: 'responses: function_call_output item (not supported)', path: R, body: resp({ input: [{ type: 'function_call_output', call_id: 'c', output: '1' }] }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'input[0].type' },
  { name: 'responses: unknown item type', path: R, body: resp({ input: [{ type: 'mesage', role: 'user', content: 'x' }] }), status: 400, type: BAD, code: 'invalid_request', param: 'input[0].type' },
  { name: 'responses: item_reference without id', path: R, body: resp({ input: [{ type: 'item_reference' }] }), status: 400, type: BAD, code: 'invalid_request', param: 'input[0].id' },
  { name: 'responses: unknown field in a message item', path: R, body: resp({ input: [{ role: 'user', content: 'x', colour: 'red' }] }), status: 400, type: BAD, code: 'unknown_parameter', param: 'input[0].colour' },
  { name: 'responses: instructions not a string', path: R, body: resp({ instructions: ['be nice'] }), status: 400, type: BAD, code: 'invalid_request', param: 'instructions' },
  { name: 'responses: max_output_tokens = 0', path: R, body: resp({ max_output_tokens: 0 }), status: 400, type: BAD, code: 'invalid_request', param: 'max_output_tokens' },
  { name: 'responses: temperature out of range', path: R, body: resp({ temperature: 3 }), status: 400, type: BAD, code: 'invalid_request', param: 'temperature' },
  { name: 'responses: top_p = 0', path: R, body: resp({ top_p: 0 }), status: 400, type: BAD, code: 'invalid_request', param: 'top_p' },
  { name: 'responses: store not boolean', path: R, body: resp({ store: 'yes' }), status: 400, type: BAD, code: 'invalid_request', param: 'store' },
  { name: 'responses: stream_options without stream', path: R, body: resp({ stream_options: { include_obfuscation: false } }), status: 400, type: BAD, code: 'invalid_request', param: 'stream_options' },
  { name: 'responses: tools (not supported)', path: R, body: resp({ tools: [{ type: 'function', name: 'f', parameters: {} }] }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'tools' },
  { name: 'responses: tool_choice required (not supported)', path: R, body: resp({ tool_choice: 'required' }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'tool_choice' },
  { name: 'responses: text.format json_schema with a bad type', path: R, body: resp({ text: { format: { type: 'json_schema', name: 'x', schema: { type: 'thing' } } } }), status: 400, type: BAD, code: 'invalid_request', param: 'text.format.schema.type' },
  { name: 'responses: text.verbosity (not supported)', path: R, body: resp({ text: { verbosity: 'low' } }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'text.verbosity' },
  { name: 'responses: reasoning.effort (not supported)', path: R, body: resp({ reasoning: { effort: 'high' } }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'reasoning.effort' },
  { name: 'responses: background (not supported)', path: R, body: resp({ background: true }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'background' },
  { name: 'responses: conversation (not supported)', path: R, body: resp({ conversation: 'conv_1' }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'conversation' },
  { name: 'responses: prompt template (not supported)', path: R, body: resp({ prompt: { id: 'pmpt_1' } }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'prompt' },
  { name: 'responses: include (not supported)', path: R, body: resp({ include: ['message.output_text.logprobs'] }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'include' },
  { name: 'responses: truncation auto (not supported)', path: R, body: resp({ truncation: 'auto' }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'truncation' },
  { name: 'responses: top_logprobs (not supported)', path: R, body: resp({ top_logprobs: 5 }), status: 400, type: BAD, code: 'unsupported_parameter', param: 'top_logprobs' },
  { name: 'responses: unknown parameter', path: R, body: resp({ frobnicate: 1 }), status: 400, type: BAD, code: 'unknown_parameter', param: 'frobnicate' },
  { name: 'responses: chat\'s messages field', path: R, body: resp({ messages: [] }), status: 400, type: BAD, code: 'unknown_parameter', param: 'messages' },
  { name: 'responses: unknown model', path: R, body: resp({ model: 'gpt-4o' }), status: 404, type: BAD, code: 'model_not_found', param: 'model' },
  { name: 'responses: context length exceeded', path: R, body: resp({ max_output_tokens: 100_000 }), status: 400, type: BAD, code: 'context_length_exceeded', param: 'max_output_tokens' },
  { name: 'responses: unknown previous_response_id', path: R, body: resp({ previous_response_id: 'resp_nope' }), status: 404, type: BAD, code: 'response_not_found', param: 'previous_response_id' },
  { name: 'responses: GET an unknown id', method: 'GET', path: `${R}/resp_nope`, status: 404, type: BAD, code: 'response_not_found', param: 'response_id' },
  { name: 'responses: DELETE an unknown id', method: 'DELETE', path: `${R}/resp_nope`, status: 404, type: BAD, code: 'response_not_found', param: 'response_id' },
  { name: 'responses: GET with stream=true (not supported)', method: 'GET', path: `${R}/resp_nope?stream=true`, status: 400, type: BAD, code: 'unsupported_parameter', param: 'stream' },
  { name: 'responses: wrong method', method: 'PUT', path: R, body: resp({}), status: 405, type: BAD, code: 'method_not_allowed', param: null },
  { name: 'responses: queue full', path: R, body: resp({}), before: (e) => (e.failNext = new EngineError('queue_full', 'Too many requests waiting.')), status: 429, type: 'rate_limit_error', code: 'queue_full', param: null },
  // --- routing, size, other OpenAI-side routes
  { name: 'wrong method', method: 'GET', path: C, status: 405, type: BAD, code: 'method_not_allowed', param: null },
  { name: 'method named like an Object member', method: 'constructor', path: C, status: 405, type: BAD, code: 'method_not_allowed', param: null },
  { name: 'unknown route', path: '/v1/nope', body: {}, status: 404, type: BAD, code: 'not_found', param: null },
  { name: 'body over 4 MiB', path: C, body: chat({ messages: [{ role: 'user', content: 'x'.repeat(4 * 1024 * 1024) }] }), status: 413, type: BAD, code: 'request_too_large', param: null },
  { name: 'malformed %-escape in the model id', method: 'GET', path: '/v1/models/%E0%A4%A', status: 404, type: BAD, code: 'model_not_found', param: 'model' },
  { name: 'unknown model id in path', method: 'GET', path: '/v1/models/nope', status: 404, type: BAD, code: 'model_not_found', param: 'model' },
  { name: 'tokenize without prompt', path: '/tokenize', body: { model: 'fake-model' }, status: 400, type: BAD, code: 'invalid_request', param: 'prompt' },
  { name: 'detokenize non-integer token', path: '/detokenize', body: { tokens: ['a'] }, status: 400, type: BAD, code: 'invalid_request', param: 'tokens[0]' },
  { name: 'detokenize unknown token id', path: '/detokenize', body: { tokens: [99_999] }, status: 400, type: BAD, code: 'invalid_request', param: 'tokens[0]' },
  { name: 'embeddings from a chat model', path: '/v1/embeddings', body: { input: 'x' }, status: 400, type: BAD, code: 'model_cannot_embed', param: 'model' },
  // --- engine errors → status
  { name: 'queue full', path: C, body: chat({}), before: (e) => (e.failNext = new EngineError('queue_full', 'Too many requests waiting.')), status: 429, type: 'rate_limit_error', code: 'queue_full', param: null },
  { name: 'device lost', path: C, body: chat({}), before: (e) => (e.failNext = new EngineError('device_lost', 'The GPU device was lost.')), status: 503, type: 'server_error', code: 'device_lost', param: null },
  { name: 'engine not loaded', path: P, body: completion({}), before: (e) => (e.failNext = new EngineError('engine_not_loaded', 'Loading.')), status: 503, type: 'server_error', code: 'engine_not_loaded', param: null },
  // --- Ollama routes: `{ "error": "…" }`
  { name: 'ollama malformed JSON', path: '/api/chat', body: '{', status: 400, type: 'ollama', code: 'invalid_json', param: null },
  { name: 'ollama model missing', path: '/api/chat', body: { messages: [] }, status: 400, type: 'ollama', code: 'invalid_request', param: 'model' },
  { name: 'ollama options.temperature not a number', path: '/api/chat', body: ollamaChat({ options: { temperature: 'x' } }), status: 400, type: 'ollama', code: 'invalid_request', param: 'options.temperature' },
  { name: 'ollama options.mirostat (not supported)', path: '/api/chat', body: ollamaChat({ options: { mirostat: 2 } }), status: 400, type: 'ollama', code: 'unsupported_parameter', param: 'options.mirostat' },
  { name: 'ollama options.num_predict = 0', path: '/api/generate', body: { model: 'fake-model', prompt: 'x', options: { num_predict: 0 } }, status: 400, type: 'ollama', code: 'invalid_request', param: 'options.num_predict' },
  { name: 'ollama format neither json nor a schema', path: '/api/generate', body: { model: 'fake-model', prompt: 'x', format: 'yaml' }, status: 400, type: 'ollama', code: 'invalid_request', param: 'format' },
  { name: 'ollama images (not supported)', path: '/api/generate', body: { model: 'fake-model', prompt: 'x', images: ['aGk='] }, status: 400, type: 'ollama', code: 'unsupported_parameter', param: 'images' },
  { name: 'ollama unknown role', path: '/api/chat', body: ollamaChat({ messages: [{ role: 'wizard', content: '1' }] }), status: 400, type: 'ollama', code: 'invalid_request', param: 'messages[0].role' },
  { name: 'ollama unknown model', path: '/api/chat', body: ollamaChat({ model: 'llama3' }), status: 404, type: 'ollama', code: 'model_not_found', param: null },
  { name: 'ollama wrong method', method: 'POST', path: '/api/tags', body: {}, status: 405, type: 'ollama', code: 'method_not_allowed', param: null },
  { name: 'ollama unknown route', method: 'GET', path: '/api/pull', status: 404, type: 'ollama', code: 'not_found', param: null },
  { name: 'ollama queue full', path: '/api/generate', body: { model: 'fake-model', prompt: 'x' }, before: (e) => (e.failNext = new EngineError('queue_full', 'Busy.')), status: 429, type: 'ollama', code: 'queue_full', param: null },
];

describe('bad input', () => {
  const engine = new FakeEngine({ contextLength: 256 });
  const router = createRouter(engine);

  it.each(cases)('$name → $status', async (c) => {
    c.before?.(engine);
    const method = c.method ?? 'POST';
    const body = c.body === undefined ? undefined : typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    const response = await router(new Request(`http://localhost:8000${c.path}`, { method, body, headers: { 'content-type': 'application/json' } }));
    expect(response.status).toBe(c.status);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-tabllm-error-code')).toBe(c.code);
    const json = (await response.json()) as { error: unknown };
    if (c.type === 'ollama') {
      expect(typeof json.error).toBe('string');
      if (c.param !== null) expect(json.error).toContain(`'${c.param}'`);
    } else {
      expect(json.error).toMatchObject({ type: c.type, code: c.code, param: c.param });
      expect((json.error as { message: string }).message.length).toBeGreaterThan(5);
    }
    if (c.status === 405) expect(response.headers.get('allow')).toContain(c.path.startsWith('/api/') ? 'GET' : 'POST');
  });

  it('has at least 25 cases and leaves the engine idle', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
    expect(engine.inFlight).toBe(0);
  });

  it('a good request on the same router still succeeds', async () => {
    const response = await router(
      new Request(`http://localhost:8000${C}`, { method: 'POST', body: JSON.stringify(chat({ temperature: 0, user: 'ignored', store: false })) }),
    );
    expect(response.status).toBe(200);
    const json = (await response.json()) as { choices: { message: { content: string } }[] };
    expect(json.choices[0].message.content).toBe('You said: hi');
  });

  it('a Responses request with every accepted-and-ignored field still succeeds', async () => {
    const body = resp({
      temperature: 0,
      user: 'u',
      metadata: { k: 'v' },
      store: false,
      parallel_tool_calls: true,
      truncation: 'disabled',
      service_tier: 'auto',
      prompt_cache_key: 'k',
      safety_identifier: 's',
      include: [],
      tools: [],
      tool_choice: 'auto',
      reasoning: { effort: null, summary: null },
      text: { format: { type: 'text' } },
      background: false,
      top_logprobs: 0,
      stream: false,
    });
    const response = await router(new Request(`http://localhost:8000${R}`, { method: 'POST', body: JSON.stringify(body) }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'completed', store: false, metadata: { k: 'v' }, output: [{ content: [{ text: 'You said: hi' }] }] });
  });

  it('a chat request to a model without a chat template is a 400', async () => {
    const router = createRouter(new FakeEngine({ hasChatTemplate: false }));
    const response = await router(new Request(`http://localhost:8000${C}`, { method: 'POST', body: JSON.stringify(chat({})) }));
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'model_has_no_chat_template', param: 'messages', type: BAD } });
  });
});
