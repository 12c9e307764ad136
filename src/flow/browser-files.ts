// Fills the `FlowFiles` map in a browser: from a folder the user picked (File System Access
// `FileSystemDirectoryHandle`), a `FileList` from `<input type="file" webkitdirectory>`, a list
// of `File`s, or URLs (a flow's base URL: the flow file, then every file it references, found
// by loading the flow with the files fetched so far). The same bounds as the CLI's folder
// reader (files.ts): text files only, skipped folders, at most MAX_FLOW_FILES files of at most
// MAX_FLOW_FILE_BYTES each — past them, `flow_too_large` naming the file.
import { FlowError } from './errors';
import { FLOW_TEXT_FILE, FlowFileSet, MAX_FLOW_FILE_BYTES, MAX_FLOW_FILES, SKIP_FLOW_DIRS, normalizePath } from './files';
import { loadFlow } from './load-flow';

export interface BrowserFlowFiles {
  files: Map<string, string>;
  /** The flow file, when one was named (a .prompty URL); else runFlow finds it. */
  entry?: string;
}

export interface FlowFilesBounds {
  maxFiles?: number;
  maxFileBytes?: number;
}

/** What the adapters read: a `File`, or anything with a name, a size and text(). */
export interface FileLike {
  readonly name: string;
  readonly size: number;
  readonly webkitRelativePath?: string;
  text(): Promise<string>;
}

/** The parts of `FileSystemDirectoryHandle` read here (typed apart: TS's DOM lib lacks values()). */
export interface DirectoryHandleLike {
  readonly kind: 'directory';
  readonly name: string;
  values(): AsyncIterable<DirectoryHandleLike | { readonly kind: 'file'; readonly name: string; getFile(): Promise<FileLike> }>;
}

class Collector {
  readonly files = new Map<string, string>();
  private readonly maxFiles: number;
  private readonly maxFileBytes: number;

  constructor(bounds: FlowFilesBounds) {
    this.maxFiles = bounds.maxFiles ?? MAX_FLOW_FILES;
    this.maxFileBytes = bounds.maxFileBytes ?? MAX_FLOW_FILE_BYTES;
  }

  /** Whether a path is one a flow reads (a text file outside the skipped folders). */
  wanted(path: string): boolean {
    const parts = normalizePath(path).split('/');
    return FLOW_TEXT_FILE.test(parts[parts.length - 1]!) && !parts.slice(0, -1).some((d) => SKIP_FLOW_DIRS.has(d));
  }

  /** Checks the bounds before `read` runs, so an over-large file is never read into memory. */
  async add(path: string, sizeBytes: number | undefined, read: () => Promise<string>): Promise<void> {
    const key = normalizePath(path);
    if (key === '' || key.startsWith('..')) throw new FlowError('bad_flow', `the path '${path}' is outside the flow folder`, { file: path });
    if (this.files.size >= this.maxFiles) throw new FlowError('flow_too_large', `the flow holds over ${this.maxFiles} files`, { file: key });
    this.checkSize(key, sizeBytes);
    const text = await read();
    // A server may not say the size up front; the text read is checked again (UTF-16 units ≤ bytes).
    this.checkSize(key, text.length);
    this.files.set(key, text);
  }

  private checkSize(path: string, sizeBytes: number | undefined): void {
    if (sizeBytes !== undefined && sizeBytes > this.maxFileBytes) {
      throw new FlowError('flow_too_large', `the file is ${sizeBytes} bytes, over the ${this.maxFileBytes}-byte bound`, { file: path });
    }
  }
}

/**
 * Files picked with `<input type="file" webkitdirectory>` (paths from `webkitRelativePath`,
 * less the picked folder's own name) or plain `File`s (paths = their names).
 */
export async function filesFromFiles(list: Iterable<FileLike> | ArrayLike<FileLike>, bounds: FlowFilesBounds = {}): Promise<BrowserFlowFiles> {
  const c = new Collector(bounds);
  for (const f of Array.from(list as ArrayLike<FileLike>)) {
    const rel = f.webkitRelativePath ? f.webkitRelativePath.split('/').slice(1).join('/') : f.name;
    if (!c.wanted(rel)) continue;
    await c.add(rel, f.size, () => f.text());
  }
  return { files: c.files };
}

/** A `FileList` from `<input type="file" webkitdirectory>` (or `multiple`). */
export function filesFromFileList(list: FileList | ArrayLike<FileLike>, bounds: FlowFilesBounds = {}): Promise<BrowserFlowFiles> {
  return filesFromFiles(list as ArrayLike<FileLike>, bounds);
}

/** A folder from `showDirectoryPicker()`, walked breadth-first with an explicit queue. */
export async function filesFromDirectoryHandle(root: DirectoryHandleLike | FileSystemDirectoryHandle, bounds: FlowFilesBounds = {}): Promise<BrowserFlowFiles> {
  const c = new Collector(bounds);
  const queue: Array<[DirectoryHandleLike, string]> = [[root as unknown as DirectoryHandleLike, '']];
  while (queue.length > 0) {
    const [dir, prefix] = queue.shift()!;
    for await (const entry of dir.values()) {
      const path = prefix + entry.name;
      if (entry.kind === 'directory') {
        if (!SKIP_FLOW_DIRS.has(entry.name)) queue.push([entry, `${path}/`]);
        continue;
      }
      if (!c.wanted(path)) continue;
      const file = await entry.getFile();
      await c.add(path, file.size, () => file.text());
    }
  }
  return { files: c.files };
}

export interface FlowUrlOptions extends FlowFilesBounds {
  /** The flow file under the base URL (default `flow.dag.yaml`; a `.prompty` works too). */
  entry?: string;
  /** Files no reference names that the flow still reads (a Python helper module: `utils.py`). */
  extraFiles?: readonly string[];
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/**
 * A flow served under `baseUrl` (e.g. `/flows/chat-basic/`): the flow file, then each file
 * loading the flow finds missing (node sources, `${file:…}` samples), until it loads or a
 * file is not there (`source_file_missing` / `flow_file_missing`, naming it).
 */
export async function filesFromUrl(baseUrl: string | URL, options: FlowUrlOptions = {}): Promise<BrowserFlowFiles> {
  const base = new URL(String(baseUrl).endsWith('/') ? String(baseUrl) : `${String(baseUrl)}/`, globalThis.location?.href);
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const c = new Collector(options);
  const entry = normalizePath(options.entry ?? 'flow.dag.yaml');
  const get = async (path: string, code: 'flow_file_missing' | 'source_file_missing') => {
    let res: Response;
    try {
      res = await doFetch(new URL(path, base).href, { signal: options.signal });
    } catch (err) {
      throw new FlowError(code, `'${path}' could not be fetched from ${base.href}: ${(err as Error).message}`, { file: path });
    }
    if (!res.ok) throw new FlowError(code, `'${path}' is not at ${base.href} (HTTP ${res.status})`, { file: path });
    const length = res.headers.get('content-length');
    await c.add(path, length === null ? undefined : Number(length), () => res.text());
  };
  await get(entry, 'flow_file_missing');
  for (const extra of options.extraFiles ?? []) await get(extra, 'source_file_missing');
  // Each pass fetches the files the last load found missing; the file bound ends the loop.
  for (;;) {
    const set = new MissingRecorder(c.files);
    try {
      loadFlow(set, entry);
      return { files: c.files, entry: entry === 'flow.dag.yaml' ? undefined : entry };
    } catch (err) {
      const missing = set.missing.filter((p) => !c.files.has(p));
      if (missing.length === 0) throw err;
      for (const path of missing) await get(path, 'source_file_missing');
    }
  }
}

/** A FlowFileSet that notes each path read and not there. */
class MissingRecorder extends FlowFileSet {
  readonly missing: string[] = [];

  override read(path: string, ctx?: Parameters<FlowFileSet['read']>[1]): string {
    if (!this.has(path)) this.missing.push(normalizePath(path));
    return super.read(path, ctx);
  }
}
