// tabllm/webllm's embeddings.create with WebLLM's semantics, on the fixture's GGUF served over
// HTTP: a chat model and an embedding model (a FakeRunner in embedding mode) loaded together
// with CreateMLCEngine([chat, embed]); WebLLM's named errors for what it refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMLCEngine, type MLCEngine } from '../../../src/compat/webllm';
import { FakeRunner, fakeEmbedding } from '../../../src/testing/fake-runner';
import { MODEL_ID, startFixture, type Fixture } from './fixture';

const EMBED = 'TinyEmbed-gguf';
const DIM = 12;
let fixture: Fixture;
let engine: MLCEngine;

beforeAll(async () => {
  fixture = await startFixture();
  const chatRunner = fixture.engineConfig.createRunner!;
  const appConfig = { model_list: [...fixture.appConfig.model_list, { model: fixture.url, model_id: EMBED, model_lib: '' }] };
  engine = await CreateMLCEngine([MODEL_ID, EMBED], {
    ...fixture.engineConfig,
    appConfig,
    createRunner: async (args) =>
      args.modelId === EMBED ? new FakeRunner({ vocabSize: args.config.vocabSize, contextLength: 32, numKvBlocks: 2, embeddingDim: DIM }) : chatRunner(args),
  });
});
afterAll(async () => {
  await engine.unload();
  await fixture.close();
});

const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe('WebLLM embeddings', () => {
  it('answers WebLLM\'s shape: unit vectors in order, usage with extra.prefill_tokens_per_s', async () => {
    const r = await engine.embeddings.create({ model: EMBED, input: ['hello', 'world wide'] });
    expect(r.object).toBe('list');
    expect(r.model).toBe(EMBED);
    expect(r.data.map((d) => d.index)).toEqual([0, 1]);
    const ids = fixture.tokenizer.encode('hello', { addSpecial: true });
    const raw = Array.from(fakeEmbedding(ids, DIM));
    r.data[0]!.embedding.forEach((x, k) => expect(x).toBeCloseTo(raw[k]! / norm(raw), 6));
    expect(norm(r.data[1]!.embedding)).toBeCloseTo(1, 6);
    expect(r.usage.prompt_tokens).toBeGreaterThan(0);
    expect(r.usage.extra.prefill_tokens_per_s).toBeGreaterThanOrEqual(0);
    // Token ids too, as WebLLM takes them.
    const byIds = await engine.embedding({ model: EMBED, input: ids });
    expect(byIds.data[0]!.embedding).toEqual(r.data[0]!.embedding);
  });

  it('with two models loaded, `model` is required (UnclearModelToUseError), as in WebLLM', async () => {
    await expect(engine.embeddings.create({ input: 'x' })).rejects.toMatchObject({ name: 'UnclearModelToUseError' });
  });

  it('refuses what WebLLM refuses, with WebLLM\'s error names', async () => {
    await expect(engine.embeddings.create({ model: EMBED, input: 'x', dimensions: 4 })).rejects.toMatchObject({ name: 'UnsupportedFieldsError', fields: ['dimensions'] });
    await expect(engine.embeddings.create({ model: EMBED, input: 'x', user: 'u' })).rejects.toMatchObject({ name: 'UnsupportedFieldsError', fields: ['user'] });
    await expect(engine.embeddings.create({ model: EMBED, input: 'x', encoding_format: 'base64' })).rejects.toMatchObject({ name: 'EmbeddingUnsupportedEncodingFormatError' });
    for (const input of ['', [], [[1], []], ['a', '']] as never[]) {
      await expect(engine.embeddings.create({ model: EMBED, input })).rejects.toMatchObject({ name: 'EmbeddingInputEmptyError' });
    }
    const long = Array.from({ length: 100 }, () => 'word').join(' ');
    await expect(engine.embeddings.create({ model: EMBED, input: long })).rejects.toMatchObject({ name: 'EmbeddingExceedContextWindowSizeError' });
    await expect(engine.embeddings.create({ model: MODEL_ID, input: 'x' })).rejects.toMatchObject({ name: 'EmbeddingUnsupportedModelError' });
    await expect(engine.embeddings.create({ model: 'nope', input: 'x' })).rejects.toMatchObject({ name: 'SpecifiedModelNotFoundError' });
  });

  it('the chat model keeps chatting beside it', async () => {
    const r = await engine.chat.completions.create({ model: MODEL_ID, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    expect(r.choices[0]!.message.content!.length).toBeGreaterThan(0);
  });
});
