// A .prompty file → FlowDefinition with one llm node: YAML front matter (model.api,
// model.configuration, model.parameters, model.response, inputs with defaults, sample —
// inline or `${file:sample.json}` — and outputs) over the Jinja2 body.
import type { FlowDefinition, FlowInputDef, LlmSpec, ModelConfig, ValueSpec } from './definition';
import { inputDef } from './dag-parse';
import { FlowError } from './errors';
import { dirOf, joinPath, type FlowFileSet } from './files';
import { isRecord, parseYaml } from './yaml';

/** The name of a prompty's single node in traces and errors. */
export const PROMPTY_NODE = 'prompty';
const FRONT_MATTER_RE = /^\uFEFF?\s*---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

export function parsePrompty(files: FlowFileSet, file: string): FlowDefinition {
  const text = files.read(file, { code: 'flow_file_missing' });
  const m = FRONT_MATTER_RE.exec(text);
  if (!m) throw new FlowError('bad_flow', "a .prompty file starts with YAML front matter between '---' lines", { file });
  const front = parseYaml(m[1]!, file) ?? {};
  if (!isRecord(front)) throw new FlowError('bad_flow', 'the front matter must be a mapping', { file });
  const body = text.slice(m[0].length);
  const model = isRecord(front.model) ? front.model : {};
  const api = model.api ?? 'chat';
  if (api !== 'chat' && api !== 'completion') throw new FlowError('bad_flow', `model.api '${String(api)}' (chat or completion)`, { file });
  const response = model.response ?? 'first';
  if (response !== 'first' && response !== 'all') throw new FlowError('bad_flow', `model.response '${String(response)}' (first or all)`, { file });
  if (model.parameters !== undefined && !isRecord(model.parameters)) throw new FlowError('bad_flow', 'model.parameters must be a mapping', { file });
  if (front.outputs !== undefined && front.outputs !== null && !isRecord(front.outputs)) throw new FlowError('bad_flow', "'outputs' must be a mapping", { file });
  const llm: LlmSpec = {
    api,
    model: modelConfig(model.configuration, file),
    parameters: (model.parameters as Record<string, unknown> | undefined) ?? {},
    response,
    outputs: isRecord(front.outputs) ? Object.keys(front.outputs) : undefined,
  };
  const sample = parseSample(front.sample, files, file);
  const inputs: Record<string, FlowInputDef> = {};
  if (front.inputs !== undefined && front.inputs !== null) {
    if (!isRecord(front.inputs)) throw new FlowError('bad_flow', "'inputs' must be a mapping", { file });
    for (const [name, def] of Object.entries(front.inputs)) {
      // The short form `inputs: { question: "default" }` declares a string with that default.
      inputs[name] = isRecord(def) ? inputDef(name, def, file) : { type: 'string', default: def, hasDefault: true, isChatInput: false };
    }
  } else if (sample) {
    for (const [name, value] of Object.entries(sample)) inputs[name] = { type: Array.isArray(value) ? 'list' : isRecord(value) ? 'object' : 'string', hasDefault: false, isChatInput: false };
  }
  const nodeInputs: Record<string, ValueSpec> = {};
  for (const name of Object.keys(inputs)) nodeInputs[name] = { kind: 'input', name };
  return {
    kind: 'prompty',
    file,
    inputs,
    outputs: null,
    sample,
    nodes: [{ name: PROMPTY_NODE, type: 'llm', inputs: nodeInputs, sourcePath: file, sourceText: body, llm, deps: [] }],
  };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function modelConfig(raw: unknown, file: string): ModelConfig {
  if (raw === undefined || raw === null) return {};
  if (!isRecord(raw)) throw new FlowError('bad_flow', 'model.configuration must be a mapping', { file });
  return {
    type: str(raw.type),
    connection: str(raw.connection),
    baseUrl: str(raw.base_url) ?? str(raw.azure_endpoint) ?? str(raw.api_base),
    apiKey: str(raw.api_key),
    deployment: str(raw.azure_deployment) ?? str(raw.model),
  };
}

function parseSample(raw: unknown, files: FlowFileSet, file: string): Record<string, unknown> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') {
    const m = /^\$\{file:(.+)\}$/.exec(raw.trim());
    if (!m) throw new FlowError('bad_flow', "'sample' must be a mapping or '${file:sample.json}'", { file });
    const path = joinPath(dirOf(file), m[1]!.trim());
    let parsed: unknown;
    try {
      parsed = JSON.parse(files.read(path, { file }));
    } catch (err) {
      if (err instanceof FlowError) throw err;
      throw new FlowError('bad_flow', `sample file '${path}' is not JSON: ${(err as Error).message}`, { file });
    }
    raw = parsed;
  }
  if (!isRecord(raw)) throw new FlowError('bad_flow', "'sample' must be a mapping of input values", { file });
  return raw;
}
