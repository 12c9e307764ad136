// WebLLM's cache helpers on tabllm's storage: hasModelInCache / deleteModelAllInfoInCache
// find the file CreateMLCEngine stored for a WebLLM id (in-memory stores stand in for OPFS
// and IndexedDB), unknown ids are WebLLM's ModelNotFoundError, and where no browser storage
// exists (Node) nothing is cached and deleting is a no-op.
import { afterEach, describe, expect, it } from 'vitest';
import {
  CreateMLCEngine, deleteChatConfigInCache, deleteModelAllInfoInCache, deleteModelInCache, deleteModelWasmInCache, hasModelInCache,
} from '../../../src/compat/webllm';
import { MemoryChunkStore, MemoryModelRegistry, modelIdForUrl } from '../../../src/storage';
import { MODEL_ID, startFixture, type Fixture } from './fixture';

let fx: Fixture | undefined;

afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

function memoryStorage() {
  return { chunks: new MemoryChunkStore(), registry: new MemoryModelRegistry() };
}

describe('hasModelInCache / deleteModelAllInfoInCache', () => {
  it('see the GGUF that CreateMLCEngine stored for the id, and delete it', async () => {
    const storage = memoryStorage();
    fx = await startFixture({ storage });
    expect(await hasModelInCache(MODEL_ID, fx.appConfig, fx.cacheOptions)).toBe(false);

    const engine = await CreateMLCEngine(MODEL_ID, fx.engineConfig);
    await engine.unload();
    expect([...storage.registry.records.keys()]).toEqual([modelIdForUrl(fx.url)]);
    expect(await hasModelInCache(MODEL_ID, fx.appConfig, fx.cacheOptions)).toBe(true);

    // The wasm and chat-config helpers have nothing of their own to delete and keep the weights.
    await deleteModelWasmInCache(MODEL_ID, fx.appConfig);
    await deleteChatConfigInCache(MODEL_ID, fx.appConfig);
    expect(await hasModelInCache(MODEL_ID, fx.appConfig, fx.cacheOptions)).toBe(true);

    await deleteModelAllInfoInCache(MODEL_ID, fx.appConfig, fx.cacheOptions);
    expect(await hasModelInCache(MODEL_ID, fx.appConfig, fx.cacheOptions)).toBe(false);
    expect(storage.registry.records.size).toBe(0);
    expect(storage.chunks.chunks.size).toBe(0);
    // Deleting what is not cached is a no-op, as in WebLLM.
    await expect(deleteModelInCache(MODEL_ID, fx.appConfig, fx.cacheOptions)).resolves.toBeUndefined();
  });

  it('a partly downloaded file is not "in cache", but is deleted', async () => {
    const storage = memoryStorage();
    fx = await startFixture({ storage });
    const engine = await CreateMLCEngine(MODEL_ID, fx.engineConfig);
    await engine.unload();
    const id = modelIdForUrl(fx.url);
    storage.registry.records.get(id)!.complete = false;
    expect(await hasModelInCache(MODEL_ID, fx.appConfig, fx.cacheOptions)).toBe(false);
    await deleteModelInCache(MODEL_ID, fx.appConfig, fx.cacheOptions);
    expect(storage.registry.records.size).toBe(0);
  });

  it('prebuilt ids resolve without an appConfig; unknown ids are ModelNotFoundError', async () => {
    fx = await startFixture({ storage: memoryStorage() });
    expect(await hasModelInCache('Qwen2.5-0.5B-Instruct-q4f16_1-MLC', undefined, fx.cacheOptions)).toBe(false);
    await expect(hasModelInCache('No-Such-Model-MLC')).rejects.toMatchObject({ name: 'ModelNotFoundError', code: 'model_not_found' });
    await expect(deleteModelAllInfoInCache('No-Such-Model-MLC')).rejects.toMatchObject({ name: 'ModelNotFoundError' });
    await expect(deleteModelWasmInCache('No-Such-Model-MLC')).rejects.toMatchObject({ name: 'ModelNotFoundError' });
    await expect(deleteChatConfigInCache('No-Such-Model-MLC')).rejects.toMatchObject({ name: 'ModelNotFoundError' });
  });

  it('without browser storage (Node) nothing is cached and deleting does nothing', async () => {
    fx = await startFixture();
    const engine = await CreateMLCEngine(MODEL_ID, fx.engineConfig);
    await engine.unload();
    expect(await hasModelInCache(MODEL_ID, fx.appConfig, fx.cacheOptions)).toBe(false);
    await expect(deleteModelAllInfoInCache(MODEL_ID, fx.appConfig, fx.cacheOptions)).resolves.toBeUndefined();
  });
});
