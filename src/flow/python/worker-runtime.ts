// Python nodes for a page: a PythonRuntime that sends each call to a dedicated worker running
// Pyodide (pyodide.worker.ts), so the page never blocks while the interpreter loads (a few
// seconds) or a node runs. Errors come back with their FlowError codes. A node that outlives
// its time limit by WATCHDOG_GRACE_MS (stuck in C code, which Python's own deadline cannot
// stop) ends the worker: that call fails with python_timeout, the others in flight with
// python_unavailable, and the next call starts a fresh worker.
import { FlowError } from '../errors';
import { PYTHON_TIMEOUT_MS, type PythonCall, type PythonRuntime } from './runtime';
import type { FromPythonWorker, ToPythonWorker } from './worker-protocol';

/** Past the node's own limit, how long the worker gets before it is ended. */
export const WATCHDOG_GRACE_MS = 5_000;

export interface PyodideWorkerOptions {
  /**
   * The URL of a folder serving the `pyodide` package's files (`pyodide.mjs`, `pyodide.asm.mjs`,
   * `pyodide.asm.wasm`, `python_stdlib.zip`, `pyodide-lock.json`), e.g. `/pyodide/` when the
   * app copies `node_modules/pyodide/*` there. Default: the folder Pyodide's own module is
   * served from (works when the dev server serves node_modules unbundled).
   */
  indexURL?: string;
  /** Makes the worker (default: defaultPyodideWorker, this folder's pyodide.worker.ts). */
  createWorker?: () => Worker;
  /** Where nodes' prints go (default: the console). */
  log?: (text: string) => void;
}

interface Pending {
  call: PythonCall;
  resolve(value: unknown): void;
  reject(err: FlowError): void;
  timer?: ReturnType<typeof setTimeout>;
}

export function defaultPyodideWorker(): Worker {
  return new Worker(new URL('./pyodide.worker.ts', import.meta.url), { type: 'module', name: 'tabllm-pyodide' });
}

export class PyodideWorkerRuntime implements PythonRuntime {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly options: PyodideWorkerOptions = {}) {}

  call(call: PythonCall): Promise<unknown> {
    const { onStart: _notCloneable, ...plain } = call;
    const worker = this.ensureWorker(call);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { call, resolve, reject });
      const msg: ToPythonWorker = { type: 'call', id, call: plain, indexURL: this.options.indexURL };
      try {
        worker.postMessage(msg);
      } catch (err) {
        this.pending.delete(id);
        reject(new FlowError('python_node_failed', `the node's inputs cannot be sent to the Python worker: ${(err as Error).message}`, { file: call.file, node: call.node }));
      }
    });
  }

  /** Ends the worker; calls in flight fail with python_unavailable. */
  terminate(): void {
    this.fail('python_unavailable', 'the Python worker was terminated');
  }

  private ensureWorker(call: PythonCall): Worker {
    if (this.worker) return this.worker;
    let worker: Worker;
    try {
      worker = (this.options.createWorker ?? defaultPyodideWorker)();
    } catch (err) {
      throw new FlowError('python_unavailable', `the Python worker could not start: ${(err as Error).message}`, { file: call.file, node: call.node });
    }
    worker.addEventListener('message', (e: MessageEvent<FromPythonWorker>) => this.onMessage(e.data));
    // A worker script that does not load (404, syntax) reports here and nowhere else.
    worker.addEventListener('error', (e: ErrorEvent) => {
      e.preventDefault?.();
      this.fail('python_unavailable', `the Python worker failed: ${e.message || 'its script did not load'}`);
    });
    worker.addEventListener('messageerror', () => this.fail('python_unavailable', 'a message from the Python worker could not be read'));
    return (this.worker = worker);
  }

  private onMessage(m: FromPythonWorker): void {
    if (m.type === 'log') return (this.options.log ?? ((t: string) => console.log(t)))(m.text);
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.type === 'started') {
      const limitMs = (p.call.timeoutMs ?? PYTHON_TIMEOUT_MS) + WATCHDOG_GRACE_MS;
      p.timer = setTimeout(() => this.stuck(m.id), limitMs);
      return;
    }
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.value);
    else p.reject(new FlowError(m.error.code, m.error.detail, { file: m.error.file, node: m.error.node }));
  }

  private stuck(id: number): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.reject(new FlowError('python_timeout', `the node ran past ${(p.call.timeoutMs ?? PYTHON_TIMEOUT_MS) / 1000} s and its worker was ended`, { file: p.call.file, node: p.call.node }));
    this.fail('python_unavailable', 'the Python worker was ended because another node was stuck');
  }

  private fail(code: 'python_unavailable', message: string): void {
    this.worker?.terminate();
    this.worker = undefined;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(new FlowError(code, message, { file: p.call.file, node: p.call.node }));
    }
  }
}
