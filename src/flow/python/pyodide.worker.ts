// The dedicated worker that runs Python nodes for a page: the same PyodideRuntime as in
// Node (shim, JSON in and out, classified errors), off the page's thread so a long node
// never blocks the UI. Protocol: worker-protocol.ts.
import { FlowError } from '../errors';
import { PyodideRuntime } from './runtime';
import type { FromPythonWorker, ToPythonWorker } from './worker-protocol';

const scope = globalThis as unknown as {
  postMessage(m: FromPythonWorker): void;
  addEventListener(type: 'message', f: (e: MessageEvent<ToPythonWorker>) => void): void;
};
const post = (m: FromPythonWorker) => scope.postMessage(m);
let runtime: PyodideRuntime | undefined;

scope.addEventListener('message', async ({ data }) => {
  if (data?.type !== 'call') return;
  runtime ??= new PyodideRuntime((text) => post({ type: 'log', text }), data.indexURL);
  const { id, call } = data;
  try {
    const value = await runtime.call({ ...call, onStart: () => post({ type: 'started', id }) });
    post({ type: 'result', id, ok: true, value });
  } catch (err) {
    const e = err instanceof FlowError ? err : new FlowError('python_node_failed', String((err as Error)?.message ?? err), { file: call.file, node: call.node });
    post({ type: 'result', id, ok: false, error: { code: e.code, detail: e.detail, file: e.file, node: e.node } });
  }
});
