// The llm node (flow `type: llm` and every .prompty): split its inputs into API parameters
// and template variables, render the Jinja2 template (role lines inside values escaped),
// parse the chat messages or keep the completion prompt, POST it to the connection's
// endpoint — the engine's router for local ones — and take the output PromptFlow gives.
import type { LlmSpec } from './definition';
import { parseChat, RoleEscaper } from './chat-parse';
import { resolveEndpoint, type ConnectionOptions, type Endpoint } from './connections';
import { FlowError } from './errors';
import { renderTemplate } from './template';

/** Token counts a run adds up (`usage` of every LLM answer). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface LlmNodeContext extends ConnectionOptions {
  /** The model id the engine is asked for (default: the first one its /v1/models lists). */
  model?: string;
  /** API parameters set on every LLM call of the run, over the flow's (e.g. `{ temperature: 0 }`). */
  llmParameters?: Readonly<Record<string, unknown>>;
  usage: TokenUsage;
  signal?: AbortSignal;
}

const INT_PARAMS = ['max_tokens', 'n', 'seed', 'best_of', 'logprobs', 'top_logprobs'];
const FLOAT_PARAMS = ['temperature', 'top_p', 'presence_penalty', 'frequency_penalty'];
const PASS_PARAMS = ['stop', 'logit_bias', 'user', 'response_format', 'tools', 'tool_choice', 'functions', 'function_call', 'suffix', 'echo'];
/** Node inputs that pick the model; never sent as parameters nor rendered. */
const MODEL_PARAMS = ['model', 'deployment_name', 'stream'];
const API_PARAMS = new Set([...INT_PARAMS, ...FLOAT_PARAMS, ...PASS_PARAMS, ...MODEL_PARAMS]);

export interface LlmCall {
  api: 'chat' | 'completion';
  /** The request body without `model`. */
  body: Record<string, unknown>;
}

/** Renders the node's prompt and builds the request body (exported for tests). */
export function buildLlmCall(
  spec: LlmSpec,
  template: string,
  inputs: Record<string, unknown>,
  where: { file?: string; node?: string },
  overrides: Readonly<Record<string, unknown>> = {},
): LlmCall {
  const raw: Record<string, unknown> = { ...spec.parameters };
  const vars: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(inputs)) (API_PARAMS.has(k) ? raw : vars)[k] = v;
  Object.assign(raw, overrides);
  const escaper = new RoleEscaper();
  const rendered = renderTemplate(template, escaper.escape(vars) as Record<string, unknown>, where);
  const body: Record<string, unknown> = {};
  if (spec.api === 'chat') {
    body.messages = parseChat(rendered, where).map((m) => ({ ...m, content: escaper.unescape(m.content) }));
  } else {
    body.prompt = escaper.unescape(rendered);
  }
  for (const [k, v] of Object.entries(raw)) {
    if (MODEL_PARAMS.includes(k) || v === undefined || v === null || v === '') continue;
    body[k] = apiParam(k, v, where);
  }
  return { api: spec.api, body };
}

/** PromptFlow passes node inputs as strings when the YAML quotes them (`max_tokens: '120'`). */
function apiParam(key: string, value: unknown, where: { file?: string; node?: string }): unknown {
  const bad = (want: string) => new FlowError('bad_llm_parameter', `${key} must be ${want}, got ${JSON.stringify(value)?.slice(0, 60)}`, where);
  if (INT_PARAMS.includes(key) || FLOAT_PARAMS.includes(key)) {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw bad('a number');
    if (INT_PARAMS.includes(key) && !Number.isInteger(n)) throw bad('an integer');
    return n;
  }
  if (key === 'stop') {
    if (typeof value === 'string') return [value];
    if (Array.isArray(value) && value.every((s) => typeof s === 'string')) return value;
    throw bad('a string or a list of strings');
  }
  if (key === 'response_format' && typeof value === 'string') {
    // `response_format: '{"type": "json_object"}'` as the PromptFlow UI writes it.
    try {
      return JSON.parse(value);
    } catch {
      if (value === 'text' || value === 'json_object') return { type: value };
      throw bad('an object like {"type": "json_object"}');
    }
  }
  return value;
}

const localModelIds = new WeakMap<object, Promise<string>>();

async function modelFor(endpoint: Endpoint, inputs: Record<string, unknown>, ctx: LlmNodeContext, where: { file?: string; node?: string }): Promise<string> {
  const named = (inputs.model ?? inputs.deployment_name ?? endpoint.deployment) as string | undefined;
  if (!endpoint.local) return String(named ?? '');
  if (ctx.model !== undefined) return ctx.model;
  // The flow names a cloud model (gpt-35-turbo); the engine serves what it loaded.
  let id = localModelIds.get(endpoint.fetch);
  if (!id) {
    id = (async () => {
      const res = await endpoint.fetch(`${endpoint.baseUrl}/models`);
      const list = (await res.json()) as { data?: Array<{ id?: string }> };
      const first = list.data?.[0]?.id;
      if (!res.ok || typeof first !== 'string') throw new FlowError('llm_request_failed', 'the local engine lists no model', where);
      return first;
    })();
    localModelIds.set(endpoint.fetch, id);
    id.catch(() => localModelIds.delete(endpoint.fetch));
  }
  return id;
}

export async function runLlmNode(
  spec: LlmSpec,
  template: string,
  inputs: Record<string, unknown>,
  ctx: LlmNodeContext,
  where: { file?: string; node?: string },
): Promise<unknown> {
  const call = buildLlmCall(spec, template, inputs, where, ctx.llmParameters);
  const endpoint = resolveEndpoint(spec.model, ctx, where);
  const model = await modelFor(endpoint, inputs, ctx, where);
  const path = call.api === 'chat' ? '/chat/completions' : '/completions';
  let res: Response;
  try {
    res = await endpoint.fetch(`${endpoint.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...endpoint.headers },
      body: JSON.stringify({ ...call.body, ...(endpoint.azure ? {} : { model }), stream: false }),
      signal: ctx.signal,
    });
  } catch (err) {
    throw new FlowError('llm_request_failed', `the request to ${endpoint.local ? 'the local engine' : endpoint.baseUrl} failed: ${(err as Error).message}`, where);
  }
  let json: Record<string, unknown>;
  try {
    json = (await res.json()) as Record<string, unknown>;
  } catch {
    throw new FlowError('llm_request_failed', `the model endpoint answered ${res.status} with a body that is not JSON`, where);
  }
  if (!res.ok) {
    const e = (json.error ?? {}) as { code?: unknown; message?: unknown };
    const detail = typeof e === 'string' ? e : `${String(e.message ?? '')}${e.code ? ` [${String(e.code)}]` : ''}`;
    throw new FlowError('llm_request_failed', `the model endpoint answered ${res.status}: ${detail}`, where);
  }
  const usage = json.usage as { prompt_tokens?: number; completion_tokens?: number } | undefined;
  ctx.usage.promptTokens += usage?.prompt_tokens ?? 0;
  ctx.usage.completionTokens += usage?.completion_tokens ?? 0;
  if (spec.response === 'all') return json;
  const choice = (json.choices as Array<{ text?: string; message?: { content?: string | null } }> | undefined)?.[0];
  const content = call.api === 'chat' ? choice?.message?.content : choice?.text;
  if (typeof content !== 'string') throw new FlowError('llm_request_failed', 'the model endpoint answered no choice with text', where);
  return jsonOutput(call.body.response_format, content, spec.outputs, where);
}

/** With `response_format: json_object`, the output is the parsed object (only the declared `outputs` fields). */
function jsonOutput(format: unknown, content: string, outputs: string[] | undefined, where: { file?: string; node?: string }): unknown {
  if ((format as { type?: unknown } | undefined)?.type !== 'json_object') return content;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    throw new FlowError('llm_request_failed', `response_format json_object, but the model answered text that is not JSON: ${content.slice(0, 80)}`, where);
  }
  if (!outputs || parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return parsed;
  const obj = parsed as Record<string, unknown>;
  return Object.fromEntries(outputs.map((k) => [k, obj[k] ?? null]));
}
