// The demo's engine worker. Unlike the library's plain worker (worker/engine.worker.ts), it
// first puts the model through `loadModel` here in the worker, so a URL is downloaded once
// into browser storage (OPFS / Cache API) with progress, and later loads read it from disk.
//
// Worker name 'tabllm-demo-fake' (the page's ?fake=1) swaps the WebGPU runner for the
// deterministic fake runner of the engine tests, to work on the UI without a GPU.
import { hostEngine } from '../src/client/host';
import { createEngine, type LoadProgress } from '../src/create-engine';
import type { SourceInput } from '../src/model/gguf/source';
import { loadModel, type StorageProgress } from '../src/storage';
import { FakeRunner } from '../src/testing/fake-runner';
import type { DemoLoadOptions } from './progress';

const fake = (globalThis as unknown as { name?: string }).name === 'tabllm-demo-fake';

hostEngine(globalThis as unknown as Worker, async (options, onProgress) => {
  const { model, modelId, ...rest } = options as DemoLoadOptions;
  // The host relays progress objects as they are: storage stages ride the same channel as
  // the engine's own ('header' | 'weights' | 'ready'); the page tells them apart by stage.
  const relay = (p: StorageProgress) => onProgress(p as unknown as LoadProgress);
  const loaded = await loadModel(model, { onProgress: relay });
  const source: SourceInput = loaded.source;
  return createEngine({
    ...rest,
    model: source,
    // The file name names the model (stories260K's own general.name is just 'llama').
    modelId: modelId ?? loaded.id.replace(/-[0-9a-f]{8}$/, '').replace(/-local-\d+$/, '').replace(/\.gguf$/i, ''),
    onProgress,
    // Fake mode: a model loaded as 'embed…' (the RAG flow's) gets the fake embedding runner.
    createRunner: fake
      ? async ({ config, modelId }) =>
        modelId?.startsWith('embed')
          ? new FakeRunner({ vocabSize: config.vocabSize, contextLength: config.contextLength, numKvBlocks: 2, embeddingDim: 64 })
          : new FakeRunner({ vocabSize: config.vocabSize, contextLength: config.contextLength, numKvBlocks: 512 })
      : undefined,
  });
});
