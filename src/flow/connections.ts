// Where an llm node's request goes. A connection (or prompty configuration) whose base URL
// is a local server (vLLM's localhost:8000, Ollama's localhost:11434, or one the run names),
// one with no URL at all, or any connection when the run says `engineServes: 'all'`, is
// answered by the tabllm engine through the same router the fetch shim uses; the rest go to
// the network with their key.
import type { Engine } from '../openai/engine-api';
import { createOpenAIFetch, DEFAULT_SHIM_ORIGINS, type FetchLike } from '../shim/fetch';
import type { ModelConfig } from './definition';
import { FlowError } from './errors';

/** A PromptFlow connection (`pf connection create` YAML fields). */
export interface FlowConnection {
  type?: 'open_ai' | 'azure_openai' | string;
  api_base?: string;
  base_url?: string;
  azure_endpoint?: string;
  api_key?: string;
  api_version?: string;
}

export interface ConnectionOptions {
  engine?: Engine;
  /** Named connections (`open_ai_connection: { type: open_ai, api_base: … }`). */
  connections?: Readonly<Record<string, FlowConnection>>;
  /** Base URLs served by the engine besides the local-server defaults. */
  localBaseUrls?: readonly string[];
  /** `'all'`: the engine answers every connection, whatever its URL. Default `'local'`. */
  engineServes?: 'local' | 'all';
  /** The network fetch for remote connections (default: globalThis.fetch). */
  fetch?: FetchLike;
  /** `${env:NAME}` values in prompty configurations (default: none). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Endpoint {
  local: boolean;
  fetch: FetchLike;
  /** `…/chat/completions` or `…/completions` follows. */
  baseUrl: string;
  headers: Record<string, string>;
  /** The model to send when the node names none the endpoint knows (Azure's deployment). */
  deployment?: string;
  azure: boolean;
}

const LOCAL_BASE = 'http://localhost:8000/v1';
const engineFetches = new WeakMap<Engine, FetchLike>();

function envValue(v: string | undefined, env: ConnectionOptions['env']): string | undefined {
  if (v === undefined) return undefined;
  const m = /^\$\{env:([^}]+)\}$/.exec(v.trim());
  return m ? env?.[m[1]!.trim()] || undefined : v;
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

export function resolveEndpoint(config: ModelConfig, options: ConnectionOptions, where: { file?: string; node?: string }): Endpoint {
  const named = config.connection !== undefined ? options.connections?.[config.connection] : undefined;
  const type = named?.type ?? config.type;
  const azure = type === 'azure_openai';
  const baseUrl = envValue(named?.api_base ?? named?.base_url ?? named?.azure_endpoint ?? config.baseUrl, options.env);
  const apiKey = envValue(named?.api_key ?? config.apiKey, options.env);
  const origin = baseUrl === undefined ? undefined : originOf(baseUrl);
  if (baseUrl !== undefined && origin === undefined) throw new FlowError('llm_request_failed', `the connection's base URL '${baseUrl}' is not a URL`, where);
  const localOrigins = [...DEFAULT_SHIM_ORIGINS, ...(options.localBaseUrls ?? []).map(originOf)];
  const local = options.engineServes === 'all' || origin === undefined || localOrigins.includes(origin);
  if (local) {
    const engine = options.engine;
    if (!engine) {
      const name = config.connection ? `connection '${config.connection}'` : 'the model configuration';
      throw new FlowError('llm_request_failed', `${name} is served by the local engine, and none was given (the engine option; --model on the CLI)`, where);
    }
    let f = engineFetches.get(engine);
    if (!f) engineFetches.set(engine, (f = createOpenAIFetch(engine)));
    return { local: true, fetch: f, baseUrl: LOCAL_BASE, headers: {}, azure: false };
  }
  const f = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  if (azure) {
    const deployment = config.deployment;
    const version = named?.api_version ?? '2024-02-01';
    return {
      local: false,
      fetch: (input, init) => f(`${String(input)}?api-version=${encodeURIComponent(version)}`, init),
      baseUrl: `${baseUrl!.replace(/\/+$/, '')}/openai/deployments/${encodeURIComponent(deployment ?? '')}`,
      headers: apiKey ? { 'api-key': apiKey } : {},
      deployment,
      azure: true,
    };
  }
  return { local: false, fetch: f, baseUrl: baseUrl!.replace(/\/+$/, ''), headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, deployment: config.deployment, azure: false };
}
