// PyodideWorkerRuntime (the page's side of the Pyodide worker) over a scripted fake Worker:
// results and FlowErrors cross with their codes, a worker that fails to load fails the calls
// in flight with python_unavailable, and a node stuck past its limit ends the worker.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FlowError } from '../../../src/flow';
import { PyodideWorkerRuntime, WATCHDOG_GRACE_MS } from '../../../src/flow/python/worker-runtime';
import type { FromPythonWorker, ToPythonWorker } from '../../../src/flow/python/worker-protocol';

class FakeWorker extends EventTarget {
  readonly sent: ToPythonWorker[] = [];
  terminated = false;
  constructor(private readonly answer: (m: ToPythonWorker, w: FakeWorker) => void) {
    super();
  }
  postMessage(m: ToPythonWorker): void {
    this.sent.push(structuredClone(m));
    queueMicrotask(() => this.answer(m, this));
  }
  reply(m: FromPythonWorker): void {
    this.dispatchEvent(new MessageEvent('message', { data: m }));
  }
  terminate(): void {
    this.terminated = true;
  }
}

const CALL = { file: 'n.py', source: 'x', inputs: { a: 1 }, node: 'n' };

function runtime(answer: (m: ToPythonWorker, w: FakeWorker) => void) {
  const workers: FakeWorker[] = [];
  const rt = new PyodideWorkerRuntime({ indexURL: '/py/', createWorker: () => (workers.push(new FakeWorker(answer)), workers.at(-1) as unknown as Worker) });
  return { rt, workers };
}

afterEach(() => vi.useRealTimers());

describe('PyodideWorkerRuntime', () => {
  it('sends the call with the index URL (no functions), returns the value, passes logs on', async () => {
    const logs: string[] = [];
    const w = new FakeWorker((m, w) => {
      w.reply({ type: 'log', text: 'hello' });
      w.reply({ type: 'started', id: m.id });
      w.reply({ type: 'result', id: m.id, ok: true, value: { got: (m.call.inputs as { a: number }).a + 1 } });
    });
    const rt = new PyodideWorkerRuntime({ indexURL: '/py/', createWorker: () => w as unknown as Worker, log: (t) => logs.push(t) });
    expect(await rt.call({ ...CALL, onStart: () => {} })).toEqual({ got: 2 });
    expect(w.sent[0]).toMatchObject({ type: 'call', indexURL: '/py/', call: { file: 'n.py', node: 'n' } });
    expect(w.sent[0]!.call).not.toHaveProperty('onStart');
    expect(logs).toEqual(['hello']);
  });

  it('a FlowError from the worker comes back as a FlowError with its code, file and node', async () => {
    const { rt } = runtime((m, w) => w.reply({ type: 'result', id: m.id, ok: false, error: { code: 'python_package_missing', detail: "the Python package 'numpy' is not available", file: 'n.py', node: 'n' } }));
    const err = await rt.call(CALL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FlowError);
    expect(err).toMatchObject({ code: 'python_package_missing', file: 'n.py', node: 'n', message: expect.stringContaining("'numpy'") });
  });

  it('a worker whose script does not load: python_unavailable, and the next call starts a new worker', async () => {
    let first = true;
    const { rt, workers } = runtime((m, w) => {
      if (first) {
        first = false;
        w.dispatchEvent(Object.assign(new Event('error'), { message: 'Failed to fetch' }));
      } else w.reply({ type: 'result', id: m.id, ok: true, value: 7 });
    });
    await expect(rt.call(CALL)).rejects.toMatchObject({ code: 'python_unavailable', node: 'n', message: expect.stringContaining('Failed to fetch') });
    expect(workers[0]!.terminated).toBe(true);
    expect(await rt.call(CALL)).toBe(7);
    expect(workers).toHaveLength(2);
  });

  it('a node stuck past its limit (+ grace) ends the worker: python_timeout for it, python_unavailable for the others', async () => {
    vi.useFakeTimers();
    const { rt, workers } = runtime((m, w) => w.reply({ type: 'started', id: m.id }));
    const stuck = rt.call({ ...CALL, timeoutMs: 1000 }).catch((e: unknown) => e);
    const other = rt.call({ ...CALL, node: 'm', timeoutMs: 60_000 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(1000 + WATCHDOG_GRACE_MS - 1);
    expect(workers[0]!.terminated).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(await stuck).toMatchObject({ code: 'python_timeout', node: 'n' });
    expect(await other).toMatchObject({ code: 'python_unavailable', node: 'm' });
    expect(workers[0]!.terminated).toBe(true);
  });

  it('inputs that cannot be cloned: python_node_failed, not a hang', async () => {
    const { rt } = runtime(() => {});
    const w = rt as unknown as { call: PyodideWorkerRuntime['call'] };
    const bad = { ...CALL, inputs: { f: () => 1 } as unknown as Record<string, unknown> };
    // The fake clones like postMessage does.
    await expect(w.call(bad)).rejects.toMatchObject({ code: 'python_node_failed', node: 'n' });
  });
});
