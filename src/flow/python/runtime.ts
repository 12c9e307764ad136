// Python nodes on Pyodide, in-process: one interpreter per process, loaded on the first
// Python node (about 3 s in Node, offline from node_modules), with the promptflow shim on
// its path. Inputs go in and the output comes back as JSON, so no Python object outlives a
// call. Errors come back classified (syntax, missing package, no @tool, exception) and are
// turned into FlowErrors naming the file, the node and, for a package, its name.
import { FlowError } from '../errors';
import { RUNNER_PY, SHIM_FILES } from './promptflow-shim';

export interface PythonCall {
  file: string;
  source: string;
  /** The function to call; default: the file's single `@tool` function. */
  functionName?: string;
  inputs: Record<string, unknown>;
  /** The flow folder's .py files, importable by the node (`from utils import x`). */
  moduleFiles?: Readonly<Record<string, string>>;
  /** `random.seed(seed)` before the call (reproducible runs of nodes that draw). */
  seed?: number;
  /** How long the node may run (default PYTHON_TIMEOUT_MS). */
  timeoutMs?: number;
  node: string;
  /** Called once the interpreter is loaded, as the node's code starts (the worker's watchdog starts then). */
  onStart?: () => void;
}

/** PromptFlow's default line timeout is 600 s; a Python node gets a fifth of it. */
export const PYTHON_TIMEOUT_MS = 120_000;

/** What the executor needs; tests may pass another. */
export interface PythonRuntime {
  call(call: PythonCall): Promise<unknown>;
}

interface Pyodide {
  FS: { mkdirTree(path: string): void; writeFile(path: string, data: string): void };
  runPython(code: string): unknown;
  globals: { get(name: string): (...args: unknown[]) => unknown };
}

const SITE = '/tabllm/site';
let shared: Promise<Pyodide> | undefined;

async function loadShared(log: (text: string) => void, indexURL: string | undefined): Promise<Pyodide> {
  let mod: { loadPyodide: (opts: Record<string, unknown>) => Promise<Pyodide> };
  try {
    mod = (await import('pyodide')) as unknown as typeof mod;
  } catch (err) {
    throw new FlowError('python_unavailable', `Pyodide could not be imported (${(err as Error).message})`);
  }
  // Without indexURL Pyodide finds its files beside its own module (node_modules/pyodide in
  // Node, or wherever the page's server serves pyodide.mjs from).
  const py = await mod.loadPyodide({ stdout: log, stderr: log, ...(indexURL ? { indexURL } : {}) });
  for (const [path, text] of Object.entries(SHIM_FILES)) {
    py.FS.mkdirTree(`${SITE}/${path.slice(0, path.lastIndexOf('/'))}`);
    py.FS.writeFile(`${SITE}/${path}`, text);
  }
  py.runPython(`import sys\nsys.path.insert(0, ${JSON.stringify(SITE)})\n${RUNNER_PY}`);
  return py;
}

interface CallResult {
  ok: boolean;
  value?: unknown;
  kind?: 'syntax' | 'package' | 'load' | 'no_tool' | 'async' | 'run' | 'output' | 'timeout';
  type?: string;
  name?: string | null;
  message?: string;
  lineno?: number | null;
  count?: number;
}

export class PyodideRuntime implements PythonRuntime {
  private readonly moduleIds = new Map<string, number>();
  /** One folder in Pyodide's file system per distinct set of flow .py files. */
  private readonly flowDirs = new Map<string, string>();

  /**
   * `log` gets what nodes print (default: stderr in Node, the console elsewhere — never the
   * CLI's stdout). `indexURL`: the folder serving `node_modules/pyodide/*` (the first runtime
   * to load the shared interpreter decides).
   */
  constructor(
    private readonly log: (text: string) => void = (t) => console.error(t),
    private readonly indexURL?: string,
  ) {}

  async call(c: PythonCall): Promise<unknown> {
    if (!shared) {
      shared = loadShared(this.log, this.indexURL);
      shared.catch(() => (shared = undefined));
    }
    let py: Pyodide;
    try {
      py = await shared;
    } catch (err) {
      if (err instanceof FlowError) throw err.at({ file: c.file, node: c.node });
      throw new FlowError('python_unavailable', `Pyodide failed to load: ${(err as Error).message}`, { file: c.file, node: c.node });
    }
    const flowDir = c.moduleFiles && Object.keys(c.moduleFiles).length > 0 ? this.flowDir(py, c.moduleFiles) : undefined;
    const cacheKey = `${flowDir ?? ''}\0${c.file}\0${c.source}`;
    let id = this.moduleIds.get(cacheKey);
    if (id === undefined) this.moduleIds.set(cacheKey, (id = nextModuleId++));
    const fn = py.globals.get('_tabllm_call');
    c.onStart?.();
    let out: CallResult;
    try {
      // `undefined` arrives as None (a JS null would arrive as pyodide's jsnull).
      out = JSON.parse(fn(id, c.file, c.source, c.functionName, JSON.stringify(c.inputs), c.seed, flowDir, (c.timeoutMs ?? PYTHON_TIMEOUT_MS) / 1000) as string) as CallResult;
    } catch (err) {
      throw new FlowError('python_node_failed', `the Python runner failed: ${(err as Error).message.split('\n').slice(-2).join(' ')}`, { file: c.file, node: c.node });
    }
    if (out.ok) return out.value ?? null;
    throw pythonError(out, c);
  }

  private flowDir(py: Pyodide, files: Readonly<Record<string, string>>): string {
    const key = JSON.stringify(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : 1)));
    let dir = this.flowDirs.get(key);
    if (dir === undefined) {
      dir = `/tabllm/flows/${nextFlowDir++}`;
      for (const [path, text] of Object.entries(files)) {
        const slash = path.lastIndexOf('/');
        py.FS.mkdirTree(slash < 0 ? dir : `${dir}/${path.slice(0, slash)}`);
        py.FS.writeFile(`${dir}/${path}`, text);
      }
      this.flowDirs.set(key, dir);
    }
    return dir;
  }
}

/** Module ids are process-wide: the interpreter (and its module cache) is shared by every runtime. */
let nextModuleId = 1;
let nextFlowDir = 1;

function pythonError(out: CallResult, c: PythonCall): FlowError {
  const where = { file: c.file, node: c.node };
  const line = out.lineno ? ` (line ${out.lineno})` : '';
  switch (out.kind) {
    case 'syntax':
      return new FlowError('python_syntax_error', `Python syntax error${line}: ${out.message}`, where);
    case 'package': {
      const pkg = (out.name ?? /'([^']+)'/.exec(out.message ?? '')?.[1] ?? '?').split('.')[0];
      return new FlowError('python_package_missing', `the Python package '${pkg}' is not available in Pyodide (${out.message})`, where);
    }
    case 'no_tool':
      return new FlowError(
        'python_tool_not_found',
        c.functionName ? `no function '${c.functionName}' in the file` : `the file must define exactly one @tool function (found ${out.count})`,
        where,
      );
    case 'timeout':
      return new FlowError('python_timeout', `${out.message} and was stopped`, where);
    case 'async':
      return new FlowError('python_node_failed', 'async @tool functions are not supported yet', where);
    case 'output':
      return new FlowError('python_node_failed', `the node's output is not JSON-serializable: ${out.message}`, where);
    default:
      return new FlowError('python_node_failed', `${out.type}${line}: ${out.message}`, where);
  }
}
