// A flow folder (or one .prompty and its folder) read into the `FlowFiles` map tabllm/flow
// runs: text files only, bounded in count and size, skipping what a flow never reads
// (.git, node_modules, __pycache__, .promptflow run records).
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { FlowError } from '../flow/errors';
import { FLOW_TEXT_FILE as TEXT_EXT, MAX_FLOW_FILE_BYTES as MAX_FILE_BYTES, MAX_FLOW_FILES as MAX_FILES, SKIP_FLOW_DIRS as SKIP_DIRS } from '../flow/files';

export interface FlowFolder {
  files: Map<string, string>;
  /** The flow file when a .prompty was named, else undefined (flow.dag.yaml). */
  entry?: string;
  dir: string;
}

export async function readFlowFolder(path: string): Promise<FlowFolder> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new FlowError('flow_file_missing', `no flow at '${path}'`);
  }
  const dir = info.isDirectory() ? path : dirname(path);
  const entry = info.isDirectory() ? undefined : basename(path);
  const files = new Map<string, string>();
  const queue = [dir];
  while (queue.length > 0) {
    const d = queue.shift()!;
    for (const e of await readdir(d, { withFileTypes: true })) {
      const full = join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) queue.push(full);
        continue;
      }
      if (!e.isFile() || !TEXT_EXT.test(e.name)) continue;
      if (files.size >= MAX_FILES) throw new FlowError('bad_flow', `the flow folder holds over ${MAX_FILES} files`);
      if ((await stat(full)).size > MAX_FILE_BYTES) continue;
      files.set(relative(dir, full).split(sep).join('/'), await readFile(full, 'utf8'));
    }
  }
  return { files, entry, dir };
}
