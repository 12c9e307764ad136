// The dedicated worker that runs Python nodes for a page: the same PyodideRuntime as in
// Node (shim, JSON in and out, classified errors), off the page's thread so a long node
// never blocks the UI. Protocol: worker-protocol.ts.
//
// Before Pyodide loads, where its files are is checked once, so a wrong setup is one clear
// `pyodide_not_found` instead of a failed fetch deep in Pyodide: the published build of this
// file (dist/worker/pyodide.worker.js, scripts/build.mjs defines __TABLLM_PYODIDE_BUNDLED__)
// carries Pyodide's code but not its data files, so it needs `pyodideIndexUrl`; a URL that
// is given must serve Pyodide's pyodide-lock.json.
import { FlowError } from '../errors';
import { PyodideRuntime } from './runtime';
import type { FromPythonWorker, ToPythonWorker } from './worker-protocol';

const scope = globalThis as unknown as {
  postMessage(m: FromPythonWorker): void;
  addEventListener(type: 'message', f: (e: MessageEvent<ToPythonWorker>) => void): void;
};
const post = (m: FromPythonWorker) => scope.postMessage(m);
let runtime: PyodideRuntime | undefined;
let located: Promise<void> | undefined;

declare const __TABLLM_PYODIDE_BUNDLED__: boolean | undefined;
/** True in the published worker: Pyodide is bundled into this file, its data files are not beside it. */
const pyodideBundled = typeof __TABLLM_PYODIDE_BUNDLED__ !== 'undefined' && __TABLLM_PYODIDE_BUNDLED__;

const COPY_HINT =
  'copy node_modules/pyodide/{pyodide.mjs,pyodide.asm.mjs,pyodide.asm.wasm,python_stdlib.zip,pyodide-lock.json} to a folder your app serves ' +
  "and pass its URL: runFlow(files, inputs, { engine, pyodideIndexUrl: '/pyodide/' })";

/** Rejects with pyodide_not_found when Pyodide's files cannot be where this worker would load them from. */
async function locatePyodide(indexURL: string | undefined): Promise<void> {
  if (indexURL === undefined) {
    if (pyodideBundled) throw new FlowError('pyodide_not_found', `Python nodes in a page need pyodideIndexUrl with the published tabllm/flow: ${COPY_HINT}`);
    return; // This repository's sources: Pyodide finds its files beside its own module.
  }
  const lock = new URL('pyodide-lock.json', new URL(indexURL.endsWith('/') ? indexURL : `${indexURL}/`, self.location.href));
  let problem: string | undefined;
  try {
    const response = await fetch(lock);
    if (!response.ok) problem = `HTTP ${response.status}`;
    else if (typeof ((await response.json()) as { packages?: unknown })?.packages !== 'object') problem = 'not a Pyodide lock file';
  } catch (err) {
    problem = (err as Error).message;
  }
  if (problem !== undefined) throw new FlowError('pyodide_not_found', `no Pyodide at pyodideIndexUrl '${indexURL}' (${lock.href}: ${problem}); ${COPY_HINT}`);
}

scope.addEventListener('message', async ({ data }) => {
  if (data?.type !== 'call') return;
  const { id, call } = data;
  try {
    located ??= locatePyodide(data.indexURL);
    await located.catch((err: FlowError) => {
      throw err.at({ file: call.file, node: call.node });
    });
    runtime ??= new PyodideRuntime((text) => post({ type: 'log', text }), data.indexURL);
    const value = await runtime.call({ ...call, onStart: () => post({ type: 'started', id }) });
    post({ type: 'result', id, ok: true, value });
  } catch (err) {
    const e = err instanceof FlowError ? err : new FlowError('python_node_failed', String((err as Error)?.message ?? err), { file: call.file, node: call.node });
    post({ type: 'result', id, ok: false, error: { code: e.code, detail: e.detail, file: e.file, node: e.node } });
  }
});
