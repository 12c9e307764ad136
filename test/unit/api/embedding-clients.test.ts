// Real clients, unmodified, embedding through tabllm — through the fetch shim and a running
// server (api-transports.ts): the `openai` client's embeddings.create (float and base64, which
// the client asks for by default and decodes itself), the `ollama` client's embed, the AI
// SDK's embed / embedMany (`@ai-sdk/openai` pointed at the URL), and LangChain's
// OpenAIEmbeddings. Every vector is checked against the fake runner's pooled output.
import { createOpenAI } from '@ai-sdk/openai';
import { OpenAIEmbeddings } from '@langchain/openai';
import { embed, embedMany } from 'ai';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { MultiEngine } from '../../../src/openai/multi-engine';
import { fakeEmbedding } from '../../../src/testing/fake-runner';
import { TRANSPORTS, type OpenTransport } from '../../helpers/api-transports';
import { EMBED_ID, fakeEmbedEngine } from '../../helpers/fake-embed-engine';

const DIM = 24;
let engine: MultiEngine;
beforeAll(async () => {
  ({ engine } = await fakeEmbedEngine({ embeddingDim: DIM }));
});
afterAll(() => engine.destroy());

/** The unit vector tabllm must answer for `text`. */
async function expected(text: string, dims = DIM): Promise<number[]> {
  const ids = (await engine.tokenize({ model: EMBED_ID, prompt: text })).tokens;
  const v = Array.from(fakeEmbedding(ids, DIM)).slice(0, dims);
  const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / n);
}

function expectClose(actual: number[], want: number[]): void {
  expect(actual).toHaveLength(want.length);
  actual.forEach((x, k) => expect(x).toBeCloseTo(want[k]!, 6));
}

describe.each(TRANSPORTS)('embedding clients ($name)', (transport) => {
  let open: OpenTransport;
  beforeAll(async () => {
    open = await transport.open(engine);
  });
  afterAll(() => open.close());
  let sent: string[] = [];
  afterEach(() => {
    sent = [];
  });
  const recording: () => OpenTransport['fetch'] = () => (input, init) => {
    sent.push(typeof init?.body === 'string' ? init.body : '');
    return open.fetch(input, init);
  };

  it('openai embeddings.create: float, and base64 (the client\'s default, decoded by the client)', async () => {
    const client = new OpenAI({ baseURL: open.baseURL, apiKey: 'none', fetch: recording() });
    const floats = await client.embeddings.create({ model: EMBED_ID, input: ['first text', 'second text'], encoding_format: 'float' });
    expectClose(floats.data[0]!.embedding, await expected('first text'));
    expectClose(floats.data[1]!.embedding, await expected('second text'));
    expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
    const b64 = await client.embeddings.create({ model: EMBED_ID, input: 'first text' });
    expect(JSON.parse(sent[1]!)).toMatchObject({ encoding_format: 'base64' });
    expectClose(b64.data[0]!.embedding, await expected('first text'));
    const cut = await client.embeddings.create({ model: EMBED_ID, input: 'first text', dimensions: 6 });
    expectClose(cut.data[0]!.embedding, await expected('first text', 6));
  });

  it('ollama embed', async () => {
    const ollama = new Ollama({ host: open.baseURL.replace(/\/v1$/, ''), fetch: open.fetch });
    const r = await ollama.embed({ model: EMBED_ID, input: ['why is the sky blue?', 'llamas'] });
    expect(r.embeddings).toHaveLength(2);
    expectClose(r.embeddings[0]!, await expected('why is the sky blue?'));
    expectClose(r.embeddings[1]!, await expected('llamas'));
    expect(r.prompt_eval_count).toBeGreaterThan(0);
  });

  it('AI SDK embed and embedMany', async () => {
    const provider = createOpenAI({ baseURL: open.baseURL, apiKey: 'none', fetch: open.fetch });
    const model = provider.embedding(EMBED_ID);
    const one = await embed({ model, value: 'sunny day at the beach' });
    expectClose(one.embedding, await expected('sunny day at the beach'));
    const many = await embedMany({ model, values: ['a', 'b c', 'd e f'] });
    expect(many.embeddings).toHaveLength(3);
    for (const [i, text] of ['a', 'b c', 'd e f'].entries()) expectClose(many.embeddings[i]!, await expected(text));
    expect(many.usage.tokens).toBeGreaterThan(0);
  });

  it('LangChain OpenAIEmbeddings: embedQuery and embedDocuments', async () => {
    const embeddings = new OpenAIEmbeddings({ model: EMBED_ID, apiKey: 'none', configuration: { baseURL: open.baseURL, fetch: open.fetch } });
    expectClose(await embeddings.embedQuery('what is tabllm?'), await expected('what is tabllm?'));
    const docs = await embeddings.embedDocuments(['doc one', 'doc two']);
    expectClose(docs[0]!, await expected('doc one'));
    expectClose(docs[1]!, await expected('doc two'));
  });
});
