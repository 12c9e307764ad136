// `tabllm flow test` and `tabllm flow run`: read the flow folder, load the model (every
// connection is served by it), run tabllm/flow's runFlow / batchRun, and print or write
// the results as PromptFlow's CLI does (outputs.jsonl rows carry line_number).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { batchRun, flowErrorJson, FlowError, outputRow, parseJsonl, runFlow, type FlowRunOptions } from '../flow';
import { isRecord } from '../flow/yaml';
import type { CliEngine, CliIO, EngineFactory } from './commands';
import type { FlowArgs } from './flow-args';
import { readFlowFolder } from './flow-files';

const MiB = 1024 * 1024;
/** Data files are read whole; past this size, split them. */
const MAX_DATA_BYTES = 256 * MiB;

/** `k=v` pairs and JSON files of inputs → one object (later wins). */
async function readInputs(items: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq > 0) {
      out[item.slice(0, eq)] = item.slice(eq + 1);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(item, 'utf8'));
    } catch (err) {
      throw new FlowError('missing_input', `--inputs '${item}' is neither key=value nor a readable JSON file (${(err as Error).message})`);
    }
    if (!isRecord(parsed)) throw new FlowError('bad_input_type', `--inputs file '${item}' must hold a JSON object`);
    Object.assign(out, parsed);
  }
  return out;
}

function pairs(items: string[]): Record<string, string> {
  return Object.fromEntries(items.map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]));
}

/** A previous run's outputs.jsonl rows (`--run DIR`). */
async function readPreviousRun(dir: string): Promise<Array<Record<string, unknown>>> {
  const path = join(dir, 'outputs.jsonl');
  const text = await readFile(path, 'utf8').catch((err: Error) => {
    throw new FlowError('bad_data', `cannot read the previous run's ${path}: ${err.message}`);
  });
  const rows = parseJsonl(text);
  const bad = rows.find((r) => r instanceof FlowError);
  if (bad) throw new FlowError('bad_data', `${path}: ${bad.message}`);
  return rows as Array<Record<string, unknown>>;
}

async function chatTemplateOf(arg: string | undefined): Promise<string | undefined> {
  if (arg === undefined) return undefined;
  if (existsSync(arg)) return readFile(arg, 'utf8');
  if (arg.includes('{%') || arg.includes('{{')) return arg;
  throw new FlowError('flow_file_missing', `--chat-template '${arg}' is neither a file nor a Jinja template`);
}

function defaultRunDir(flow: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '_');
  return resolve('runs', `${basename(resolve(flow)).replace(/\.prompty$/, '')}_${stamp}`);
}

export async function flowCommand(args: FlowArgs, createEngine: EngineFactory, io: CliIO): Promise<number> {
  let engine: CliEngine | undefined;
  try {
    const folder = await readFlowFolder(args.flow);
    const inputs = args.sub === 'test' ? await readInputs(args.inputs) : {};
    let data: string | undefined;
    if (args.data !== undefined) {
      const bytes = await readFile(args.data).catch((err: Error) => {
        throw new FlowError('bad_data', `cannot read --data '${args.data}': ${err.message}`);
      });
      if (bytes.length > MAX_DATA_BYTES) throw new FlowError('bad_data', `--data is over ${MAX_DATA_BYTES / MiB} MiB`);
      data = bytes.toString('utf8');
    }
    if (args.model !== undefined) {
      engine = await createEngine({
        model: args.model,
        chatTemplate: await chatTemplateOf(args.chatTemplate),
        kvCacheBytes: args.kvCacheMiB ? args.kvCacheMiB * MiB : undefined,
        precision: args.precision,
      });
    }
    const options: FlowRunOptions = { engine, entry: folder.entry, engineServes: 'all', pythonLog: (t) => io.stderr(`${t}\n`) };
    if (args.sub === 'test') {
      const result = await runFlow(folder.files, inputs, options);
      io.stdout(`${JSON.stringify(isRecord(result.outputs) ? result.outputs : { output: result.outputs })}\n`);
      return 0;
    }
    const result = await batchRun(folder.files, data!, {
      ...options,
      columnMapping: args.columnMapping.length > 0 ? pairs(args.columnMapping) : undefined,
      previousRun: args.previousRun === undefined ? undefined : await readPreviousRun(args.previousRun),
      concurrency: args.concurrency,
      onProgress: (done, total, line) => {
        if (line.status === 'failed') io.stderr(`line ${line.line_number}: ${line.error!.message} [${line.error!.code}]\n`);
        io.stderr(`${done}/${total}\r`);
      },
    });
    const dir = args.output ?? defaultRunDir(args.flow);
    await mkdir(dir, { recursive: true });
    const jsonl = (rows: unknown[]) => rows.map((r) => `${JSON.stringify(r)}\n`).join('');
    await writeFile(join(dir, 'outputs.jsonl'), jsonl(result.lines.filter((l) => l.status === 'completed').map(outputRow)));
    await writeFile(join(dir, 'lines.jsonl'), jsonl(result.lines.map(({ line_number, status, error, usage }) => ({ line_number, status, error, usage }))));
    await writeFile(join(dir, 'metrics.json'), `${JSON.stringify(result.metrics, null, 2)}\n`);
    const m = result.metrics;
    io.stderr(`outputs: ${join(dir, 'outputs.jsonl')}; ${m.totalTokens} tokens in ${(m.durationMs / 1000).toFixed(1)} s\n`);
    io.stdout(`${m.lines} lines: ${m.completed} completed, ${m.failed} failed\n`);
    return m.failed === 0 ? 0 : 1;
  } catch (err) {
    if (!(err instanceof FlowError)) throw err;
    const e = flowErrorJson(err);
    io.stderr(`tabllm: ${e.message} [${e.code}]\n`);
    return 1;
  } finally {
    await engine?.destroy();
  }
}
