// Argument parsing for the `tabllm` command: pure, so every bad input is tested
// without a GPU. Errors are `CliUsageError` (exit code 2) with a message naming the flag.
import { apiKeyCheck } from '../api/auth';
import { checkAllowHosts, compileOriginAllowList, parseOriginsEnv } from '../api/origin-policy';
import { FLOW_HELP, FLOW_USAGE, parseFlowArgs, type FlowArgs } from './flow-args';
import { RANGES } from '../openai/ranges';

import { CliUsageError, num, parseFlags, precisionArg, type CliPrecision } from './arg-values';

export { CliUsageError, type CliPrecision } from './arg-values';

export interface RunArgs {
  command: 'run';
  model: string;
  prompt: string;
  /** llama2.c's -n: positions to run, prompt included (prompt tokens after BOS + generated = steps). */
  steps?: number;
  /** New tokens to generate (llama.cpp's -n). */
  maxTokens?: number;
  temperature: number;
  topP: number;
  seed?: number;
  json: boolean;
  kvCacheMiB?: number;
  precision?: CliPrecision;
}

export interface ServeArgs {
  command: 'serve';
  /** The first (default) model. */
  model: string;
  /** Every model to serve, in order (`tabllm serve a.gguf b.gguf`); absent: just `model`. */
  models?: string[];
  host: string;
  port: number;
  /** The first model's `--name`. */
  name?: string;
  /** `--name` per model, in the models' order (fewer: the rest are named by their file stems). */
  names?: string[];
  kvCacheMiB?: number;
  maxBatchTokens?: number;
  precision?: CliPrecision;
  /** `--allow-origin` (repeatable) then `TABLLM_ORIGINS`: browser origins allowed besides this machine's. */
  allowOrigins?: string[];
  /** `--allow-host` (repeatable): Host names a loopback-bound server answers besides its own. */
  allowHosts?: string[];
  /** `--api-key`, else `TABLLM_API_KEY`: `Authorization: Bearer` required on the API routes. */
  apiKey?: string;
  /** `--request-timeout` in seconds (default: none). */
  requestTimeoutS?: number;
}

/** The environment variables `serve` reads (process.env in main.ts; tests pass their own). */
export interface CliEnv {
  TABLLM_ORIGINS?: string;
  TABLLM_API_KEY?: string;
}

export type CliArgs = RunArgs | ServeArgs | FlowArgs | { command: 'help' } | { command: 'version' };

export const USAGE = `usage:
  tabllm run <model.gguf | url> [-p PROMPT] [-n STEPS | --max-tokens N] [--temperature T] [--top-p P] [--seed S] [--json]
             [--kv-cache-mib M] [--precision auto|f32|f16]
  tabllm serve <model.gguf | url>... [--host 127.0.0.1] [--port 8000] [--name NAME]... [--kv-cache-mib M] [--max-batch-tokens N]
               [--precision auto|f32|f16] [--allow-origin ORIGIN]... [--allow-host NAME]... [--api-key KEY]
               [--request-timeout SECONDS]
${FLOW_USAGE}
  tabllm --version | --help

run:    completes PROMPT (no chat template; BOS as the GGUF says) and streams the text to stdout.
        -n STEPS counts positions like llama2.c (prompt tokens after BOS + generated tokens);
        --max-tokens N counts generated tokens only. Default: 256 steps. --json prints
        { text, token_ids, usage, timings } instead.
serve:  answers the OpenAI (/v1) and Ollama (/api) HTTP APIs on host:port (loopback by default).
        Several models (a chat model and an embedding model, say) are served side by side, each
        named by its file stem or by the --name in its place; requests pick one by 'model'.
        --kv-cache-mib applies to each chat model.
        Web pages may call it only from this machine's origins (http(s)://localhost, 127.0.0.1,
        [::1], any port); --allow-origin adds one (exact, 'https://*.example.com', 'null' or '*';
        env TABLLM_ORIGINS, comma-separated). On loopback, a Host other than this machine's names
        gets 403 (DNS rebinding); --allow-host adds a name. --api-key (env TABLLM_API_KEY)
        requires 'Authorization: Bearer KEY' on every route but /health and /. --request-timeout
        ends a request after SECONDS (504 request_timeout; the engine drops it).
--precision: the KV cache in f16 where the adapter has shader-f16 (auto, the default), or f32
        everywhere; f16 on an adapter without the feature fails (unsupported_feature).
${FLOW_HELP}`;

/** Checks allow-list entries with the policy's own parser; a bad one is a usage error naming `source`. */
function policyEntries<T>(source: string, entries: string[], check: (entries: string[]) => T): string[] | undefined {
  if (entries.length === 0) return undefined;
  try {
    check(entries);
  } catch (err) {
    throw new CliUsageError(`${source}: ${(err as Error).message}`);
  }
  return entries;
}

export function parseCliArgs(argv: string[], env: CliEnv = {}): CliArgs {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') return { command: 'help' };
  if (command === '--version' || command === '-v') return { command: 'version' };
  if (command === 'flow') return parseFlowArgs(rest);
  if (command !== 'run' && command !== 'serve') throw new CliUsageError(`unknown command '${command}'`);
  const { values: v, positionals } = parseFlags(
    rest,
    command === 'run'
      ? {
          prompt: { type: 'string', short: 'p' },
          steps: { type: 'string', short: 'n' },
          'max-tokens': { type: 'string' },
          temperature: { type: 'string', short: 't' },
          'top-p': { type: 'string' },
          seed: { type: 'string', short: 's' },
          json: { type: 'boolean' },
          'kv-cache-mib': { type: 'string' },
          precision: { type: 'string' },
        }
      : {
          host: { type: 'string' },
          port: { type: 'string' },
          name: { type: 'string', multiple: true },
          'kv-cache-mib': { type: 'string' },
          'max-batch-tokens': { type: 'string' },
          precision: { type: 'string' },
          'allow-origin': { type: 'string', multiple: true },
          'allow-host': { type: 'string', multiple: true },
          'api-key': { type: 'string' },
          'request-timeout': { type: 'string' },
        },
    '',
  );
  if (positionals.length === 0) throw new CliUsageError(`${command}: missing the model (a .gguf path or URL)`);
  if (positionals.length > 1 && command === 'run') throw new CliUsageError(`${command}: unexpected argument '${positionals[1]}'`);
  const model = positionals[0]!;
  const kvCacheMiB = num('--kv-cache-mib', v['kv-cache-mib'] as string | undefined, { min: 1, max: 1 << 20 });
  const precision = precisionArg(v.precision as string | undefined);
  if (command === 'run') {
    const steps = num('-n', v.steps as string | undefined, { min: 1, max: 1 << 20, integer: true });
    const maxTokens = num('--max-tokens', v['max-tokens'] as string | undefined, { min: 1, max: 1 << 20, integer: true });
    if (steps !== undefined && maxTokens !== undefined) throw new CliUsageError('give -n or --max-tokens, not both');
    return {
      command,
      model,
      prompt: (v.prompt as string | undefined) ?? '',
      steps: steps ?? (maxTokens === undefined ? 256 : undefined),
      maxTokens,
      // The facade's ranges (the run goes through completions.create): a bad value fails before the model loads.
      temperature: num('--temperature', v.temperature as string | undefined, RANGES.temperature) ?? 1,
      topP: num('--top-p', v['top-p'] as string | undefined, { min: Number.MIN_VALUE, max: RANGES.top_p.max }) ?? 1,
      seed: num('--seed', v.seed as string | undefined, { min: 0, max: 2 ** 32 - 1, integer: true }),
      json: v.json === true,
      kvCacheMiB,
      precision,
    };
  }
  const names = (v.name as string[] | undefined) ?? [];
  if (names.length > positionals.length) throw new CliUsageError(`serve: ${names.length} --name flags for ${positionals.length} model(s); give at most one per model, in order`);
  for (const n of names) if (n.trim() === '') throw new CliUsageError('--name must not be empty');
  return {
    command,
    model,
    ...(positionals.length > 1 ? { models: positionals } : {}),
    host: (v.host as string | undefined) ?? '127.0.0.1',
    port: num('--port', v.port as string | undefined, { min: 0, max: 65535, integer: true }) ?? 8000,
    name: names[0],
    ...(names.length > 1 ? { names } : {}),
    kvCacheMiB,
    maxBatchTokens: num('--max-batch-tokens', v['max-batch-tokens'] as string | undefined, { min: 1, max: 1 << 16, integer: true }),
    precision,
    ...serveAccessArgs(v, env),
  };
}

/** The access flags of `serve`, checked here so a bad entry exits 2 before the model loads. */
function serveAccessArgs(v: Record<string, string | string[] | boolean | undefined>, env: CliEnv): Partial<ServeArgs> {
  const allowOrigins = [
    ...(policyEntries('--allow-origin', (v['allow-origin'] as string[] | undefined) ?? [], compileOriginAllowList) ?? []),
    ...(policyEntries('TABLLM_ORIGINS', parseOriginsEnv(env.TABLLM_ORIGINS), compileOriginAllowList) ?? []),
  ];
  const apiKey = (v['api-key'] as string | undefined) ?? (env.TABLLM_API_KEY || undefined);
  if (apiKey !== undefined) policyEntries(v['api-key'] !== undefined ? '--api-key' : 'TABLLM_API_KEY', [apiKey], ([key]) => apiKeyCheck(key!));
  return {
    allowOrigins: allowOrigins.length > 0 ? allowOrigins : undefined,
    allowHosts: policyEntries('--allow-host', (v['allow-host'] as string[] | undefined) ?? [], checkAllowHosts),
    apiKey,
    requestTimeoutS: num('--request-timeout', v['request-timeout'] as string | undefined, { min: 0.001, max: 7 * 24 * 3600 }),
  };
}
