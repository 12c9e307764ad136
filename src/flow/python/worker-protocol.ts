// The messages between a page and the Pyodide worker (pyodide.worker.ts). One call in
// flight per id; errors cross as plain objects with their FlowError code, file and node, so
// the page rethrows the same coded error the in-process runtime throws.
import type { FlowErrorCode } from '../errors';
import type { PythonCall } from './runtime';

export type ToPythonWorker = {
  type: 'call';
  id: number;
  call: PythonCall;
  /** Where the page serves `node_modules/pyodide/*` (default: beside Pyodide's own module). */
  indexURL?: string;
};

export type FromPythonWorker =
  /** What a node printed. */
  | { type: 'log'; text: string }
  /** The interpreter is loaded and this call's Python code starts now. */
  | { type: 'started'; id: number }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: { code: FlowErrorCode; detail: string; file?: string; node?: string } };
