// WebLLM request → tabllm request. Runs the checks WebLLM runs before generating (same
// error names), maps WebLLM's `response_format` (json_object with an optional schema string,
// grammar, structural_tag) onto tabllm's constraints, rejects what tabllm cannot honour
// (tools, images, thinking switches) with UnsupportedFieldsError, fills sampling defaults from the
// model's chat options as WebLLM fills them from mlc-chat-config.json, and picks the
// tabllm fields one by one so nothing WebLLM-specific leaks into tabllm's validator.
import type { ChatCompletionRequest, ChatCompletionMessageParam, CompletionCreateParams, ResponseFormat } from './protocol';
import type { ChatOptions } from './types';
import type {
  ChatCompletionCreateParamsStreaming,
  ChatMessage,
  CompletionCreateParamsStreaming,
  SamplingFields,
} from '../../openai/engine-api';
import { requestErrors, UnsupportedFieldsError } from './errors';
import { inRange, RANGES } from '../../openai/ranges';
import type { StructuredFields } from '../../openai/structured';

const has = (v: unknown): boolean => v !== undefined && v !== null;

/** The generation fields WebLLM checks for both chat and completions. */
interface GenerationFields {
  frequency_penalty?: number | null;
  presence_penalty?: number | null;
  repetition_penalty?: number | null;
  max_tokens?: number | null;
  top_p?: number | null;
  temperature?: number | null;
  logit_bias?: Record<string, number> | null;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  seed?: number | null;
  n?: number | null;
  stream?: boolean | null;
  stream_options?: { include_usage?: boolean } | null;
}


function checkGeneration(r: GenerationFields): void {
  if (has(r.frequency_penalty) && !inRange(r.frequency_penalty!, RANGES.frequency_penalty)) throw requestErrors.range('frequency_penalty', RANGES.frequency_penalty.min, RANGES.frequency_penalty.max);
  if (has(r.presence_penalty) && !inRange(r.presence_penalty!, RANGES.presence_penalty)) throw requestErrors.range('presence_penalty', RANGES.presence_penalty.min, RANGES.presence_penalty.max);
  if (has(r.repetition_penalty) && !(r.repetition_penalty! > 0)) throw requestErrors.minValue('repetition_penalty', 0);
  if (has(r.max_tokens) && !(r.max_tokens! > 0)) throw requestErrors.minValue('max_tokens', 0);
  if (has(r.top_p) && !inRange(r.top_p!, RANGES.top_p)) throw requestErrors.range('top_p', RANGES.top_p.min, RANGES.top_p.max);
  if (has(r.temperature) && !(r.temperature! >= 0)) throw requestErrors.nonNegative('temperature');
  if (has(r.logit_bias)) {
    for (const [key, bias] of Object.entries(r.logit_bias!)) {
      if (!inRange(bias, RANGES.logit_bias)) throw requestErrors.range('logit_bias', RANGES.logit_bias.min, RANGES.logit_bias.max, `Got ${bias} for tokenID ${key}`);
      if (Number.isNaN(parseInt(key, 10))) throw requestErrors.numberString("logit_bias's keys", key);
    }
  }
  if (has(r.top_logprobs)) {
    if (!r.logprobs) throw requestErrors.dependency('top_logprobs', 'logprobs', true);
    if (!inRange(r.top_logprobs!, RANGES.top_logprobs)) throw requestErrors.range('top_logprobs', RANGES.top_logprobs.min, RANGES.top_logprobs.max, `Got ${r.top_logprobs}`);
  }
  if (r.stream && has(r.n) && r.n! > 1) throw requestErrors.streamingCount();
  if (has(r.seed) && !Number.isInteger(r.seed)) throw requestErrors.seedType(r.seed);
  if (has(r.stream_options) && !r.stream) throw requestErrors.streamOptions();
}

/**
 * Sampling fields for tabllm. WebLLM semantics kept: an absent field takes the model's chat
 * option (mlc-chat-config.json there, `chatOpts`/record overrides here); setting only one of
 * frequency/presence penalty makes the other 0.
 */
function sampling(r: GenerationFields & { ignore_eos?: boolean }, defaults: ChatOptions): SamplingFields {
  const out: SamplingFields = {
    temperature: r.temperature ?? defaults.temperature,
    top_p: r.top_p ?? defaults.top_p,
    frequency_penalty: r.frequency_penalty ?? (has(r.presence_penalty) ? 0 : defaults.frequency_penalty),
    presence_penalty: r.presence_penalty ?? (has(r.frequency_penalty) ? 0 : defaults.presence_penalty),
    repetition_penalty: r.repetition_penalty ?? defaults.repetition_penalty,
    max_tokens: r.max_tokens ?? undefined,
    seed: r.seed ?? undefined,
    n: r.n ?? undefined,
    logit_bias: r.logit_bias ?? undefined,
    ignore_eos: r.ignore_eos ?? undefined,
  };
  // Drop undefined keys: tabllm's validator treats present-but-undefined as absent anyway, but
  // a clean object is easier to read in a debugger and over postMessage.
  for (const key of Object.keys(out) as (keyof SamplingFields)[]) if (out[key] === undefined) delete out[key];
  return out;
}

function messageText(m: ChatCompletionMessageParam, index: number, modelId: string): string {
  if (m.role === 'assistant') {
    if (m.tool_calls !== undefined) throw new UnsupportedFieldsError([`messages[${index}].tool_calls`], 'ChatCompletionRequest');
    return m.content ?? '';
  }
  if (typeof m.content === 'string') return m.content;
  if (m.role !== 'user' || !Array.isArray(m.content)) throw requestErrors.contentType(`messages[${index}]`);
  let text = '';
  for (const part of m.content) {
    if (part.type !== 'text') throw requestErrors.nonVLMContent(modelId, m.content);
    text += part.text;
  }
  return text;
}

function toMessages(messages: ChatCompletionMessageParam[], modelId: string): ChatMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) throw requestErrors.messageOrder('`messages` must contain at least one message.');
  const out: ChatMessage[] = messages.map((m, index) => {
    if (m.role === 'system' && index !== 0) throw requestErrors.systemMessageOrder();
    if (m.role !== 'system' && m.role !== 'user' && m.role !== 'assistant') throw requestErrors.unsupportedRole(String((m as { role: unknown }).role));
    return { role: m.role, content: messageText(m, index, modelId) };
  });
  const last = messages[messages.length - 1]!;
  if (last.role !== 'user') throw requestErrors.messageOrder('Last message should be from either `user` or `tool`.');
  return out;
}

/**
 * WebLLM's `response_format` with its rules: a `schema` (JSON Schema text) only with
 * `json_object`, `grammar` (EBNF) exactly with type `grammar`, `structural_tag` exactly with
 * type `structural_tag`; `json_object` alone is any JSON. Mapped onto tabllm's surfaces.
 */
function structuredFields(format: ResponseFormat | undefined): StructuredFields {
  if (!has(format)) return {};
  const f = format!;
  if (has(f.schema) && f.type !== 'json_object') throw requestErrors.responseFormatSchema();
  if (has(f.grammar) !== (f.type === 'grammar')) throw requestErrors.responseFormatGrammar();
  if (has(f.structural_tag) !== (f.type === 'structural_tag')) throw requestErrors.responseFormatStructuralTag();
  switch (f.type) {
    case 'json_object': return has(f.schema) ? { structured_outputs: { json: f.schema! } } : { response_format: { type: 'json_object' } };
    case 'grammar': return { structured_outputs: { grammar: f.grammar! } };
    case 'structural_tag': return { structured_outputs: { structural_tag: typeof f.structural_tag === 'string' ? f.structural_tag : JSON.stringify(f.structural_tag) } };
    default: return {};
  }
}

export interface TranslatedChat {
  params: ChatCompletionCreateParamsStreaming;
  /** Whether the caller asked for a streamed answer (tabllm is always asked to stream). */
  stream: boolean;
  includeUsage: boolean;
  logprobs: boolean;
}

export function translateChatRequest(request: ChatCompletionRequest, modelId: string, defaults: ChatOptions): TranslatedChat {
  checkGeneration(request);
  const unsupported: string[] = [];
  if (has(request.tools)) unsupported.push('tools');
  if (has(request.tool_choice) && request.tool_choice !== 'none') unsupported.push('tool_choice');
  const extra = request.extra_body;
  if (has(extra?.enable_thinking)) unsupported.push('extra_body.enable_thinking');
  if (extra?.enable_latency_breakdown) unsupported.push('extra_body.enable_latency_breakdown');
  if (has(extra?.resumable) && extra!.resumable!.enabled) unsupported.push('extra_body.resumable');
  if (unsupported.length > 0) throw new UnsupportedFieldsError(unsupported, 'ChatCompletionRequest');

  const logprobs = request.logprobs === true;
  const params: ChatCompletionCreateParamsStreaming = {
    ...sampling(request, defaults),
    ...structuredFields(request.response_format),
    messages: toMessages(request.messages, modelId),
    stream: true,
    // Always asked for, so usage and runtime stats exist even when the caller did not ask.
    stream_options: { include_usage: true },
    ...(logprobs ? { logprobs: true, top_logprobs: request.top_logprobs ?? 0 } : {}),
  };
  return { params, stream: request.stream === true, includeUsage: request.stream_options?.include_usage === true, logprobs };
}

export interface TranslatedCompletion {
  params: CompletionCreateParamsStreaming;
  stream: boolean;
  includeUsage: boolean;
  logprobs: boolean;
  /** Non-streaming `echo`: the prompt is prepended to each choice's text, as WebLLM does. */
  echoPrompt: string | undefined;
}

export function translateCompletionRequest(request: CompletionCreateParams, defaults: ChatOptions): TranslatedCompletion {
  const unsupported = (['suffix', 'user', 'best_of'] as const).filter((f) => f in request);
  if (has((request.extra_body as { resumable?: unknown } | undefined)?.resumable)) unsupported.push('extra_body.resumable' as never);
  if (request.extra_body?.enable_latency_breakdown) unsupported.push('extra_body.enable_latency_breakdown' as never);
  if (unsupported.length > 0) throw new UnsupportedFieldsError([...unsupported], 'CompletionCreateParams');
  checkGeneration(request);
  if (typeof request.prompt !== 'string') throw requestErrors.contentType('prompt');
  const logprobs = request.logprobs === true;
  const params: CompletionCreateParamsStreaming = {
    ...sampling(request, defaults),
    prompt: request.prompt,
    stream: true,
    stream_options: { include_usage: true },
    // tabllm's legacy completions count top logprobs with a number; 0 still returns each token's own.
    ...(logprobs ? { logprobs: request.top_logprobs ?? 0 } : {}),
  };
  return {
    params,
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    logprobs,
    echoPrompt: request.stream !== true && request.echo === true ? request.prompt : undefined,
  };
}

/** The chat options tabllm honours; others (conv_template, tokenizer_files, …) are rejected. */
const HONOURED_CHAT_OPTIONS = new Set(['temperature', 'top_p', 'repetition_penalty', 'frequency_penalty', 'presence_penalty', 'context_window_size']);
/** Accepted only at their "off" values, which is how WebLLM's configs usually carry them. */
const OFF_VALUES: Record<string, (v: unknown) => boolean> = {
  sliding_window_size: (v) => v === -1,
  attention_sink_size: (v) => v === -1 || v === 0,
};

export function checkChatOptions(options: ChatOptions, where: string): void {
  const bad = Object.entries(options)
    .filter(([key, value]) => value !== undefined && !HONOURED_CHAT_OPTIONS.has(key) && !(OFF_VALUES[key]?.(value) ?? false))
    .map(([key]) => key);
  if (bad.length > 0) throw new UnsupportedFieldsError(bad, where);
}
