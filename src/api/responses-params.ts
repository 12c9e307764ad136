// Parameter table of `POST /v1/responses` (OpenAI's Responses API) and the checks of its
// `input` items. Text in, text out: message items (string or `input_text`/`output_text`
// parts) and `item_reference`s to stored messages; structured output through `text.format`
// (`json_object`, `json_schema`). Tools, reasoning, images and files are known and a 400
// `unsupported_parameter`; any other field is a 400 `unknown_parameter`. See validate.ts
// for how a table is read.

import { isNonEmpty, streamRules } from '../openai/params';
import { checkJsonSchema } from '../openai/json-schema';
import type { ResponseFormat } from '../openai/structured';
import {
  arrayOf,
  bool,
  identifier,
  int,
  invalid,
  isPlainObject,
  num,
  numIn,
  object,
  oneOf,
  str,
  unsupportedParam,
  validateBody,
  type Check,
  type ParamTable,
} from '../openai/validate';
import { MAX_TOKENS, RANGES } from '../openai/ranges';

export type ResponsesRole = 'user' | 'assistant' | 'system' | 'developer';

export interface ResponsesTextPart {
  type: 'input_text' | 'output_text';
  text: string;
}

/** An `EasyInputMessage` or a full message item (`type: 'message'`, maybe an output message echoed back). */
export interface ResponsesMessageItem {
  type?: 'message' | null;
  role: ResponsesRole;
  content: string | ResponsesTextPart[];
  id?: string | null;
}

/** A message of a stored response, named by its id (the AI SDK sends these when `store` is on). */
export interface ResponsesItemReference {
  type: 'item_reference';
  id: string;
}

export type ResponsesInputItem = ResponsesMessageItem | ResponsesItemReference;

export interface ResponsesCreateParams {
  model?: string | null;
  input: string | ResponsesInputItem[];
  instructions?: string | null;
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stream?: boolean | null;
  stream_options?: { include_obfuscation?: boolean | null } | null;
  previous_response_id?: string | null;
  store?: boolean | null;
  metadata?: Record<string, string> | null;
  parallel_tool_calls?: boolean | null;
  tool_choice?: 'none' | 'auto' | null;
  text?: { format?: ResponsesTextFormat | null } | null;
}

/** `text.format`: the Responses API's flat form of chat's `response_format`. */
export type ResponsesTextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Record<string, unknown>; description?: string; strict?: boolean | null };


// Input item types of OpenAI's API that tabllm knows but does not serve (tool calls and
// their outputs, reasoning, built-in tools): a 400 `unsupported_parameter`, not "invalid".
const UNSUPPORTED_ITEM_TYPES = [
  'function_call',
  'function_call_output',
  'custom_tool_call',
  'custom_tool_call_output',
  'reasoning',
  'compaction',
  'file_search_call',
  'web_search_call',
  'computer_call',
  'computer_call_output',
  'image_generation_call',
  'code_interpreter_call',
  'local_shell_call',
  'local_shell_call_output',
  'shell_call',
  'shell_call_output',
  'apply_patch_call',
  'apply_patch_call_output',
  'mcp_list_tools',
  'mcp_approval_request',
  'mcp_approval_response',
  'mcp_call',
];

const UNSUPPORTED_PART_TYPES = ['input_image', 'input_file', 'input_audio', 'refusal'];

const TEXT_PART: ParamTable = {
  type: { check: oneOf('input_text', 'output_text') },
  text: { required: true, check: str },
  // Echoed output parts carry these; they say nothing about the text.
  annotations: { ignored: true },
  logprobs: { ignored: true },
  prompt_cache_breakpoint: { ignored: true },
};

const contentPart: Check = (v, p) => {
  if (!isPlainObject(v)) throw invalid(p, `'${p}' must be a content part object.`);
  if (typeof v.type === 'string' && UNSUPPORTED_PART_TYPES.includes(v.type)) {
    throw unsupportedParam(`${p}.type`, ` (content part type '${v.type}'; only 'input_text' and 'output_text' are)`);
  }
  if (v.type !== 'input_text' && v.type !== 'output_text') {
    throw invalid(`${p}.type`, `'${p}.type' must be 'input_text' or 'output_text', got ${JSON.stringify(v.type)}.`);
  }
  object(TEXT_PART)(v, p);
};

const content: Check = (v, p) => {
  if (typeof v === 'string') return;
  if (!Array.isArray(v)) throw invalid(p, `'${p}' must be a string or an array of content parts.`);
  arrayOf(contentPart)(v, p);
};

const MESSAGE_ITEM: ParamTable = {
  type: { check: oneOf('message') },
  role: { required: true, check: oneOf('user', 'assistant', 'system', 'developer') },
  content: { required: true, check: content },
  id: { check: str },
  // An output message echoed back carries its status; `phase` is a reasoning-model label.
  status: { ignored: true },
  phase: { ignored: true },
};

const ITEM_REFERENCE: ParamTable = {
  type: { required: true, check: oneOf('item_reference') },
  id: { required: true, check: str },
};

const inputItem: Check = (v, p) => {
  if (!isPlainObject(v)) throw invalid(p, `'${p}' must be an input item object.`);
  const type = v.type;
  if (type === undefined || type === null || type === 'message') return object(MESSAGE_ITEM)(v, p);
  if (type === 'item_reference') return object(ITEM_REFERENCE)(v, p);
  if (typeof type === 'string' && UNSUPPORTED_ITEM_TYPES.includes(type)) {
    throw unsupportedParam(`${p}.type`, ` (input item type '${type}'; only 'message' and 'item_reference' are)`);
  }
  throw invalid(`${p}.type`, `'${p}.type' must be 'message' or 'item_reference', got ${JSON.stringify(type)}.`);
};

const input: Check = (v, p) => {
  if (typeof v === 'string') return;
  if (!Array.isArray(v)) throw invalid(p, `'${p}' must be a string or an array of input items.`);
  arrayOf(inputItem, { minLength: 1 })(v, p);
};

/** `reasoning`: accepted only when it asks for nothing (every field null), as from a non-reasoning client. */
const REASONING: ParamTable = {
  effort: { unsupported: () => true },
  summary: { unsupported: () => true },
  generate_summary: { unsupported: () => true },
  mode: { unsupported: () => true },
  context: { unsupported: () => true },
};

const textFormat: Check = (v, p) => {
  if (!isPlainObject(v)) throw invalid(p, `'${p}' must be an object, not ${JSON.stringify(v)?.slice(0, 40)}.`);
  const type = { required: true, check: str };
  if (v.type === 'text' || v.type === 'json_object') return object({ type })(v, p);
  if (v.type === 'json_schema') {
    return object({ type, name: { required: true, check: identifier }, schema: { required: true, check: checkJsonSchema }, description: { check: str }, strict: { check: bool } })(v, p);
  }
  throw invalid(`${p}.type`, `'${p}.type' must be one of 'text', 'json_object', 'json_schema', got ${JSON.stringify(v.type)?.slice(0, 40)}.`);
};

/** `text`: the output's format (LangChain sends `{}`). */
const TEXT_CONFIG: ParamTable = {
  format: { check: textFormat },
  verbosity: { unsupported: () => true },
};

/** `text.format` as chat's `response_format` (undefined: plain text). */
export function responseFormatOf(params: ResponsesCreateParams): ResponseFormat | undefined {
  const f = params.text?.format;
  if (f == null || f.type === 'text') return undefined;
  if (f.type === 'json_object') return { type: 'json_object' };
  const { name, schema, description, strict } = f;
  return { type: 'json_schema', json_schema: { name, schema, ...(description !== undefined ? { description } : {}), ...(strict != null ? { strict } : {}) } };
}

export const RESPONSES_PARAMS: ParamTable = {
  model: { check: str },
  input: { required: true, check: input },
  instructions: { check: str },
  max_output_tokens: { check: int(1, MAX_TOKENS) },
  temperature: { check: numIn(RANGES.temperature) },
  top_p: { check: numIn(RANGES.top_p) },
  stream: { check: bool },
  // Obfuscation pads deltas against side channels on OpenAI's network; nothing to pad here.
  stream_options: { check: object({ include_obfuscation: { check: bool } }) },
  previous_response_id: { check: str },
  store: { check: bool },
  text: { check: object(TEXT_CONFIG) },
  reasoning: { check: object(REASONING) },
  truncation: { unsupported: (v) => v === 'auto', check: oneOf('auto', 'disabled') },
  include: { unsupported: isNonEmpty },
  tools: { unsupported: isNonEmpty },
  tool_choice: { unsupported: (v) => v !== 'none' && v !== 'auto' },
  top_logprobs: { unsupported: (v) => v !== 0, check: int(RANGES.top_logprobs.min, RANGES.top_logprobs.max) },
  // Accepted and ignored, as vLLM does (`store` is honoured: see responses-store.ts).
  user: { ignored: true },
  metadata: { ignored: true },
  parallel_tool_calls: { ignored: true },
  max_tool_calls: { ignored: true },
  service_tier: { ignored: true },
  prompt_cache_key: { ignored: true },
  prompt_cache_retention: { ignored: true },
  prompt_cache_options: { ignored: true },
  safety_identifier: { ignored: true },
  // Known, not supported.
  background: { unsupported: (v) => v !== false },
  conversation: { unsupported: () => true },
  prompt: { unsupported: () => true },
  context_management: { unsupported: isNonEmpty },
  moderation: { unsupported: () => true },
};

export function validateResponsesParams(body: unknown): ResponsesCreateParams {
  const params = validateBody<ResponsesCreateParams>(body, RESPONSES_PARAMS);
  streamRules(params);
  return params;
}
