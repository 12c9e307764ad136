// Parameter tables of the OpenAI routes (plus vLLM's extra sampling fields), and the
// cross-field rules a table cannot express. See validate.ts for how a table is read.

import type { ChatCompletionCreateParams, CompletionCreateParams, DetokenizeParams, TokenizeParams } from './engine-api';
import {
  arrayOf,
  bool,
  int,
  invalid,
  logitBias,
  messages,
  numIn,
  object,
  str,
  stop,
  streamOptions,
  unsupportedParam,
  validateBody,
  isPlainObject,
  type Check,
  type ParamTable,
} from './validate';
import { MAX_TOKENS, RANGES } from './ranges';
import { constraintOf, structuredSurfaces, STRUCTURED_PARAMS } from './structured';
import { TOOL_PARAMS, toolChoiceOf, toolRules, toolsOf } from './tools/definitions';


/** A list that asks for something: anything but null or `[]` (`tools`, `include`). */
export const isNonEmpty = (v: unknown): boolean => !(v === null || (Array.isArray(v) && v.length === 0));

/** Fields shared by chat and completions. */
const SAMPLING: ParamTable = {
  model: { check: str },
  stream: { check: bool },
  stream_options: { check: object(streamOptions) },
  n: { check: int(RANGES.n.min, RANGES.n.max) },
  max_tokens: { check: int(1, MAX_TOKENS) },
  temperature: { check: numIn(RANGES.temperature) },
  top_p: { check: numIn(RANGES.top_p) },
  seed: { check: int(Number.MIN_SAFE_INTEGER) },
  stop: { check: stop },
  presence_penalty: { check: numIn(RANGES.presence_penalty) },
  frequency_penalty: { check: numIn(RANGES.frequency_penalty) },
  logit_bias: { check: logitBias },
  // vLLM extras
  top_k: { check: int(-1) },
  min_p: { check: numIn(RANGES.min_p) },
  repetition_penalty: { check: numIn(RANGES.repetition_penalty) },
  // llama.cpp server's penalty window (Ollama's routes send it through here too).
  repeat_last_n: { check: int(-1, MAX_TOKENS) },
  ignore_eos: { check: bool },
  return_token_ids: { check: bool },
  // Structured output: OpenAI's response_format, vLLM's structured_outputs and guided_*.
  ...STRUCTURED_PARAMS,
  // Accepted and ignored, as OpenAI-compatible servers (vLLM) do.
  user: { ignored: true },
  store: { ignored: true },
  metadata: { ignored: true },
  service_tier: { ignored: true },
  prompt_cache_key: { ignored: true },
  safety_identifier: { ignored: true },
};

export const CHAT_PARAMS: ParamTable = {
  ...SAMPLING,
  messages: { required: true, check: messages },
  max_completion_tokens: { check: int(1, MAX_TOKENS) },
  logprobs: { check: bool },
  top_logprobs: { check: int(RANGES.top_logprobs.min, RANGES.top_logprobs.max) },
  ...TOOL_PARAMS,
  // Known, not supported: a non-default value is a 400, never silently dropped.
  // (The legacy `functions` API: clients send `tools` since 2023.)
  functions: { unsupported: isNonEmpty },
  function_call: { unsupported: (v) => v !== 'none' },
  audio: { unsupported: () => true },
  modalities: { unsupported: (v) => !(Array.isArray(v) && v.length === 1 && v[0] === 'text') },
  prediction: { unsupported: () => true },
  web_search_options: { unsupported: () => true },
  reasoning_effort: { unsupported: () => true },
  verbosity: { unsupported: () => true },
};

/** Completion prompts: a string or a non-empty array of strings (token-id prompts are unsupported). */
const prompt: Check = (v, p) => {
  if (typeof v === 'string') return;
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' || Array.isArray(x))) {
    throw unsupportedParam(p, ' as token ids (send text)');
  }
  arrayOf(str, { minLength: 1 })(v, p);
};

export const COMPLETION_PARAMS: ParamTable = {
  ...SAMPLING,
  prompt: { required: true, check: prompt },
  logprobs: { check: int(RANGES.top_logprobs.min, RANGES.top_logprobs.max) },
  echo: { check: bool },
  suffix: { unsupported: (v) => v !== '' },
  best_of: { check: int(RANGES.n.min, RANGES.n.max) },
};

export function streamRules(body: { stream?: boolean | null; stream_options?: unknown }): void {
  if (body.stream_options != null && body.stream !== true) {
    throw invalid('stream_options', "'stream_options' is only allowed when 'stream' is true.");
  }
}

export function validateChatParams(body: unknown): ChatCompletionCreateParams {
  const params = validateBody<ChatCompletionCreateParams>(body, CHAT_PARAMS);
  streamRules(params);
  if (params.top_logprobs != null && params.top_logprobs > 0 && params.logprobs !== true) {
    throw invalid('top_logprobs', "'top_logprobs' needs 'logprobs' to be true.");
  }
  toolRules(params);
  constraintOf(params);
  // A call the grammar forces and an output format are two constraints on one output.
  const choice = toolChoiceOf(params);
  const formats = structuredSurfaces(params);
  if (toolsOf(params).length > 0 && choice !== 'none' && formats.length > 0) {
    throw invalid(formats[0]!, `'${formats[0]}' and 'tools' (tool_choice ${typeof choice === 'string' ? `'${choice}'` : 'naming a function'}) both constrain the output: send one of them, or tool_choice 'none'.`);
  }
  return params;
}

export function validateCompletionParams(body: unknown): CompletionCreateParams {
  const params = validateBody<CompletionCreateParams & { best_of?: number | null }>(body, COMPLETION_PARAMS);
  streamRules(params);
  constraintOf(params);
  if (params.best_of != null && params.best_of !== (params.n ?? 1)) {
    throw unsupportedParam('best_of', ' (other than equal to n)');
  }
  if (params.best_of != null) delete params.best_of;
  return params;
}

const TOKENIZE_PROMPT: ParamTable = {
  model: { check: str },
  prompt: { required: true, check: str },
  add_special_tokens: { check: bool },
};

const TOKENIZE_CHAT: ParamTable = {
  model: { check: str },
  messages: { required: true, check: messages },
  add_special_tokens: { check: bool },
  add_generation_prompt: { check: bool },
  // vLLM's: the tools the chat template renders, so the count matches a chat request's prompt.
  tools: TOOL_PARAMS.tools!,
};

export function validateTokenizeParams(body: unknown): TokenizeParams {
  if (isPlainObject(body) && 'messages' in body) return validateBody<TokenizeParams>(body, TOKENIZE_CHAT);
  return validateBody<TokenizeParams>(body, TOKENIZE_PROMPT);
}

export function validateDetokenizeParams(body: unknown): DetokenizeParams {
  return validateBody<DetokenizeParams>(body, {
    model: { check: str },
    tokens: { required: true, check: arrayOf(int(0, 2 ** 31 - 1)) },
  });
}
