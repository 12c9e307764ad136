// Which file of a flow folder is the flow: `entry` when given, else flow.dag.yaml, else the
// folder's only .prompty file; then the matching parser.
import type { FlowDefinition } from './definition';
import { FLOW_DAG_FILE, parseDagFlow } from './dag-parse';
import { FlowError } from './errors';
import { FlowFileSet, normalizePath, type FlowFiles } from './files';
import { parsePrompty } from './prompty-parse';

export function loadFlow(files: FlowFiles | FlowFileSet, entry?: string): FlowDefinition {
  const set = files instanceof FlowFileSet ? files : new FlowFileSet(files);
  let file = entry === undefined ? undefined : normalizePath(entry);
  if (file === undefined) {
    if (set.has(FLOW_DAG_FILE)) file = FLOW_DAG_FILE;
    else {
      const prompties = set.paths().filter((p) => p.endsWith('.prompty'));
      if (prompties.length !== 1) {
        throw new FlowError(
          'flow_file_missing',
          prompties.length === 0 ? 'the files hold no flow.dag.yaml and no .prompty file' : `several .prompty files (${prompties.join(', ')}): name the entry`,
        );
      }
      file = prompties[0]!;
    }
  }
  return file.endsWith('.prompty') ? parsePrompty(set, file) : parseDagFlow(set, file);
}
