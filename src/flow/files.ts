// The files of a flow: a map from a path relative to the flow folder to its text. The CLI
// reads a folder into it; the browser's folder picker, a File list or fetched URLs can fill
// the same map later. Paths are normalized once here (`./a/../b.py` → `b.py`).
import { FlowError } from './errors';

/** Bounds on a flow folder read from disk, a picked folder, a File list or URLs. */
export const MAX_FLOW_FILES = 2000;
export const MAX_FLOW_FILE_BYTES = 4 << 20;
/** What a flow never reads (and what can be huge): VCS, packages, caches, run records. */
export const SKIP_FLOW_DIRS: ReadonlySet<string> = new Set(['.git', 'node_modules', '__pycache__', '.promptflow', '.runs', '.venv']);
/** The text files a flow may read; anything else (images, wheels) is left out. */
export const FLOW_TEXT_FILE = /\.(ya?ml|jinja2?|j2|prompty|py|json|jsonl|txt|md|csv|tsv)$/i;

export type FlowFiles = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export class FlowFileSet {
  private readonly byPath = new Map<string, string>();

  constructor(files: FlowFiles) {
    const entries = files instanceof Map ? [...files.entries()] : Object.entries(files as Record<string, string>);
    for (const [path, text] of entries) this.byPath.set(normalizePath(path), text);
  }

  paths(): string[] {
    return [...this.byPath.keys()];
  }

  has(path: string): boolean {
    return this.byPath.has(normalizePath(path));
  }

  /** The text at `path`, resolved against `base` (a file in the set) — a coded error when absent. */
  read(path: string, ctx: { file?: string; node?: string; code?: 'flow_file_missing' | 'source_file_missing' } = {}): string {
    const key = normalizePath(path);
    const text = this.byPath.get(key);
    if (text === undefined) throw new FlowError(ctx.code ?? 'source_file_missing', `file '${path}' is not in the flow folder`, { file: ctx.file, node: ctx.node });
    return text;
  }
}

/** `./x/../y.jinja2` → `y.jinja2`; backslashes as slashes; a path out of the folder keeps its `..`. */
export function normalizePath(path: string): string {
  const out: string[] = [];
  for (const part of path.replace(/\\/g, '/').split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

/** The folder of a file path (`a/b.prompty` → `a`, `b.prompty` → ``). */
export function dirOf(path: string): string {
  const p = normalizePath(path);
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}

export function joinPath(dir: string, path: string): string {
  return normalizePath(dir ? `${dir}/${path}` : path);
}
