// The embedding routes through the router, on a real two-model engine over fake runners
// ('stories260K' chats, 'embedder' embeds: fakeEmbedding of the token ids): response shapes,
// unit vectors, base64 round trip, `dimensions`, usage, token-id inputs, Ollama's /api/embed
// and /api/embeddings (raw vectors) with `truncate`, and bad input — each a clear coded 400.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { interceptsUrl } from '../../../src/api/api-paths';
import { createRouter, type Router } from '../../../src/api/router';
import { base64ToFloat32 } from '../../../src/openai/embeddings';
import type { MultiEngine } from '../../../src/openai/multi-engine';
import { fakeEmbedding, type FakeRunner } from '../../../src/testing/fake-runner';
import { CHAT_ID, EMBED_ID, fakeEmbedEngine } from '../../helpers/fake-embed-engine';

const DIM = 32;
const CONTEXT = 64;
let engine: MultiEngine;
let runners: Map<string, FakeRunner>;
let router: Router;

beforeAll(async () => {
  ({ engine, runners } = await fakeEmbedEngine({ embeddingDim: DIM, embedContext: CONTEXT }));
  router = createRouter(engine);
});
afterAll(() => engine.destroy());

async function post(path: string, body: unknown): Promise<{ status: number; json: any; code: string | null }> {
  const res = await router(new Request(`http://localhost:8000${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  return { status: res.status, json: await res.json(), code: res.headers.get('x-tabllm-error-code') };
}

const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((s, x) => s + x * x, 0));
const unit = (v: Float32Array) => Array.from(v).map((x) => x / norm(v));

/** The token ids the engine embeds for a text (BOS + pieces, as /tokenize says). */
async function tokens(text: string): Promise<number[]> {
  return (await engine.tokenize({ model: EMBED_ID, prompt: text })).tokens;
}

describe('POST /v1/embeddings', () => {
  it('the three embedding routes are API paths the fetch shim and the service worker take', () => {
    for (const path of ['/v1/embeddings', '/api/embed', '/api/embeddings', '/prefix/v1/embeddings']) {
      expect(interceptsUrl(new URL(`http://localhost:11434${path}`), 'http://localhost:5173'), path).toBe(true);
    }
  });

  it('answers OpenAI\'s shape: unit vectors of the pooled output, in input order, with usage', async () => {
    const input = ['the cat sat', 'a dog ran far', 'once upon a time'];
    const { status, json } = await post('/v1/embeddings', { model: EMBED_ID, input });
    expect(status).toBe(200);
    expect(json).toMatchObject({ object: 'list', model: EMBED_ID });
    expect(json.data.map((d: any) => [d.object, d.index])).toEqual([['embedding', 0], ['embedding', 1], ['embedding', 2]]);
    let total = 0;
    for (const [i, text] of input.entries()) {
      const ids = await tokens(text);
      total += ids.length;
      const expected = unit(fakeEmbedding(ids, DIM));
      expect(json.data[i].embedding).toHaveLength(DIM);
      json.data[i].embedding.forEach((x: number, k: number) => expect(x).toBeCloseTo(expected[k]!, 6));
      expect(norm(json.data[i].embedding)).toBeCloseTo(1, 6);
    }
    expect(json.usage).toEqual({ prompt_tokens: total, total_tokens: total });
  });

  it('a string, token ids and token-id arrays give the same vectors', async () => {
    const ids = await tokens('hello world');
    const a = (await post('/v1/embeddings', { model: EMBED_ID, input: 'hello world' })).json.data[0].embedding;
    const b = (await post('/v1/embeddings', { model: EMBED_ID, input: ids })).json.data[0].embedding;
    const c = (await post('/v1/embeddings', { model: EMBED_ID, input: [ids, ids.slice(0, 2)] })).json;
    expect(b).toEqual(a);
    expect(c.data[0].embedding).toEqual(a);
    expect(c.data[1].embedding).not.toEqual(a);
    expect(c.usage.prompt_tokens).toBe(ids.length + 2);
  });

  it('base64 is the float32 little-endian bytes of the float answer', async () => {
    const input = ['alpha', 'beta gamma'];
    const floats = (await post('/v1/embeddings', { model: EMBED_ID, input })).json;
    const b64 = (await post('/v1/embeddings', { model: EMBED_ID, input, encoding_format: 'base64' })).json;
    for (const i of [0, 1]) {
      expect(typeof b64.data[i].embedding).toBe('string');
      const decoded = base64ToFloat32(b64.data[i].embedding);
      expect(Array.from(decoded)).toEqual(floats.data[i].embedding.map((x: number) => Math.fround(x)));
      // Byte 0..3 is component 0, little-endian (what OpenAI's client reads with a Float32Array view).
      const bytes = Uint8Array.from(atob(b64.data[i].embedding), (ch) => ch.charCodeAt(0));
      expect(new DataView(bytes.buffer).getFloat32(0, true)).toBe(decoded[0]);
    }
  });

  it('dimensions keeps the first N components, renormalised', async () => {
    const full = (await post('/v1/embeddings', { model: EMBED_ID, input: 'matryoshka doll' })).json.data[0].embedding as number[];
    const cut = (await post('/v1/embeddings', { model: EMBED_ID, input: 'matryoshka doll', dimensions: 8 })).json.data[0].embedding as number[];
    expect(cut).toHaveLength(8);
    expect(norm(cut)).toBeCloseTo(1, 6);
    const prefix = full.slice(0, 8);
    prefix.forEach((x, k) => expect(cut[k]).toBeCloseTo(x / norm(prefix), 6));
    const same = (await post('/v1/embeddings', { model: EMBED_ID, input: 'matryoshka doll', dimensions: DIM })).json.data[0].embedding;
    expect(same).toEqual(full);
  });

  it('256 texts in one request go to the runner in a few batches, not one by one', async () => {
    const runner = runners.get(EMBED_ID)!;
    const before = runner.embedInputs.length;
    const input = Array.from({ length: 256 }, (_, i) => `text number ${i}`);
    const { status, json } = await post('/v1/embeddings', { model: EMBED_ID, input });
    expect(status).toBe(200);
    expect(json.data).toHaveLength(256);
    const calls = runner.embedInputs.length - before;
    expect(calls).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(4);
  });

  it('omitting model picks the first loaded model (the chat model here), which cannot embed', async () => {
    const { status, json } = await post('/v1/embeddings', { input: 'x' });
    expect(status).toBe(400);
    expect(json.error).toMatchObject({ code: 'model_cannot_embed', param: 'model' });
  });
});

describe('Ollama embedding routes', () => {
  it('/api/embed: embeddings, prompt_eval_count and Ollama\'s timings', async () => {
    const { status, json } = await post('/api/embed', { model: EMBED_ID, input: ['why is the sky blue?', 'why is grass green?'] });
    expect(status).toBe(200);
    expect(json.model).toBe(EMBED_ID);
    expect(json.embeddings).toHaveLength(2);
    const expected = unit(fakeEmbedding(await tokens('why is the sky blue?'), DIM));
    json.embeddings[0].forEach((x: number, k: number) => expect(x).toBeCloseTo(expected[k]!, 6));
    const count = (await tokens('why is the sky blue?')).length + (await tokens('why is grass green?')).length;
    expect(json.prompt_eval_count).toBe(count);
    expect(Number.isInteger(json.total_duration) && json.total_duration > 0).toBe(true);
    expect(json.load_duration).toBe(0);
  });

  it('/api/embed truncates by default (as Ollama), and answers 400 with truncate: false', async () => {
    const long = Array.from({ length: 200 }, () => 'word').join(' ');
    const ok = await post('/api/embed', { model: EMBED_ID, input: long });
    expect(ok.status).toBe(200);
    expect(ok.json.prompt_eval_count).toBe(CONTEXT);
    const ids = (await tokens(long)).slice(0, CONTEXT);
    const expected = unit(fakeEmbedding(ids, DIM));
    ok.json.embeddings[0].forEach((x: number, k: number) => expect(x).toBeCloseTo(expected[k]!, 6));
    const refused = await post('/api/embed', { model: EMBED_ID, input: long, truncate: false });
    expect(refused.status).toBe(400);
    expect(refused.code).toBe('context_length_exceeded');
    expect(refused.json.error).toContain(`${CONTEXT} tokens`);
  });

  it('/api/embed dimensions, and an empty input is a load request with no vectors', async () => {
    const cut = await post('/api/embed', { model: EMBED_ID, input: 'x y z', dimensions: 4 });
    expect(cut.json.embeddings[0]).toHaveLength(4);
    const empty = await post('/api/embed', { model: EMBED_ID, input: '' });
    expect(empty.status).toBe(200);
    expect(empty.json.embeddings).toEqual([]);
  });

  it('/api/embeddings (legacy): prompt → the raw pooled vector, not normalised (Ollama\'s); /api/embed normalises', async () => {
    const prompt = 'here is an article about llamas';
    const { status, json } = await post('/api/embeddings', { model: EMBED_ID, prompt });
    expect(status).toBe(200);
    const raw = fakeEmbedding(await tokens(prompt), DIM);
    expect(norm(raw)).not.toBeCloseTo(1, 2); // the check below can tell raw from unit
    expect(json.embedding).toHaveLength(DIM);
    json.embedding.forEach((x: number, k: number) => expect(x).toBeCloseTo(raw[k]!, 6));
    const viaV1 = (await post('/v1/embeddings', { model: EMBED_ID, input: prompt, normalize: false })).json.data[0].embedding;
    expect(viaV1).toEqual(json.embedding); // the same tabllm extension, over /v1
    const embed = (await post('/api/embed', { model: EMBED_ID, input: prompt })).json;
    embed.embeddings[0].forEach((x: number, k: number) => expect(x).toBeCloseTo(unit(raw)[k]!, 6));
  });
});

const V = '/v1/embeddings';
const e = (extra: Record<string, unknown>) => ({ model: EMBED_ID, input: 'hi', ...extra });
const BAD_INPUT: { name: string; path: string; body: unknown; status?: number; code: string; param?: string }[] = [
  { name: 'input missing', path: V, body: { model: EMBED_ID }, code: 'invalid_request', param: 'input' },
  { name: 'empty string', path: V, body: e({ input: '' }), code: 'invalid_request', param: 'input' },
  { name: 'empty array', path: V, body: e({ input: [] }), code: 'invalid_request', param: 'input' },
  { name: 'empty string in an array', path: V, body: e({ input: ['a', ''] }), code: 'invalid_request', param: 'input[1]' },
  { name: 'a number, not an array', path: V, body: e({ input: 42 }), code: 'invalid_request', param: 'input' },
  { name: 'an object', path: V, body: e({ input: { text: 'x' } }), code: 'invalid_request', param: 'input' },
  { name: 'strings mixed with numbers', path: V, body: e({ input: ['a', 3] }), code: 'invalid_request', param: 'input[1]' },
  { name: 'negative token id', path: V, body: e({ input: [1, -5] }), code: 'invalid_request', param: 'input[1]' },
  { name: 'fractional token id', path: V, body: e({ input: [1, 2.5] }), code: 'invalid_request', param: 'input[1]' },
  { name: 'nested token id not a number', path: V, body: e({ input: [[1, 2], [3, 'x']] }), code: 'invalid_request', param: 'input[1][1]' },
  { name: 'empty token-id array in a batch', path: V, body: e({ input: [[1], []] }), code: 'invalid_request', param: 'input[1]' },
  { name: 'token id outside the vocabulary', path: V, body: e({ input: [1, 999_999] }), code: 'invalid_request', param: 'input' },
  { name: 'too many inputs', path: V, body: e({ input: Array.from({ length: 2049 }, () => 'a') }), code: 'invalid_request', param: 'input' },
  { name: 'too long for the context', path: V, body: e({ input: Array.from({ length: 100 }, () => 'word').join(' ') }), code: 'context_length_exceeded', param: 'input' },
  { name: 'too long token ids in a batch', path: V, body: e({ input: [[1], Array.from({ length: 65 }, () => 5)] }), code: 'context_length_exceeded', param: 'input[1]' },
  { name: 'bad encoding_format', path: V, body: e({ encoding_format: 'int8' }), code: 'invalid_request', param: 'encoding_format' },
  { name: 'dimensions 0', path: V, body: e({ dimensions: 0 }), code: 'invalid_request', param: 'dimensions' },
  { name: 'dimensions not an integer', path: V, body: e({ dimensions: 7.5 }), code: 'invalid_request', param: 'dimensions' },
  { name: 'dimensions a string', path: V, body: e({ dimensions: '8' }), code: 'invalid_request', param: 'dimensions' },
  { name: 'normalize not a boolean', path: V, body: e({ normalize: 'no' }), code: 'invalid_request', param: 'normalize' },
  { name: 'dimensions above the model\'s size', path: V, body: e({ dimensions: DIM + 1 }), code: 'invalid_request', param: 'dimensions' },
  { name: 'unknown parameter', path: V, body: e({ pooling: 'mean' }), code: 'unknown_parameter', param: 'pooling' },
  { name: 'model not a string', path: V, body: e({ model: 7 }), code: 'invalid_request', param: 'model' },
  { name: 'unknown model', path: V, body: e({ model: 'text-embedding-3-small' }), status: 404, code: 'model_not_found', param: 'model' },
  { name: 'a chat model asked for embeddings', path: V, body: e({ model: CHAT_ID }), code: 'model_cannot_embed', param: 'model' },
  { name: 'an embedding model asked for chat', path: '/v1/chat/completions', body: { model: EMBED_ID, messages: [{ role: 'user', content: 'hi' }] }, code: 'model_cannot_generate', param: 'model' },
  { name: 'an embedding model asked for a completion', path: '/v1/completions', body: { model: EMBED_ID, prompt: 'hi' }, code: 'model_cannot_generate', param: 'model' },
  { name: 'ollama: an embedding model asked to generate', path: '/api/generate', body: { model: EMBED_ID, prompt: 'hi', raw: true }, code: 'model_cannot_generate' },
  { name: 'ollama: a chat model asked to embed', path: '/api/embed', body: { model: CHAT_ID, input: 'hi' }, code: 'model_cannot_embed' },
  { name: 'ollama: input a number', path: '/api/embed', body: { model: EMBED_ID, input: 5 }, code: 'invalid_request', param: 'input' },
  { name: 'ollama: token ids (text only)', path: '/api/embed', body: { model: EMBED_ID, input: [1, 2] }, code: 'invalid_request', param: 'input[0]' },
  { name: 'ollama: empty string in an array', path: '/api/embed', body: { model: EMBED_ID, input: ['a', ''] }, code: 'invalid_request', param: 'input[1]' },
  { name: 'ollama: truncate not a boolean', path: '/api/embed', body: { model: EMBED_ID, input: 'a', truncate: 'yes' }, code: 'invalid_request', param: 'truncate' },
  { name: 'ollama: bad keep_alive', path: '/api/embed', body: { model: EMBED_ID, input: 'a', keep_alive: 'soon' }, code: 'invalid_request', param: 'keep_alive' },
  { name: 'ollama: dimensions negative', path: '/api/embed', body: { model: EMBED_ID, input: 'a', dimensions: -1 }, code: 'invalid_request', param: 'dimensions' },
  { name: 'ollama legacy: prompt not a string', path: '/api/embeddings', body: { model: EMBED_ID, prompt: ['a'] }, code: 'invalid_request', param: 'prompt' },
];

describe('embedding bad input: each a clear coded error', () => {
  for (const c of BAD_INPUT) {
    it(c.name, async () => {
      const { status, json, code } = await post(c.path, c.body);
      expect(status).toBe(c.status ?? 400);
      expect(code).toBe(c.code);
      if (c.path.startsWith('/v1/')) {
        expect(json.error.code).toBe(c.code);
        if (c.param !== undefined) expect(json.error.param).toBe(c.param);
        expect(json.error.message.length).toBeGreaterThan(10);
      } else {
        expect(typeof json.error).toBe('string');
      }
    });
  }

  it('the engine still answers after all of them', async () => {
    expect((await post(V, e({}))).status).toBe(200);
  });
});
