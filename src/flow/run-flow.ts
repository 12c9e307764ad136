// One flow run (one line): resolve the inputs, then run the nodes as their dependencies
// finish — independent nodes concurrently, so a line's LLM calls meet in the engine's
// batch — bypass nodes whose `activate` condition is not met (their output is null
// downstream), and gather the outputs. The first failing node fails the line, after the
// nodes already running have settled.
import type { FlowDefinition, NodeDef, ValueSpec } from './definition';
import { FlowError } from './errors';
import { resolveFlowInputs } from './flow-inputs';
import { runLlmNode, type LlmNodeContext, type TokenUsage } from './llm-node';
import type { PythonRuntime } from './python/runtime';
import { renderTemplate } from './template';

export type NodeStatus = 'completed' | 'bypassed' | 'failed';

export interface NodeRun {
  status: NodeStatus;
  output: unknown;
}

export interface LineResult {
  /** The flow outputs; a prompty's output as is. */
  outputs: unknown;
  nodes: Record<string, NodeRun>;
  usage: TokenUsage;
}

export interface ExecuteOptions extends Omit<LlmNodeContext, 'usage'> {
  python: PythonRuntime;
  /** `random.seed(pythonSeed)` before each Python node (reproducible runs). */
  pythonSeed?: number;
  /** A Python node's time limit (default 120 s). */
  pythonTimeoutMs?: number;
  /** Each node's state as it changes (a UI's DAG view): running, then completed / failed, or bypassed. */
  onNodeStatus?: (node: string, status: NodeStatus | 'running') => void;
}

export async function executeFlow(def: FlowDefinition, given: Readonly<Record<string, unknown>>, options: ExecuteOptions): Promise<LineResult> {
  const inputs = resolveFlowInputs(def, given);
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  const ctx: LlmNodeContext = { ...options, usage };
  const runs = new Map<string, NodeRun>();
  const pending = new Set(def.nodes);
  const running = new Set<Promise<void>>();
  let failure: unknown;

  const value = (spec: ValueSpec): unknown => {
    if (spec.kind === 'literal') return spec.value;
    if (spec.kind === 'input') return inputs[spec.name];
    let v = runs.get(spec.node)!.output;
    for (const key of spec.path) v = v !== null && typeof v === 'object' ? ((v as Record<string, unknown>)[key] ?? null) : null;
    return v;
  };

  const start = (node: NodeDef) => {
    pending.delete(node);
    const p = runNode(node).then(
      (run) => {
        runs.set(node.name, run);
        options.onNodeStatus?.(node.name, run.status);
      },
      (err: unknown) => {
        runs.set(node.name, { status: 'failed', output: null });
        options.onNodeStatus?.(node.name, 'failed');
        failure ??= err instanceof FlowError ? err.at({ file: node.sourcePath, node: node.name }) : err;
      },
    );
    running.add(p);
    void p.finally(() => running.delete(p));
  };

  const runNode = async (node: NodeDef): Promise<NodeRun> => {
    if (isBypassed(node)) return { status: 'bypassed', output: null };
    options.onNodeStatus?.(node.name, 'running');
    const args: Record<string, unknown> = {};
    for (const [k, spec] of Object.entries(node.inputs)) args[k] = value(spec);
    const where = { file: node.sourcePath, node: node.name };
    let output: unknown;
    if (node.type === 'llm') output = await runLlmNode(node.llm!, node.sourceText, args, ctx, where);
    else if (node.type === 'prompt') output = renderTemplate(node.sourceText, args, where);
    else output = await options.python.call({ file: node.sourcePath, source: node.sourceText, functionName: node.functionName, moduleFiles: def.pythonFiles, inputs: args, seed: options.pythonSeed, timeoutMs: options.pythonTimeoutMs, node: node.name });
    return { status: 'completed', output };
  };

  // PromptFlow's rule: a node with `activate` runs when its condition's node ran and the value
  // equals `is`; a node without one is bypassed when every node it references was bypassed.
  const isBypassed = (node: NodeDef): boolean => {
    const bypassed = (spec: ValueSpec) => spec.kind === 'node' && runs.get(spec.node)?.status === 'bypassed';
    if (node.activate) return bypassed(node.activate.when) || !looseEqual(value(node.activate.when), node.activate.is);
    const refs = Object.values(node.inputs).filter((s) => s.kind === 'node');
    return refs.length > 0 && refs.every(bypassed);
  };

  while (pending.size > 0 || running.size > 0) {
    if (failure === undefined) {
      for (const node of [...pending]) if (node.deps.every((d) => runs.has(d))) start(node);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  if (failure !== undefined) throw failure;
  const outputs = def.outputs === null ? runs.get(def.nodes[0]!.name)!.output : Object.fromEntries(Object.entries(def.outputs).map(([k, o]) => [k, value(o.value)]));
  return { outputs, nodes: Object.fromEntries(runs), usage };
}

/** Python's `==` for what YAML and JSON give: scalars by value, lists and dicts element-wise. */
function looseEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
