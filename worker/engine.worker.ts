// Dedicated-worker host for a tabllm engine (`tabllm/worker`). The page side is
// `createWorkerEngine()`: it calls load() with createEngine's options, then talks to the
// engine over comlink; streams use one MessagePort per request.
import { hostEngine } from '../src/client/host';
import { createEngine } from '../src/create-engine';

hostEngine(globalThis as unknown as Worker, (options, onProgress) =>
  createEngine({ ...(options as Parameters<typeof createEngine>[0]), onProgress }),
);
