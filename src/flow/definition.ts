// The parsed, checked form of a flow — what dag-parse.ts makes of flow.dag.yaml and
// prompty-parse.ts of a .prompty file — and the `${…}` value references both use.
import { FlowError } from './errors';

/** A node input or flow output: a literal, `${inputs.x}`, or `${node.output[.field…]}`. */
export type ValueSpec =
  | { kind: 'literal'; value: unknown }
  | { kind: 'input'; name: string }
  | { kind: 'node'; node: string; path: string[] };

export type FlowInputType = 'string' | 'int' | 'double' | 'bool' | 'list' | 'object';
export const FLOW_INPUT_TYPES: readonly FlowInputType[] = ['string', 'int', 'double', 'bool', 'list', 'object'];

export interface FlowInputDef {
  type: FlowInputType;
  /** `undefined` when the input has no default (then it is required). */
  default?: unknown;
  hasDefault: boolean;
  isChatInput: boolean;
}

export interface FlowOutputDef {
  value: ValueSpec;
  isChatOutput: boolean;
}

export interface ModelConfig {
  /** The connection name (flow `connection:`, prompty `configuration.connection`). */
  connection?: string;
  /** `open_ai` / `azure_openai` … as written. */
  type?: string;
  /** An explicit endpoint (prompty `base_url` / `azure_endpoint`); resolves local or remote. */
  baseUrl?: string;
  apiKey?: string;
  /** Azure's deployment (sent as the model). */
  deployment?: string;
}

export interface LlmSpec {
  api: 'chat' | 'completion';
  model: ModelConfig;
  /** Prompty `model.parameters` (a flow node's API parameters are among its inputs). */
  parameters: Record<string, unknown>;
  /** Prompty `model.response`: 'first' (the content) or 'all' (the whole response). */
  response: 'first' | 'all';
  /** Prompty `outputs`: with a JSON response, the fields kept. */
  outputs?: string[];
}

export interface NodeDef {
  name: string;
  type: 'llm' | 'prompt' | 'python';
  inputs: Record<string, ValueSpec>;
  /** The source file, relative to the flow folder, and its text. */
  sourcePath: string;
  sourceText: string;
  /** Python: the function to call (else the file's one @tool). */
  functionName?: string;
  llm?: LlmSpec;
  activate?: { when: ValueSpec; is: unknown };
  /** Nodes this one waits for (its references and its activate condition). */
  deps: string[];
}

export interface FlowDefinition {
  kind: 'dag' | 'prompty';
  /** The flow file: `flow.dag.yaml` or `x.prompty`. */
  file: string;
  inputs: Record<string, FlowInputDef>;
  /** null for a prompty: its output is the node's output as is. */
  outputs: Record<string, FlowOutputDef> | null;
  /** In dependency order (every node after the nodes it depends on). */
  nodes: NodeDef[];
  /** The folder's .py files (path → text): modules a Python node may import. */
  pythonFiles?: Readonly<Record<string, string>>;
  /** Prompty `sample` (inputs for a test run given none). */
  sample?: Record<string, unknown>;
}

const REF_RE = /^\$\{([^{}]*)\}$/;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** A YAML value as a ValueSpec: a whole-string `${…}` is a reference, anything else a literal. */
export function parseValueSpec(raw: unknown, where: { file: string; node?: string }): ValueSpec {
  if (typeof raw !== 'string') return { kind: 'literal', value: raw };
  const m = REF_RE.exec(raw.trim());
  if (!m) return { kind: 'literal', value: raw };
  const parts = m[1]!.trim().split('.');
  if (parts[0] === 'inputs' && parts.length === 2 && NAME_RE.test(parts[1]!)) return { kind: 'input', name: parts[1]! };
  if (parts.length >= 2 && parts[1] === 'output' && NAME_RE.test(parts[0]!) && parts.slice(2).every((p) => p.length > 0)) {
    return { kind: 'node', node: parts[0]!, path: parts.slice(2) };
  }
  throw new FlowError('bad_reference', `'${raw}' is not a reference PromptFlow knows (\${inputs.x}, \${node.output} or \${node.output.field})`, where);
}

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && NAME_RE.test(name);
}
