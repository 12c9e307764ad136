// One tab of the shared-engine e2e: connects to the origin's SharedWorker engine host.
import { createWorkerEngine, type WorkerEngine } from '../../../src/client/worker-engine';
import type { Completion } from '../../../src/openai/engine-api';

let engine: WorkerEngine | undefined;

async function connect(modelUrl: string) {
  const shared = new SharedWorker(new URL('../../../worker/shared.worker.ts', import.meta.url), { type: 'module', name: 'tabllm-shared-test' });
  const started = performance.now();
  engine = await createWorkerEngine({ model: modelUrl, shared });
  return { loadMs: engine.loaded.loadMs, created: engine.loaded.created, connectMs: performance.now() - started };
}

async function complete(maxTokens: number) {
  const r = (await engine!.completions.create({ prompt: '', max_tokens: maxTokens, temperature: 0, return_token_ids: true })) as Completion;
  return r.choices[0]!.token_ids;
}

async function stats() {
  return engine!.stats();
}

Object.assign(window, { connect, complete, stats, pageReady: true });
