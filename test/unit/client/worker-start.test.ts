// createWorkerEngine's start-up check: a worker that fails to load, throws, or never answers
// rejects with `worker_failed` naming the script, instead of a promise that never settles.
import { describe, expect, it } from 'vitest';
import { hostEngine } from '../../../src/client/host';
import { createWorkerEngine } from '../../../src/client/worker-engine';
import type { Engine } from '../../../src/openai/engine-api';
import { EngineError } from '../../../src/engine/errors';

/** A Worker whose script never runs: messages go nowhere; the test fires its events. */
class DeadWorker extends EventTarget {
  terminated = false;
  postMessage(): void {}
  terminate(): void {
    this.terminated = true;
  }
}

async function rejection(p: Promise<unknown>): Promise<EngineError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(EngineError);
  return err as EngineError;
}

const INFO = { id: 'm', contextLength: 8, hasChatTemplate: false, created: 0, arch: 'llama', quant: 'F32' };

describe('createWorkerEngine start-up', () => {
  it("a worker whose script fails to load (its 'error' event) rejects worker_failed at once", async () => {
    const worker = new DeadWorker();
    const p = createWorkerEngine({ model: 'm.gguf', worker: worker as unknown as Worker, startTimeoutMs: 60_000 });
    worker.dispatchEvent(new Event('error'));
    const err = await rejection(p);
    expect(err.code).toBe('worker_failed');
    expect(err.message).toMatch(/the worker given in options\.worker failed .*404/);
  });

  it('a worker that never answers the ping rejects worker_failed after the start timeout', async () => {
    const worker = new DeadWorker();
    const err = await rejection(createWorkerEngine({ model: 'm.gguf', worker: worker as unknown as Worker, startTimeoutMs: 50 }));
    expect(err.code).toBe('worker_failed');
    expect(err.message).toMatch(/did not answer within 50 ms/);
  });

  it('a messageerror rejects worker_failed', async () => {
    const worker = new DeadWorker();
    const p = createWorkerEngine({ model: 'm.gguf', worker: worker as unknown as Worker, startTimeoutMs: 60_000 });
    worker.dispatchEvent(new Event('messageerror'));
    expect((await rejection(p)).code).toBe('worker_failed');
  });

  it('a live host answers the ping, then loads with no time limit; a crash during load is worker_failed', async () => {
    const { port1, port2 } = new MessageChannel();
    let finishLoad!: () => void;
    const slowLoad = new Promise<void>((r) => (finishLoad = r));
    hostEngine(port2, async () => {
      await slowLoad;
      return { info: async () => INFO } as unknown as Engine;
    });
    // The load outlasts the start timeout: only the ping is timed.
    const p = createWorkerEngine({ model: 'm.gguf', worker: port1 as unknown as Worker, startTimeoutMs: 20 });
    await new Promise((r) => setTimeout(r, 100));
    finishLoad();
    const engine = await p;
    expect(engine.loaded.id).toBe('m');

    const other = new MessageChannel();
    hostEngine(other.port2, () => new Promise(() => {}));
    const crashing = createWorkerEngine({ model: 'm.gguf', worker: other.port1 as unknown as Worker, startTimeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 50));
    other.port1.dispatchEvent(new Event('error'));
    expect((await rejection(crashing)).code).toBe('worker_failed');
    port1.close();
    other.port1.close();
  });
});
