// flow.dag.yaml → FlowDefinition: inputs (types, defaults, is_chat_input), outputs
// (reference, is_chat_output), nodes (llm / prompt / python, source files, activate), each
// reference checked against what the flow has, and the nodes put in dependency order
// (a cycle is an error naming the nodes on it).
import {
  FLOW_INPUT_TYPES,
  isValidName,
  parseValueSpec,
  type FlowDefinition,
  type FlowInputDef,
  type FlowInputType,
  type FlowOutputDef,
  type NodeDef,
  type ValueSpec,
} from './definition';
import { FlowError } from './errors';
import { dirOf, joinPath, type FlowFileSet } from './files';
import { isRecord, parseYaml } from './yaml';

export const FLOW_DAG_FILE = 'flow.dag.yaml';
const NODE_TYPES = ['llm', 'prompt', 'python'] as const;

export function parseDagFlow(files: FlowFileSet, file = FLOW_DAG_FILE): FlowDefinition {
  const doc = parseYaml(files.read(file, { code: 'flow_file_missing' }), file);
  if (!isRecord(doc)) throw new FlowError('bad_flow', 'a flow.dag.yaml is a mapping with inputs, outputs and nodes', { file });
  const inputs = parseInputs(doc.inputs, file);
  if (doc.nodes !== undefined && !Array.isArray(doc.nodes)) throw new FlowError('bad_flow', "'nodes' must be a list", { file });
  const nodes = ((doc.nodes as unknown[] | undefined) ?? []).map((raw, i) => parseNode(raw, i, files, file));
  const names = new Set<string>();
  for (const n of nodes) {
    if (names.has(n.name)) throw new FlowError('bad_flow', `two nodes are named '${n.name}'`, { file, node: n.name });
    if (n.name === 'inputs') throw new FlowError('bad_flow', "a node may not be named 'inputs'", { file, node: n.name });
    names.add(n.name);
  }
  for (const n of nodes) {
    for (const [key, spec] of Object.entries(n.inputs)) checkRef(spec, inputs, names, { file, node: n.name }, `input '${key}'`);
    if (n.activate) checkRef(n.activate.when, inputs, names, { file, node: n.name }, 'activate.when');
  }
  const outputs = parseOutputs(doc.outputs, file);
  for (const [key, out] of Object.entries(outputs)) checkRef(out.value, inputs, names, { file }, `output '${key}'`);
  const pythonFiles = Object.fromEntries(files.paths().filter((p) => p.endsWith('.py')).map((p) => [p, files.read(p)]));
  return { kind: 'dag', file, inputs, outputs, nodes: dependencyOrder(nodes, file), pythonFiles };
}

function parseInputs(raw: unknown, file: string): Record<string, FlowInputDef> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new FlowError('bad_flow', "'inputs' must be a mapping", { file });
  const out: Record<string, FlowInputDef> = {};
  for (const [name, def] of Object.entries(raw)) {
    if (!isValidName(name)) throw new FlowError('bad_flow', `input name '${name}' is not an identifier`, { file });
    if (!isRecord(def)) throw new FlowError('bad_flow', `input '${name}' must be a mapping with a type`, { file });
    out[name] = inputDef(name, def, file);
  }
  return out;
}

/** One input declaration (flow.dag.yaml and prompty share it). */
export function inputDef(name: string, def: Record<string, unknown>, file: string): FlowInputDef {
  const type = (def.type ?? 'string') as FlowInputType;
  if (!FLOW_INPUT_TYPES.includes(type)) throw new FlowError('bad_flow', `input '${name}' has type '${String(def.type)}' (one of ${FLOW_INPUT_TYPES.join(', ')})`, { file });
  return { type, default: def.default, hasDefault: 'default' in def, isChatInput: def.is_chat_input === true };
}

function parseOutputs(raw: unknown, file: string): Record<string, FlowOutputDef> {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new FlowError('bad_flow', "'outputs' must be a mapping", { file });
  const out: Record<string, FlowOutputDef> = {};
  for (const [name, def] of Object.entries(raw)) {
    if (!isRecord(def) || !('reference' in def)) throw new FlowError('bad_flow', `output '${name}' needs a reference`, { file });
    out[name] = { value: parseValueSpec(def.reference, { file }), isChatOutput: def.is_chat_output === true };
  }
  return out;
}

function parseNode(raw: unknown, index: number, files: FlowFileSet, file: string): NodeDef {
  if (!isRecord(raw) || !isValidName(raw.name)) throw new FlowError('bad_flow', `node #${index + 1} has no valid name`, { file });
  const name = raw.name;
  const where = { file, node: name };
  const type = raw.type;
  if (!NODE_TYPES.includes(type as (typeof NODE_TYPES)[number])) {
    throw new FlowError('unknown_node_type', `node type '${String(type)}' (this runner knows ${NODE_TYPES.join(', ')})`, where);
  }
  const source = raw.source;
  if (!isRecord(source) || typeof source.path !== 'string') throw new FlowError('bad_flow', "a node needs 'source: { type: code, path: … }'", where);
  if (source.type !== undefined && source.type !== 'code') throw new FlowError('bad_flow', `source type '${String(source.type)}' (only 'code' files run here)`, where);
  const sourcePath = joinPath(dirOf(file), source.path);
  const sourceText = files.read(sourcePath, where);
  if (raw.inputs !== undefined && raw.inputs !== null && !isRecord(raw.inputs)) throw new FlowError('bad_flow', "'inputs' must be a mapping", where);
  const inputs: Record<string, ValueSpec> = {};
  for (const [key, value] of Object.entries((raw.inputs as Record<string, unknown> | undefined) ?? {})) inputs[key] = parseValueSpec(value, where);
  let activate: NodeDef['activate'];
  if (raw.activate !== undefined) {
    if (!isRecord(raw.activate) || !('when' in raw.activate) || !('is' in raw.activate)) throw new FlowError('bad_flow', "'activate' needs 'when' and 'is'", where);
    activate = { when: parseValueSpec(raw.activate.when, where), is: raw.activate.is };
  }
  let llm: NodeDef['llm'];
  if (type === 'llm') {
    const api = raw.api ?? 'chat';
    if (api !== 'chat' && api !== 'completion') throw new FlowError('bad_flow', `llm api '${String(api)}' (chat or completion)`, where);
    if (raw.connection !== undefined && typeof raw.connection !== 'string') throw new FlowError('bad_flow', "'connection' must be a name", where);
    llm = { api, model: { connection: raw.connection as string | undefined }, parameters: {}, response: 'first' };
  }
  const deps = new Set<string>();
  for (const spec of [...Object.values(inputs), ...(activate ? [activate.when] : [])]) if (spec.kind === 'node') deps.add(spec.node);
  return { name, type: type as NodeDef['type'], inputs, sourcePath, sourceText, activate, llm, deps: [...deps] };
}

function checkRef(
  spec: ValueSpec,
  inputs: Record<string, FlowInputDef>,
  nodes: Set<string>,
  where: { file: string; node?: string },
  what: string,
): void {
  if (spec.kind === 'input' && !(spec.name in inputs)) throw new FlowError('missing_reference', `${what} references flow input '${spec.name}', which the flow does not declare`, where);
  if (spec.kind === 'node' && !nodes.has(spec.node)) throw new FlowError('missing_reference', `${what} references node '${spec.node}', which the flow does not have`, where);
}

/** Kahn's algorithm in file order; what is left over lies on (or behind) a cycle. */
function dependencyOrder(nodes: NodeDef[], file: string): NodeDef[] {
  const waiting = new Map(nodes.map((n) => [n.name, n.deps.length]));
  const dependents = new Map<string, string[]>(nodes.map((n) => [n.name, []]));
  for (const n of nodes) for (const d of n.deps) dependents.get(d)!.push(n.name);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const ready = nodes.filter((n) => n.deps.length === 0).map((n) => n.name);
  const order: NodeDef[] = [];
  while (ready.length > 0) {
    const name = ready.shift()!;
    order.push(byName.get(name)!);
    for (const d of dependents.get(name)!) {
      const left = waiting.get(d)! - 1;
      waiting.set(d, left);
      if (left === 0) ready.push(d);
    }
  }
  if (order.length < nodes.length) {
    const stuck = nodes.filter((n) => !order.includes(n)).map((n) => n.name);
    throw new FlowError('cycle', `the nodes ${stuck.map((s) => `'${s}'`).join(', ')} depend on each other in a cycle`, { file, node: stuck[0] });
  }
  return order;
}
