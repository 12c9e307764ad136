// Arguments of `tabllm flow test` and `tabllm flow run` (PromptFlow's `pf flow test` and
// `pf run create`), parsed purely like the rest of args.ts: a bad flag is a CliUsageError.
import { CliUsageError, num, parseFlags, precisionArg, type CliPrecision } from './arg-values';

export interface FlowArgs {
  command: 'flow';
  sub: 'test' | 'run';
  /** A flow folder, or a .prompty file. */
  flow: string;
  /** The GGUF serving every connection (none: llm nodes fail, Python-only flows run). */
  model?: string;
  /** `k=v` pairs or a JSON file of inputs (test). */
  inputs: string[];
  /** JSONL (run). */
  data?: string;
  /** `input=${data.column}` / `input=${run.outputs.x}` pairs (run). */
  columnMapping: string[];
  /** A previous run's folder (its outputs.jsonl), for `${run.outputs.x}` mappings. */
  previousRun?: string;
  concurrency?: number;
  /** The run's folder (default: runs/<flow>-<time>). */
  output?: string;
  /** A chat template (a Jinja file, or the template itself) for a GGUF that has none. */
  chatTemplate?: string;
  kvCacheMiB?: number;
  precision?: CliPrecision;
}

export const FLOW_USAGE = `  tabllm flow test <flow-dir | file.prompty> [--inputs k=v | inputs.json]... --model model.gguf
                   [--chat-template FILE] [--kv-cache-mib M] [--precision auto|f32|f16]
  tabllm flow run <flow-dir | file.prompty> --data data.jsonl [--column-mapping k='\${data.x}']...
                  [--run PREVIOUS_RUN_DIR] [--concurrency N] [--output DIR] --model model.gguf [--chat-template FILE]`;

export const FLOW_HELP = `flow:   runs a PromptFlow flow (flow.dag.yaml) or .prompty file with every connection served
        by the model. 'test' prints the outputs as one JSON object (exit 1 and the coded error
        on stderr when the flow fails); 'run' runs each data line (default mapping: columns
        named like the inputs), writes outputs.jsonl, lines.jsonl and metrics.json to --output,
        and prints 'N lines: C completed, F failed' (exit 1 when a line failed).`;


export function parseFlowArgs(argv: string[]): FlowArgs {
  const [sub, ...rest] = argv;
  if (sub !== 'test' && sub !== 'run') throw new CliUsageError(`flow: unknown subcommand '${sub ?? ''}' (test or run)`);
  const { values: v, positionals } = parseFlags(
    rest,
    {
      model: { type: 'string', short: 'm' },
      inputs: { type: 'string', multiple: true },
      data: { type: 'string' },
      'column-mapping': { type: 'string', multiple: true },
      run: { type: 'string' },
      concurrency: { type: 'string' },
      output: { type: 'string' },
      'chat-template': { type: 'string' },
      'kv-cache-mib': { type: 'string' },
      precision: { type: 'string' },
    },
    `flow ${sub}: `,
  );
  const [flow, ...more] = positionals;
  if (flow === undefined) throw new CliUsageError(`flow ${sub}: missing the flow (a folder or a .prompty file)`);
  // pf's `--inputs a=1 b=2` and `--column-mapping a=… b=…`: the pairs after the first land in positionals.
  const extra = more.filter((p) => p.includes('='));
  const stray = more.find((p) => !p.includes('='));
  if (stray !== undefined) throw new CliUsageError(`flow ${sub}: unexpected argument '${stray}'`);
  const inputs = [...((v.inputs as string[] | undefined) ?? []), ...(sub === 'test' ? extra : [])];
  const columnMapping = [...((v['column-mapping'] as string[] | undefined) ?? []), ...(sub === 'run' ? extra : [])];
  for (const [flag, pairs] of [['--column-mapping', columnMapping]] as const) {
    const bad = pairs.find((p) => !/^[^=]+=/.test(p));
    if (bad !== undefined) throw new CliUsageError(`${flag} takes key=value, got '${bad}'`);
  }
  if (sub === 'run' && v.data === undefined) throw new CliUsageError('flow run: --data data.jsonl is required');
  if (sub === 'test' && (v.data !== undefined || v.run !== undefined || columnMapping.length > 0)) throw new CliUsageError('flow test: --data, --run and --column-mapping belong to flow run');
  const precision = precisionArg(v.precision as string | undefined);
  return {
    command: 'flow',
    sub,
    flow,
    model: v.model as string | undefined,
    inputs,
    data: v.data as string | undefined,
    columnMapping,
    previousRun: v.run as string | undefined,
    concurrency: num('--concurrency', v.concurrency as string | undefined, { min: 1, max: 256, integer: true }),
    output: v.output as string | undefined,
    chatTemplate: v['chat-template'] as string | undefined,
    kvCacheMiB: num('--kv-cache-mib', v['kv-cache-mib'] as string | undefined, { min: 1, max: 1 << 20 }),
    precision,
  };
}
