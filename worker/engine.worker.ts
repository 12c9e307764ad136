// Dedicated-worker host for a tabllm engine (`tabllm/worker`). The page side is
// `createWorkerEngine()` in src/client/. Until the engine lands, the worker only
// answers a version handshake so hosts can detect it.
import { VERSION } from '../src/index';

const scope = globalThis as unknown as { onmessage: ((e: MessageEvent) => void) | null; postMessage(m: unknown): void };
scope.onmessage = (e: MessageEvent) => {
  if (e.data?.type === 'tabllm:hello') scope.postMessage({ type: 'tabllm:hello', version: VERSION });
};
