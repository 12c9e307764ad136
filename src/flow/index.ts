// tabllm/flow — PromptFlow flows (flow.dag.yaml) and .prompty files run against the local
// engine: `runFlow` for one run, `batchRun` for a data set. `files` maps paths relative to
// the flow folder to their text (the CLI reads a folder; the browser's folder picker, a
// File list or URLs fill the same map).
import { runBatch, parseJsonl, outputRow, type BatchOptions, type BatchResult } from './batch';
import type { ConnectionOptions } from './connections';
import { FlowError } from './errors';
import { FlowFileSet, type FlowFiles } from './files';
import { loadFlow } from './load-flow';
import { PyodideRuntime, type PythonRuntime } from './python/runtime';
import { PyodideWorkerRuntime } from './python/worker-runtime';
import { executeFlow, type LineResult, type NodeStatus } from './run-flow';

export { FlowError, flowErrorJson, type FlowErrorCode } from './errors';
export type { FlowFiles } from './files';
export type { FlowConnection } from './connections';
export type { BatchLine, BatchMetrics, BatchResult } from './batch';
export type { LineResult, NodeRun, NodeStatus } from './run-flow';
export type { FlowDefinition } from './definition';
export type { PythonRuntime, PythonCall } from './python/runtime';
export { PyodideWorkerRuntime, type PyodideWorkerOptions } from './python/worker-runtime';
export { filesFromDirectoryHandle, filesFromFileList, filesFromFiles, filesFromUrl, type BrowserFlowFiles, type FlowFilesBounds } from './browser-files';
export type { ChatMessage } from './chat-parse';
export { parseChat } from './chat-parse';
export { loadFlow, parseJsonl, outputRow };

export interface FlowRunOptions extends ConnectionOptions {
  /** Which file is the flow (default: flow.dag.yaml, else the only .prompty). */
  entry?: string;
  /** The model id asked of the engine (default: the first it lists). */
  model?: string;
  /** API parameters over every LLM node's (`{ temperature: 0 }` for exact outputs). */
  llmParameters?: Readonly<Record<string, unknown>>;
  /** Python nodes' interpreter (default: Pyodide, shared in the process; in a page, in a dedicated worker). */
  python?: PythonRuntime;
  /**
   * In a page: the URL of the folder that serves `node_modules/pyodide/*` (default: where
   * Pyodide's own module is served from). Nothing is fetched from a CDN.
   */
  pyodideIndexUrl?: string;
  /** `random.seed(n)` before each Python node. */
  pythonSeed?: number;
  /** A Python node's time limit in ms (default 120 000): a loop past it fails the line with python_timeout. */
  pythonTimeoutMs?: number;
  /** Where Python nodes' prints go (default: stderr / the console). */
  pythonLog?: (text: string) => void;
  /** Each node's state as it changes: 'running', then 'completed' / 'failed', or 'bypassed'. */
  onNodeStatus?: (node: string, status: NodeStatus | 'running') => void;
  signal?: AbortSignal;
}

let defaultPython: PythonRuntime | undefined;
/** A page's Pyodide workers, one per (log target, index URL), kept for its later runs. */
const pageWorkers = new WeakMap<object, Map<string, PyodideWorkerRuntime>>();
const CONSOLE_LOG = {};

/** A page (a document and workers) gets Pyodide in a worker, so the UI never blocks; Node and workers run it in-process. */
function inPage(): boolean {
  return typeof document !== 'undefined' && typeof Worker !== 'undefined';
}

function pythonFor(options: FlowRunOptions): PythonRuntime {
  if (options.python) return options.python;
  if (inPage()) {
    const logKey = options.pythonLog ?? CONSOLE_LOG;
    let byUrl = pageWorkers.get(logKey);
    if (!byUrl) pageWorkers.set(logKey, (byUrl = new Map()));
    const url = options.pyodideIndexUrl ?? '';
    let rt = byUrl.get(url);
    if (!rt) byUrl.set(url, (rt = new PyodideWorkerRuntime({ indexURL: options.pyodideIndexUrl, log: options.pythonLog })));
    return rt;
  }
  if (options.pythonLog) return new PyodideRuntime(options.pythonLog, options.pyodideIndexUrl);
  return (defaultPython ??= new PyodideRuntime(undefined, options.pyodideIndexUrl));
}

/**
 * One run. `inputs` missing for a prompty take its `sample`, then the declared defaults.
 * Rejects with a `FlowError` (code, file, node) when the flow or a node fails.
 */
export async function runFlow(files: FlowFiles, inputs: Readonly<Record<string, unknown>> = {}, options: FlowRunOptions = {}): Promise<LineResult> {
  const def = loadFlow(new FlowFileSet(files), options.entry);
  const given = def.sample && Object.keys(inputs).length === 0 ? def.sample : inputs;
  return executeFlow(def, given, { ...options, python: pythonFor(options) });
}

/**
 * A batch run over `rows` (parsed objects, or JSONL text). A flow that does not load rejects;
 * a line that fails is reported in its `BatchLine` and the others run on.
 */
export async function batchRun(
  files: FlowFiles,
  rows: ReadonlyArray<Record<string, unknown>> | string,
  options: FlowRunOptions & BatchOptions = {},
): Promise<BatchResult> {
  const def = loadFlow(new FlowFileSet(files), options.entry);
  const data = typeof rows === 'string' ? parseJsonl(rows) : rows;
  if (!Array.isArray(data)) throw new FlowError('bad_data', 'rows must be a list of objects or JSONL text');
  return runBatch(def, data, { ...options, python: pythonFor(options) });
}
