// Batch runs: data lines (JSONL text or parsed rows) mapped to flow inputs by
// `${data.column}` column mappings, run `concurrency` lines at a time — each line's LLM calls
// join the engine's continuous batch — with a status and error per line (a failing line
// never stops the others), outputs carrying `line_number`, and the run's metrics.
import type { FlowDefinition } from './definition';
import { FlowError, flowErrorJson } from './errors';
import type { TokenUsage } from './llm-node';
import { executeFlow, type ExecuteOptions } from './run-flow';
import { checkDepth, isRecord } from './yaml';

export interface BatchLine {
  line_number: number;
  status: 'completed' | 'failed';
  /** The flow outputs (completed lines). */
  outputs?: unknown;
  error?: { code: string; message: string; file?: string; node?: string };
  usage: TokenUsage;
}

export interface BatchMetrics {
  lines: number;
  completed: number;
  failed: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  durationMs: number;
}

export interface BatchResult {
  lines: BatchLine[];
  metrics: BatchMetrics;
}

export interface BatchOptions {
  /** flow input → `${data.column}` or a literal (default: each input from the column of its name). */
  columnMapping?: Readonly<Record<string, unknown>>;
  /** Lines in flight at once (default 4; PromptFlow's default worker count). */
  concurrency?: number;
  onProgress?: (done: number, total: number, line: BatchLine) => void;
  /**
   * A previous run's outputs.jsonl rows (`{ line_number, …outputs }`), for `${run.outputs.x}`
   * mappings: line i reads the row with line_number i (an evaluation flow over a run).
   */
  previousRun?: ReadonlyArray<Record<string, unknown>>;
}

export const MAX_DATA_LINES = 100_000;
export const MAX_CONCURRENCY = 256;
const MAX_DATA_DEPTH = 64;

/** JSONL → rows; an unreadable line becomes an error row (its line fails, the rest run). */
export function parseJsonl(text: string): Array<Record<string, unknown> | FlowError> {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length > MAX_DATA_LINES) throw new FlowError('bad_data', `over ${MAX_DATA_LINES} data lines`);
  return lines.map((l, i) => {
    try {
      const row = JSON.parse(l) as unknown;
      if (!isRecord(row)) return new FlowError('bad_data', `data line ${i} is not a JSON object`, { lineNumber: i });
      checkDepth(row, MAX_DATA_DEPTH, undefined, 'bad_data');
      return row;
    } catch (err) {
      return err instanceof FlowError ? err.at({ lineNumber: i }) : new FlowError('bad_data', `data line ${i} is not JSON: ${(err as Error).message}`, { lineNumber: i });
    }
  });
}

type Mapping = Record<string, { column: string } | { runOutput: string } | { literal: unknown }>;

/** Checks the mapping once, before any line runs. */
export function compileColumnMapping(def: FlowDefinition, mapping: Readonly<Record<string, unknown>> | undefined, hasRun = false): Mapping {
  const out: Mapping = {};
  if (mapping === undefined) {
    for (const name of Object.keys(def.inputs)) out[name] = { column: name };
    return out;
  }
  for (const [input, raw] of Object.entries(mapping)) {
    if (!(input in def.inputs)) throw new FlowError('bad_column_mapping', `'${input}' is not an input of the flow (${Object.keys(def.inputs).join(', ')})`, { file: def.file });
    if (typeof raw === 'string' && raw.trim().startsWith('${')) {
      const m = /^\$\{data\.([^{}.]+)\}$/.exec(raw.trim());
      const r = /^\$\{run\.outputs\.([^{}.]+)\}$/.exec(raw.trim());
      if (r && !hasRun) throw new FlowError('bad_column_mapping', `'${input}=${raw}' reads a previous run, and none was given`, { file: def.file });
      if (!m && !r) throw new FlowError('bad_column_mapping', `'${input}=${raw}' is neither \${data.column} nor \${run.outputs.name}`, { file: def.file });
      out[input] = m ? { column: m[1]! } : { runOutput: r![1]! };
    } else out[input] = { literal: raw };
  }
  return out;
}

function lineInputs(
  def: FlowDefinition,
  mapping: Mapping,
  row: Record<string, unknown>,
  explicit: boolean,
  lineNumber: number,
  previous: ReadonlyMap<number, Record<string, unknown>>,
): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const [input, m] of Object.entries(mapping)) {
    if ('literal' in m) inputs[input] = m.literal;
    else if ('runOutput' in m) {
      const prev = previous.get(lineNumber);
      if (!prev || !(m.runOutput in prev)) {
        const why = prev ? `has no output '${m.runOutput}'` : 'has no completed line';
        throw new FlowError('data_column_missing', `the previous run ${why} for line ${lineNumber} (mapped to input '${input}')`, { file: def.file, lineNumber });
      }
      inputs[input] = prev[m.runOutput];
    }
    else if (m.column in row) inputs[input] = row[m.column];
    // An explicit ${data.x} must find its column; the default mapping falls back on defaults.
    else if (explicit) throw new FlowError('data_column_missing', `data line ${lineNumber} has no column '${m.column}' (mapped to input '${input}')`, { file: def.file, lineNumber });
  }
  return inputs;
}

export async function runBatch(
  def: FlowDefinition,
  rows: ReadonlyArray<Record<string, unknown> | FlowError>,
  options: BatchOptions & ExecuteOptions,
): Promise<BatchResult> {
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new FlowError('bad_data', `concurrency must be an integer in [1, ${MAX_CONCURRENCY}], got ${concurrency}`);
  }
  if (rows.length > MAX_DATA_LINES) throw new FlowError('bad_data', `over ${MAX_DATA_LINES} data lines`);
  const mapping = compileColumnMapping(def, options.columnMapping, options.previousRun !== undefined);
  const previous = new Map((options.previousRun ?? []).map((r) => [Number(r.line_number), r]));
  const started = Date.now();
  const lines: BatchLine[] = new Array(rows.length);
  let next = 0;
  let done = 0;
  const runLine = async (i: number): Promise<BatchLine> => {
    const row = rows[i]!;
    try {
      if (row instanceof FlowError) throw row;
      const result = await executeFlow(def, lineInputs(def, mapping, row, options.columnMapping !== undefined, i, previous), options);
      return { line_number: i, status: 'completed', outputs: result.outputs, usage: result.usage };
    } catch (err) {
      return { line_number: i, status: 'failed', error: flowErrorJson(err), usage: { promptTokens: 0, completionTokens: 0 } };
    }
  };
  const worker = async () => {
    while (next < rows.length) {
      const i = next++;
      lines[i] = await runLine(i);
      done++;
      options.onProgress?.(done, rows.length, lines[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, rows.length) }, worker));
  const completed = lines.filter((l) => l.status === 'completed').length;
  const promptTokens = lines.reduce((s, l) => s + l.usage.promptTokens, 0);
  const completionTokens = lines.reduce((s, l) => s + l.usage.completionTokens, 0);
  return {
    lines,
    metrics: {
      lines: rows.length,
      completed,
      failed: rows.length - completed,
      promptTokens,
      completionTokens,
      totalTokens: promptTokens + completionTokens,
      durationMs: Date.now() - started,
    },
  };
}

/** PromptFlow's outputs.jsonl row: `line_number` then the outputs (a non-object output as `output`). */
export function outputRow(line: BatchLine): Record<string, unknown> {
  const o = line.outputs;
  return { line_number: line.line_number, ...(isRecord(o) ? o : { output: o }) };
}
