// Parameter tables of Ollama's native routes, and the mapping of Ollama's `options` onto
// the engine's OpenAI/vLLM sampling fields. Hardware hints (num_gpu, num_thread, …) are
// accepted and ignored, as they mean nothing on WebGPU; samplers tabllm lacks (mirostat,
// typical_p, tfs_z) are a 400 unless set to their "off" value.
//
// Leniency, as Ollama: unknown fields (top level, `options`, messages) are ignored, since
// Ollama's Go decoder drops them; generation options sent at the top level (the AI SDK's
// Ollama provider sends `temperature`, `top_p`, `max_output_tokens` there) count as if
// given in `options`, and `options` wins when both name one.

import type { ChatMessage, ChatTool, ResponseFormat, SamplingFields } from '../openai/engine-api';
import { checkJsonSchema } from '../openai/json-schema';
import { FUNCTION_TABLE } from '../openai/tools/definitions';
import {
  arrayOf,
  bool,
  int,
  invalid,
  isPlainObject,
  num,
  numIn,
  object,
  oneOf,
  str,
  stop,
  type Check,
  type ParamTable,
  type ValidateOptions,
} from '../openai/validate';
import { RANGES } from '../openai/ranges';

/** Ollama's routes ignore fields they do not know (see the header). */
export const LENIENT: ValidateOptions = { ignoreUnknown: true };

/** Ollama's default penalty window (`repeat_last_n`), as llama.cpp's `penalty_last_n`. */
export const DEFAULT_REPEAT_LAST_N = 64;

const nonEmpty = (v: unknown): boolean => !(v === null || v === '' || (Array.isArray(v) && v.length === 0));

export interface OllamaOptions {
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  num_predict?: number;
  seed?: number;
  stop?: string | string[];
  repeat_penalty?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  repeat_last_n?: number;
  num_ctx?: number;
}

const OPTIONS: ParamTable = {
  temperature: { check: numIn(RANGES.temperature) },
  top_k: { check: int(0) },
  top_p: { check: numIn(RANGES.top_p) },
  min_p: { check: numIn(RANGES.min_p) },
  // -1: until EOS, -2: until the context is full; 0 would generate nothing.
  num_predict: {
    check: (v, p) => {
      int(-2)(v, p);
      if (v === 0) throw invalid(p, `'${p}' must be positive, -1 or -2.`);
    },
  },
  seed: { check: int(Number.MIN_SAFE_INTEGER) },
  stop: { check: stop },
  repeat_penalty: { check: numIn(RANGES.repetition_penalty) },
  presence_penalty: { check: numIn(RANGES.presence_penalty) },
  frequency_penalty: { check: numIn(RANGES.frequency_penalty) },
  // The context length is fixed when the model loads (the KV pool is sized then); a
  // request cannot grow it, so num_ctx is checked for type and otherwise has no effect,
  // as Ollama clamps it to what the model allows.
  num_ctx: { check: int(1) },
  // -1: the whole context, 0: penalties off (see samplingFromOptions).
  repeat_last_n: { check: int(-1) },
  num_keep: { ignored: true },
  num_batch: { ignored: true },
  num_gpu: { ignored: true },
  main_gpu: { ignored: true },
  num_thread: { ignored: true },
  use_mmap: { ignored: true },
  use_mlock: { ignored: true },
  low_vram: { ignored: true },
  f16_kv: { ignored: true },
  vocab_only: { ignored: true },
  numa: { ignored: true },
  // Removed from llama.cpp's sampling; current Ollama runners ignore it, and so does tabllm.
  penalize_newline: { ignored: true },
  mirostat: { unsupported: (v) => v !== 0 },
  mirostat_tau: { ignored: true },
  mirostat_eta: { ignored: true },
  typical_p: { unsupported: (v) => v !== 1 },
  tfs_z: { unsupported: (v) => v !== 1 },
};

/** Generation options a client may send at the top level instead of in `options`. */
const TOP_LEVEL_OPTIONS: ParamTable = {
  temperature: OPTIONS.temperature,
  top_k: OPTIONS.top_k,
  top_p: OPTIONS.top_p,
  min_p: OPTIONS.min_p,
  seed: OPTIONS.seed,
  stop: OPTIONS.stop,
  num_predict: OPTIONS.num_predict,
  // OpenAI's and the AI SDK's names for num_predict.
  max_tokens: { check: int(1) },
  max_output_tokens: { check: int(1) },
  repeat_penalty: OPTIONS.repeat_penalty,
  presence_penalty: OPTIONS.presence_penalty,
  frequency_penalty: OPTIONS.frequency_penalty,
  repeat_last_n: OPTIONS.repeat_last_n,
};

/** Ollama's tool call: arguments as an object (OpenAI's are JSON text). */
const OLLAMA_TOOL_CALL: ParamTable = {
  function: {
    required: true,
    check: object({ name: { required: true, check: str }, arguments: { check: object({}, LENIENT) }, index: { ignored: true } }, LENIENT),
  },
};

const ollamaMessage: Check = object({
  role: { required: true, check: oneOf('system', 'user', 'assistant', 'tool') },
  content: { check: str },
  images: { unsupported: nonEmpty },
  tool_calls: { check: arrayOf(object(OLLAMA_TOOL_CALL, LENIENT)) },
  tool_name: { check: str },
  thinking: { ignored: true },
}, LENIENT);

/** Ollama's tools: OpenAI's function definitions, read leniently. */
const OLLAMA_TOOL: ParamTable = {
  type: { check: oneOf('function') },
  function: { required: true, check: object(FUNCTION_TABLE, LENIENT) },
};

/** `format`: '' (none), 'json' (any JSON object) or a JSON Schema object. */
const format: Check = (v, p) => {
  if (v === '' || v === 'json') return;
  if (typeof v === 'string') throw invalid(p, `'${p}' must be 'json' or a JSON Schema object, got '${v.slice(0, 40)}'.`);
  checkJsonSchema(v, p);
};

const COMMON: ParamTable = {
  ...TOP_LEVEL_OPTIONS,
  model: { required: true, check: str },
  stream: { check: bool },
  options: { check: object(OPTIONS, LENIENT) },
  keep_alive: { ignored: true },
  format: { check: format },
  think: { unsupported: (v) => v !== false },
};

export const CHAT_TABLE: ParamTable = {
  ...COMMON,
  messages: { check: arrayOf(ollamaMessage) },
  tools: { check: arrayOf(object(OLLAMA_TOOL, LENIENT)) },
};

export const GENERATE_TABLE: ParamTable = {
  ...COMMON,
  prompt: { check: str },
  system: { check: str },
  raw: { check: bool },
  suffix: { unsupported: nonEmpty },
  images: { unsupported: nonEmpty },
  template: { unsupported: nonEmpty },
  context: { unsupported: nonEmpty },
};

/** What a validated request may hold: `options`, and options at the top level. */
interface OllamaRequestBase extends Omit<OllamaOptions, 'num_ctx'> {
  model: string;
  stream?: boolean;
  options?: OllamaOptions;
  max_tokens?: number;
  max_output_tokens?: number;
  format?: '' | 'json' | Record<string, unknown> | null;
}

export interface OllamaToolCall {
  function: { name: string; arguments?: Record<string, unknown> };
}

export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content?: string;
  tool_calls?: OllamaToolCall[];
  tool_name?: string;
}

export interface OllamaChatRequest extends OllamaRequestBase {
  messages?: OllamaMessage[];
  tools?: { type?: 'function'; function: ChatTool['function'] }[] | null;
}

export interface OllamaGenerateRequest extends OllamaRequestBase {
  prompt?: string;
  system?: string;
  raw?: boolean;
}

/**
 * Ollama's messages as OpenAI's. Ollama's calls and results carry no ids: each call gets
 * one (`call_<message>_<k>`), and a `tool` message answers the oldest unanswered call (the
 * one with its `tool_name` when it names one).
 */
export function chatMessages(request: OllamaChatRequest): ChatMessage[] {
  const unanswered: { id: string; name: string }[] = [];
  return (request.messages ?? []).map((m, i): ChatMessage => {
    if (m.role === 'assistant' && m.tool_calls !== undefined && m.tool_calls.length > 0) {
      const tool_calls = m.tool_calls.map((c, k) => {
        const id = `call_${i}_${k}`;
        unanswered.push({ id, name: c.function.name });
        return { id, type: 'function' as const, function: { name: c.function.name, arguments: JSON.stringify(c.function.arguments ?? {}) } };
      });
      return { role: 'assistant', content: m.content ?? '', tool_calls };
    }
    if (m.role === 'tool') {
      const k = Math.max(0, unanswered.findIndex((c) => m.tool_name === undefined || c.name === m.tool_name));
      const [answered] = unanswered.splice(k, 1);
      const name = m.tool_name ?? answered?.name;
      return { role: 'tool', content: m.content ?? '', tool_call_id: answered?.id ?? `call_${i}`, ...(name !== undefined ? { name } : {}) };
    }
    return { role: m.role, content: m.content ?? '' };
  });
}

/** Ollama's `format` as OpenAI's `response_format` (undefined: free text). */
export function responseFormatOf(format: OllamaRequestBase['format']): ResponseFormat | undefined {
  if (format === undefined || format === null || format === '') return undefined;
  if (format === 'json') return { type: 'json_object' };
  return { type: 'json_schema', json_schema: { name: 'ollama_format', schema: format } };
}

/** Ollama's tools as OpenAI's: `type` may be left out, and fields OpenAI's table lacks are dropped (Ollama ignores them). */
export function toolsOf(request: OllamaChatRequest): ChatTool[] | undefined {
  if (!request.tools || request.tools.length === 0) return undefined;
  return request.tools.map(({ function: { name, description, parameters } }) => ({
    type: 'function',
    function: { name, ...(description != null ? { description } : {}), ...(parameters != null ? { parameters } : {}) },
  }));
}

/**
 * The options a request asks for: top-level generation fields, overridden by `options`
 * (null = absent). num_predict's own name wins over max_output_tokens over max_tokens.
 */
export function requestOptions(request: OllamaRequestBase): OllamaOptions {
  const merged: Record<string, unknown> = {};
  const numPredict = request.num_predict ?? request.max_output_tokens ?? request.max_tokens;
  if (numPredict != null) merged.num_predict = numPredict;
  for (const key of Object.keys(TOP_LEVEL_OPTIONS)) {
    const value = (request as unknown as Record<string, unknown>)[key];
    if (value != null && key !== 'max_tokens' && key !== 'max_output_tokens' && key !== 'num_predict') merged[key] = value;
  }
  for (const [key, value] of Object.entries(request.options ?? {})) if (value != null) merged[key] = value;
  return merged as OllamaOptions;
}

/** Ollama `options` → the engine's sampling fields (names as OpenAI and vLLM spell them). */
export function samplingFromOptions(options: OllamaOptions | undefined): SamplingFields {
  const o = options ?? {};
  // Ollama's penalties always look through a window (default 64 tokens of prompt + output).
  const fields: SamplingFields = { repeat_last_n: o.repeat_last_n ?? DEFAULT_REPEAT_LAST_N };
  if (o.temperature !== undefined) fields.temperature = o.temperature;
  if (o.top_k !== undefined) fields.top_k = o.top_k;
  if (o.top_p !== undefined) fields.top_p = o.top_p;
  if (o.min_p !== undefined) fields.min_p = o.min_p;
  if (o.num_predict !== undefined && o.num_predict > 0) fields.max_tokens = o.num_predict;
  if (o.seed !== undefined) fields.seed = o.seed;
  if (o.stop !== undefined) fields.stop = o.stop;
  if (o.repeat_penalty !== undefined) fields.repetition_penalty = o.repeat_penalty;
  if (o.presence_penalty !== undefined) fields.presence_penalty = o.presence_penalty;
  if (o.frequency_penalty !== undefined) fields.frequency_penalty = o.frequency_penalty;
  return fields;
}
