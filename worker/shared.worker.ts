// SharedWorker host: every tab of the origin that connects shares one engine (one copy of
// the weights on the GPU, one KV cache, one batch). The first load() loads the model; a
// later load() of the same model reuses it; a different model replaces it for everyone.
import { hostEngine, type EngineFactory } from '../src/client/host';
import { createEngine } from '../src/create-engine';
import type { MultiEngine } from '../src/openai/multi-engine';

let current: { key: string; engine: Promise<MultiEngine> } | undefined;

const factory: EngineFactory = async (options, onProgress) => {
  const opts = options as Parameters<typeof createEngine>[0];
  const key = JSON.stringify(opts);
  if (current?.key !== key) {
    const previous = current;
    current = { key, engine: createEngine({ ...opts, onProgress }) };
    void previous?.engine.then((e) => e.destroy()).catch(() => {});
  }
  const engine = await current.engine;
  // Each tab's host calls destroy() on unload/reload; the shared engine outlives tabs.
  return Object.assign(Object.create(engine) as MultiEngine, { destroy: async () => {} });
};

(globalThis as unknown as { onconnect: (e: MessageEvent) => void }).onconnect = (e: MessageEvent) => {
  const port = e.ports[0]!;
  hostEngine(port, factory);
  port.start();
};
