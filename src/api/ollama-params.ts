// Parameter tables of Ollama's native routes, and the mapping of Ollama's `options` onto
// the engine's OpenAI/vLLM sampling fields. Hardware hints (num_gpu, num_thread, …) are
// accepted and ignored, as they mean nothing on WebGPU; samplers tabllm lacks (mirostat,
// typical_p, tfs_z) are a 400 unless set to their "off" value.

import type { ChatMessage, SamplingFields } from '../engine/engine-api';
import {
  arrayOf,
  bool,
  int,
  invalid,
  isPlainObject,
  num,
  object,
  oneOf,
  str,
  stop,
  unsupportedParam,
  type Check,
  type ParamTable,
} from './validate';

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
  num_ctx?: number;
}

const OPTIONS: ParamTable = {
  temperature: { check: num(0, 2) },
  top_k: { check: int(0) },
  top_p: { check: num(0, 1, { minExclusive: true }) },
  min_p: { check: num(0, 1) },
  // -1: until EOS, -2: until the context is full; 0 would generate nothing.
  num_predict: {
    check: (v, p) => {
      int(-2)(v, p);
      if (v === 0) throw invalid(p, `'${p}' must be positive, -1 or -2.`);
    },
  },
  seed: { check: int(Number.MIN_SAFE_INTEGER) },
  stop: { check: stop },
  repeat_penalty: { check: num(0, 2, { minExclusive: true }) },
  presence_penalty: { check: num(-2, 2) },
  frequency_penalty: { check: num(-2, 2) },
  // The context length is fixed when the model loads (the KV pool is sized then); a
  // request cannot grow it, so num_ctx is checked for type and otherwise has no effect,
  // as Ollama clamps it to what the model allows.
  num_ctx: { check: int(1) },
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
  penalize_newline: { ignored: true },
  mirostat: { unsupported: (v) => v !== 0 },
  mirostat_tau: { ignored: true },
  mirostat_eta: { ignored: true },
  typical_p: { unsupported: (v) => v !== 1 },
  tfs_z: { unsupported: (v) => v !== 1 },
};

const ollamaMessage: Check = (v, p) => {
  if (isPlainObject(v) && v.role === 'tool') throw unsupportedParam(`${p}.role`, " (role 'tool')");
  object({
    role: { required: true, check: oneOf('system', 'user', 'assistant') },
    content: { check: str },
    images: { unsupported: nonEmpty },
    tool_calls: { unsupported: nonEmpty },
    tool_name: { unsupported: nonEmpty },
    thinking: { ignored: true },
  })(v, p);
};

const COMMON: ParamTable = {
  model: { required: true, check: str },
  stream: { check: bool },
  options: { check: object(OPTIONS) },
  keep_alive: { ignored: true },
  format: { unsupported: nonEmpty },
  think: { unsupported: (v) => v !== false },
};

export const CHAT_TABLE: ParamTable = {
  ...COMMON,
  messages: { check: arrayOf(ollamaMessage) },
  tools: { unsupported: nonEmpty },
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

export interface OllamaChatRequest {
  model: string;
  messages?: { role: 'system' | 'user' | 'assistant'; content?: string }[];
  stream?: boolean;
  options?: OllamaOptions;
}

export interface OllamaGenerateRequest {
  model: string;
  prompt?: string;
  system?: string;
  raw?: boolean;
  stream?: boolean;
  options?: OllamaOptions;
}

export function chatMessages(request: OllamaChatRequest): ChatMessage[] {
  return (request.messages ?? []).map((m) => ({ role: m.role, content: m.content ?? '' }));
}

/** Ollama `options` → the engine's sampling fields (names as OpenAI and vLLM spell them). */
export function samplingFromOptions(options: OllamaOptions | undefined): SamplingFields {
  const o = options ?? {};
  const fields: SamplingFields = {};
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
