// The worker boundary with several models: a MultiEngine (two fake-runner models) hosted over
// a MessageChannel, as createWorkerEngine's worker hosts it. Embeddings cross it with their
// vectors intact and their abort; info(model), loadModel and unloadModel reach the engine.
import { afterEach, describe, expect, it } from 'vitest';
import { hostEngine } from '../../../src/client/host';
import { RemoteEngine } from '../../../src/client/remote-engine';
import { EngineError } from '../../../src/engine/errors';
import { CHAT_ID, EMBED_ID, fakeEmbedEngine, STORIES_GGUF } from '../../helpers/fake-embed-engine';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function connect() {
  const { engine } = await fakeEmbedEngine();
  const { port1, port2 } = new MessageChannel();
  hostEngine(port2, async () => engine, engine);
  const remote = RemoteEngine.connect(port1);
  cleanups.push(async () => {
    port1.close();
    port2.close();
    await engine.destroy();
  });
  return { remote, engine };
}

describe('RemoteEngine with several models', () => {
  it('embeddings.create answers the same vectors as the engine in the worker', async () => {
    const { remote, engine } = await connect();
    const params = { model: EMBED_ID, input: ['one', 'two three'] };
    expect(await remote.embeddings.create(params)).toEqual(await engine.embeddings.create(params));
  });

  it('errors keep their class and code: a chat model asked to embed', async () => {
    const { remote } = await connect();
    const err = await remote.embeddings.create({ model: CHAT_ID, input: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ code: 'model_cannot_embed', param: 'model' });
  });

  it('an abort reaches the worker and rejects the call with aborted', async () => {
    const { remote } = await connect();
    const controller = new AbortController();
    const pending = remote.embeddings.create({ model: EMBED_ID, input: Array.from({ length: 2048 }, (_, i) => `text ${i}`) }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 0);
    await expect(pending).rejects.toMatchObject({ code: 'aborted' });
  });

  it('info(model), loadModel and unloadModel cross the boundary', async () => {
    const { remote } = await connect();
    expect((await remote.info(EMBED_ID)).task).toBe('embed');
    expect((await remote.info()).id).toBe(CHAT_ID);
    expect(await remote.loadModel({ model: STORIES_GGUF, modelId: 'embed-late' })).toMatchObject({ id: 'embed-late', task: 'embed' });
    await remote.unloadModel(EMBED_ID);
    expect((await remote.models.list()).data.map((m) => m.id)).toEqual([CHAT_ID, 'embed-late']);
    await expect(remote.embeddings.create({ model: EMBED_ID, input: 'x' })).rejects.toMatchObject({ code: 'model_not_found' });
  });
});
