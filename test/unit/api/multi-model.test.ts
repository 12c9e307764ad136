// Several models in one engine (createEngine({ models })), over fake runners: both listed on
// every listing route, chat and embeddings interleaved under load with outputs equal to each
// model alone, unloading (engine.unloadModel, Ollama's keep_alive: 0) frees the model's share
// in stats() while the other keeps serving, and the GPU memory budget refuses a model that
// does not fit with a coded error.
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { createEngine } from '../../../src/create-engine';
import type { MultiEngine } from '../../../src/openai/multi-engine';
import { CHAT_ID, CHATML, EMBED_ID, fakeEmbedEngine, STORIES_GGUF } from '../../helpers/fake-embed-engine';
import { fakeLocalEngine } from '../../helpers/fake-local-engine';

const engines: { destroy(): Promise<void> }[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.destroy();
});

async function twoModels(opts: Parameters<typeof fakeEmbedEngine>[0] = {}) {
  const made = await fakeEmbedEngine(opts);
  engines.push(made.engine);
  return made;
}

async function post(engine: MultiEngine, path: string, body: unknown) {
  const res = await createRouter(engine)(new Request(`http://localhost:8000${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  return { status: res.status, json: (await res.json()) as any, code: res.headers.get('x-tabllm-error-code') };
}

async function get(engine: MultiEngine, path: string) {
  const res = await createRouter(engine)(new Request(`http://localhost:8000${path}`));
  return { status: res.status, json: (await res.json()) as any };
}

const chatParams = (i: number) => ({ model: CHAT_ID, messages: [{ role: 'user' as const, content: `question ${i}` }], max_tokens: 6, temperature: 0 });
const embedParams = (i: number) => ({ model: EMBED_ID, input: [`passage ${i}`, `another passage ${i * 7}`] });

describe('two models in one engine', () => {
  it('lists both on /v1/models, /api/tags and /api/ps, each with its own task and memory', async () => {
    const { engine } = await twoModels();
    expect((await get(engine, '/v1/models')).json.data.map((m: any) => m.id)).toEqual([CHAT_ID, EMBED_ID]);
    expect((await get(engine, '/api/tags')).json.models.map((m: any) => m.name)).toEqual([`${CHAT_ID}:latest`, `${EMBED_ID}:latest`]);
    const ps = (await get(engine, '/api/ps')).json.models;
    expect(ps.map((m: any) => m.name)).toEqual([`${CHAT_ID}:latest`, `${EMBED_ID}:latest`]);
    for (const m of ps) expect(m.size_vram).toBeGreaterThan(0);
    const show = await post(engine, '/api/show', { model: EMBED_ID });
    expect(show.json.capabilities).toEqual(['embedding']);
    expect((await engine.info(EMBED_ID)).task).toBe('embed');
    expect((await engine.info()).id).toBe(CHAT_ID);
  });

  it('chat and embeddings interleaved, 16 concurrent each, equal each model alone', async () => {
    const { engine } = await twoModels();
    const all = await Promise.all(
      Array.from({ length: 16 }, (_, i) => [engine.chat.completions.create(chatParams(i)), engine.embeddings.create(embedParams(i))]).flat(),
    );
    const chats = all.filter((_, k) => k % 2 === 0) as Awaited<ReturnType<typeof engine.chat.completions.create>>[];
    const embeds = all.filter((_, k) => k % 2 === 1) as Awaited<ReturnType<typeof engine.embeddings.create>>[];

    const { engine: chatAlone } = await fakeLocalEngine({ chatTemplate: CHATML });
    engines.push(chatAlone);
    const { engine: embedAlone } = await twoModels({ embedOnly: true });
    for (let i = 0; i < 16; i++) {
      const alone = await chatAlone.chat.completions.create({ ...chatParams(i), model: 'stories260K' });
      expect((chats[i] as any).choices[0].message.content).toBe(alone.choices[0]!.message.content);
      expect((chats[i] as any).choices[0].message.content.length).toBeGreaterThan(0);
      const aloneEmbed = await embedAlone.embeddings.create(embedParams(i));
      expect(embeds[i]!.data).toEqual(aloneEmbed.data);
    }
  });

  it('unloadModel frees its memory in stats(); the other keeps serving; the unloaded one is a 404', async () => {
    const { engine, runners } = await twoModels();
    const before = await engine.stats();
    expect(before.models!.map((m) => [m.id, m.task])).toEqual([[CHAT_ID, 'generate'], [EMBED_ID, 'embed']]);
    const embedShare = before.models!.find((m) => m.id === EMBED_ID)!;
    expect(embedShare.weightsBytes).toBeGreaterThan(0);
    expect(embedShare.kvCacheBytes).toBe(0);
    expect(embedShare.gpuBytes).toBe(embedShare.weightsBytes);
    expect(before.gpuBytesUsed).toBe(before.models!.reduce((s, m) => s + m.gpuBytes, 0));

    await engine.unloadModel(EMBED_ID);
    const after = await engine.stats();
    expect(after.models!.map((m) => m.id)).toEqual([CHAT_ID]);
    expect(after.gpuBytesUsed).toBe(before.gpuBytesUsed! - embedShare.gpuBytes);
    expect(runners.get(EMBED_ID)!.destroyed).toBe(true);
    expect(runners.get(CHAT_ID)!.destroyed).toBe(false);

    const chat = await post(engine, '/v1/chat/completions', chatParams(1));
    expect(chat.status).toBe(200);
    const gone = await post(engine, '/v1/embeddings', embedParams(1));
    expect(gone.status).toBe(404);
    expect(gone.json.error).toMatchObject({ code: 'model_not_found', param: 'model' });
    expect((await get(engine, '/v1/models')).json.data.map((m: any) => m.id)).toEqual([CHAT_ID]);
    await expect(engine.unloadModel(EMBED_ID)).rejects.toMatchObject({ code: 'model_not_found' });
  });

  it('an embedding request in flight when its model unloads ends with engine_not_loaded, not a hang', async () => {
    const { engine } = await twoModels();
    const pending = engine.embeddings.create({ model: EMBED_ID, input: Array.from({ length: 64 }, (_, i) => `t ${i}`) });
    const unloading = engine.unloadModel(EMBED_ID);
    const outcome = await pending.then(() => 'done', (e: { code?: string }) => e.code);
    await unloading;
    // Either the batch finished first or the request was ended; never a hang or a silent loss.
    expect(['done', 'engine_not_loaded']).toContain(outcome);
  });

  it('Ollama keep_alive: 0 unloads the model after answering', async () => {
    const { engine } = await twoModels();
    const r = await post(engine, '/api/embed', { model: EMBED_ID, input: 'last one', keep_alive: 0 });
    expect(r.status).toBe(200);
    expect(r.json.embeddings).toHaveLength(1);
    expect((await engine.models.list()).data.map((m) => m.id)).toEqual([CHAT_ID]);
    const unload = await post(engine, '/api/generate', { model: CHAT_ID, keep_alive: '0s' });
    expect(unload.json).toMatchObject({ done: true, done_reason: 'unload' });
    expect((await engine.models.list()).data).toEqual([]);
    expect((await post(engine, '/api/generate', { model: CHAT_ID, prompt: 'x' })).code).toBe('engine_not_loaded');
  });

  it('loadModel adds a model at run time; a duplicate id is refused', async () => {
    const { engine } = await twoModels({ embedOnly: true });
    const info = await engine.loadModel({ model: STORIES_GGUF, modelId: 'embed-2' });
    expect(info).toMatchObject({ id: 'embed-2', task: 'embed' });
    expect((await post(engine, '/v1/embeddings', { model: 'embed-2', input: 'x' })).status).toBe(200);
    await expect(engine.loadModel({ model: STORIES_GGUF, modelId: EMBED_ID })).rejects.toMatchObject({ code: 'invalid_request', param: 'model' });
    expect((await engine.models.list()).data.map((m) => m.id)).toEqual([EMBED_ID, 'embed-2']);
  });
});

describe('the GPU memory budget', () => {
  it('a model that does not fit fails its load with model_does_not_fit; the loaded one keeps serving', async () => {
    const budget = 64 * 1024 * 1024;
    const { engine } = await twoModels({ embedOnly: true, engine: { gpuMemoryBytes: budget } });
    // The chat model takes half of what its weights leave (loadModel's default share): loads.
    await engine.loadModel({ model: STORIES_GGUF, modelId: 'chat-a', chatTemplate: CHATML });
    const s = await engine.stats();
    expect(s.gpuMemoryBudgetBytes).toBe(budget);
    const chatA = s.models!.find((m) => m.id === 'chat-a')!;
    expect(chatA.kvCacheBytes).toBeGreaterThan(0);
    expect(chatA.gpuBytes).toBe(chatA.weightsBytes + chatA.kvCacheBytes);
    // One asking for more KV than is left does not fit.
    const left = budget - s.gpuBytesUsed!;
    const err = await engine.loadModel({ model: STORIES_GGUF, modelId: 'chat-b', kvCacheBytes: left }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'model_does_not_fit', param: 'model' });
    expect((err as Error).message).toMatch(/MiB/);
    expect((await engine.stats()).gpuBytesUsed).toBe(s.gpuBytesUsed);
    expect((await engine.embeddings.create({ model: EMBED_ID, input: 'still here' })).data).toHaveLength(1);
    expect((await engine.chat.completions.create({ ...chatParams(0), model: 'chat-a' })).choices).toHaveLength(1);
    // Unloading frees its share: the same load then fits.
    await engine.unloadModel('chat-a');
    await expect(engine.loadModel({ model: STORIES_GGUF, modelId: 'chat-b', kvCacheBytes: left })).resolves.toMatchObject({ id: 'chat-b' });
  });

  it('createEngine refuses a set of models whose weights exceed the budget, with the code', async () => {
    const err = await createEngine({ models: [STORIES_GGUF], gpuMemoryBytes: 1000, createRunner: async () => { throw new Error('no runner should start'); } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'model_does_not_fit' });
  });

  it('createEngine({ model }) and ({ models }) both work; neither, or both, is a coded error', async () => {
    await expect(createEngine({} as never)).rejects.toMatchObject({ code: 'invalid_request', param: 'model' });
    await expect(createEngine({ model: STORIES_GGUF, models: [STORIES_GGUF] })).rejects.toMatchObject({ code: 'invalid_request', param: 'models' });
    await expect(createEngine({ models: [] })).rejects.toMatchObject({ code: 'invalid_request', param: 'models' });
  });
});
