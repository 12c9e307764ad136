// Chat templates: renders a model's `tokenizer.chat_template` (HF Jinja) into the prompt
// string, the way transformers' `apply_chat_template` does. @huggingface/jinja already
// tokenizes with trim_blocks + lstrip_blocks (jinja2's settings in transformers) and its
// `tojson` prints like Python's json.dumps(ensure_ascii=False); what we add is the global
// helpers with our own error type, message normalization, and a deterministic clock hook.
//
// The rendered prompt already contains the BOS text when the template writes
// `{{ bos_token }}`: the caller must tokenize it with special tokens parsed and must not
// prepend another BOS.

import { Environment, Template } from '@huggingface/jinja';
import type { GGUFMetadata } from '../gguf/types';
import { TemplateError } from './errors';
import { strftime } from './strftime';
import { LenientInterpreter } from './lenient-interpreter';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';
const CHAT_ROLES: ReadonlySet<string> = new Set<ChatRole>(['system', 'user', 'assistant', 'tool']);

export interface ChatTextPart {
  type: 'text';
  text: string;
}

export interface ChatToolCall {
  id?: string;
  type?: 'function';
  function: { name: string; arguments: string | Record<string, unknown> };
}

export interface ChatMessage {
  role: ChatRole;
  /** A string, text parts (joined with "\n", as vLLM does), or null (assistant turn with tool calls only; rendered as ''). */
  content: string | ChatTextPart[] | null;
  name?: string;
  tool_calls?: ChatToolCall[];
  tool_call_id?: string;
}

export interface RenderOptions {
  messages: readonly ChatMessage[];
  /** Append the header that opens the assistant's turn. */
  addGenerationPrompt: boolean;
  /** OpenAI-style tool definitions ({type:'function', function:{name, description, parameters}}). */
  tools?: readonly unknown[];
  /** More template variables: `date_string`, `enable_thinking`, `pad_token`, … */
  extra?: Record<string, unknown>;
}

export interface ChatTemplateOptions {
  /** Text of the BOS / EOS tokens (`{{ bos_token }}`, `{{ eos_token }}`). */
  bosToken?: string;
  eosToken?: string;
  /** Clock for `strftime_now`; tests pass a fixed date. */
  now?: () => Date;
}

export interface FromMetadataOptions {
  /** A template that replaces (or supplies) the model's own. */
  override?: string;
  now?: () => Date;
}

/** Variables the renderer owns; `extra` may not replace them. */
const RESERVED_VARIABLES = new Set([
  'messages', 'add_generation_prompt', 'tools', 'raise_exception', 'strftime_now', 'range',
  'true', 'false', 'none', 'True', 'False', 'None', 'namespace',
]);

export class ChatTemplate {
  readonly source: string;
  readonly bosToken: string;
  readonly eosToken: string;
  private readonly parsed: Template['parsed'];
  private readonly now: () => Date;

  constructor(source: string, options: ChatTemplateOptions = {}) {
    if (typeof source !== 'string' || source.length === 0) {
      throw new TemplateError('template_error', 'chat template must be a non-empty string');
    }
    this.source = source;
    this.bosToken = options.bosToken ?? '';
    this.eosToken = options.eosToken ?? '';
    this.now = options.now ?? (() => new Date());
    try {
      this.parsed = new Template(source).parsed;
    } catch (err) {
      throw new TemplateError('template_error', `chat template does not parse: ${errorMessage(err)}`);
    }
  }

  /**
   * The model's template from GGUF metadata (`tokenizer.chat_template`), with BOS/EOS text
   * looked up in `tokenizer.ggml.tokens`; `override` wins over the file's template. Returns
   * null when there is neither (the engine then raises `modelHasNoChatTemplateError`).
   */
  static fromMetadata(metadata: GGUFMetadata, options: FromMetadataOptions = {}): ChatTemplate | null {
    const fromFile = metadata['tokenizer.chat_template'];
    if (fromFile !== undefined && typeof fromFile !== 'string') {
      throw new TemplateError('template_error', 'tokenizer.chat_template in the GGUF is not a string');
    }
    const source = options.override ?? fromFile;
    if (source === undefined) return null;
    return new ChatTemplate(source, {
      bosToken: specialTokenText(metadata, 'tokenizer.ggml.bos_token_id'),
      eosToken: specialTokenText(metadata, 'tokenizer.ggml.eos_token_id'),
      now: options.now,
    });
  }

  render(options: RenderOptions): string {
    const messages = normalizeMessages(options.messages);
    if (options.tools !== undefined && !Array.isArray(options.tools)) {
      throw new TemplateError('invalid_message', 'tools must be an array', 'tools');
    }
    const env = new Environment();
    const variables: Record<string, unknown> = {
      true: true, false: false, none: null, True: true, False: false, None: null,
      range: pyRange,
      raise_exception: (message: unknown) => {
        throw new TemplateError('template_error', String(message));
      },
      strftime_now: (format: unknown) => strftime(this.now(), String(format)),
      bos_token: this.bosToken,
      eos_token: this.eosToken,
    };
    const extra: unknown = options.extra ?? {};
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) {
      throw new TemplateError('invalid_message', 'extra template variables must be an object', 'extra');
    }
    for (const [key, value] of Object.entries(extra)) {
      if (RESERVED_VARIABLES.has(key)) {
        throw new TemplateError('invalid_message', `template variable '${key}' cannot be set through extra`, key);
      }
      variables[key] = value;
    }
    // transformers passes tools=None and documents=None when absent; templates test `tools is not none`.
    variables.messages = messages;
    variables.add_generation_prompt = options.addGenerationPrompt;
    variables.tools = options.tools ?? null;
    if (!('documents' in variables)) variables.documents = null;
    for (const [key, value] of Object.entries(variables)) {
      try {
        env.set(key, value);
      } catch (err) {
        throw new TemplateError('invalid_message', `template variable '${key}' has an unsupported value: ${errorMessage(err)}`, key);
      }
    }

    let result: unknown;
    try {
      result = new LenientInterpreter(env).run(this.parsed).value;
    } catch (err) {
      if (err instanceof TemplateError) throw err;
      throw new TemplateError('template_error', `chat template failed to render: ${errorMessage(err)}`);
    }
    if (typeof result !== 'string') {
      throw new TemplateError('template_error', 'chat template did not render to a string');
    }
    return result;
  }
}

function specialTokenText(metadata: GGUFMetadata, idKey: string): string | undefined {
  const id = metadata[idKey];
  const tokens = metadata['tokenizer.ggml.tokens'];
  if (typeof id !== 'number' || !Array.isArray(tokens)) return undefined;
  const text = tokens[id];
  return typeof text === 'string' ? text : undefined;
}

/** Python's range(stop) / range(start, stop[, step]). */
function pyRange(start: number, stop?: number, step = 1): number[] {
  if (stop === undefined) [start, stop] = [0, start];
  if (step === 0) throw new TemplateError('template_error', 'range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) out.push(i);
  return out;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Validates caller messages and turns them into the plain objects HF templates expect. */
function normalizeMessages(messages: readonly ChatMessage[]): Record<string, unknown>[] {
  if (!Array.isArray(messages)) {
    throw new TemplateError('invalid_message', 'messages must be an array', 'messages');
  }
  return messages.map((message, index) => {
    const where = `messages[${index}]`;
    if (typeof message !== 'object' || message === null) {
      throw new TemplateError('invalid_message', `${where} must be an object`, where);
    }
    if (!CHAT_ROLES.has(message.role)) {
      throw new TemplateError(
        'invalid_message',
        `${where}.role must be one of system, user, assistant, tool (got ${JSON.stringify(message.role)})`,
        `${where}.role`,
      );
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(message)) {
      if (value !== undefined) out[key] = value;
    }
    out.content = normalizeContent(message.content, where);
    if (message.tool_calls !== undefined) out.tool_calls = normalizeToolCalls(message.tool_calls, where);
    return out;
  });
}

/**
 * Null content (an assistant turn that only calls tools) becomes '' as in vLLM: most HF
 * templates concatenate or `| trim` the content, which fails on None in jinja2 as well.
 */
function normalizeContent(content: unknown, where: string): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (!Array.isArray(content)) {
    throw new TemplateError(
      'invalid_message', `${where}.content must be a string, an array of text parts, or null`, `${where}.content`,
    );
  }
  const texts = content.map((part: unknown, partIndex) => {
    const p = part as Partial<ChatTextPart> | null;
    if (typeof p !== 'object' || p === null || p.type !== 'text' || typeof p.text !== 'string') {
      const kind = typeof p === 'object' && p !== null ? JSON.stringify(p.type) : typeof p;
      throw new TemplateError(
        'invalid_message',
        `${where}.content[${partIndex}] must be {type:'text', text} (got type ${kind}); only text content is supported`,
        `${where}.content[${partIndex}]`,
      );
    }
    return p.text;
  });
  return texts.join('\n');
}

/**
 * OpenAI sends `function.arguments` as a JSON string; HF templates (Qwen, Llama 3.1) print it
 * with `| tojson` and expect an object, so a string that parses to an object is parsed (as vLLM does).
 */
function normalizeToolCalls(toolCalls: unknown, where: string): unknown[] {
  if (!Array.isArray(toolCalls)) {
    throw new TemplateError('invalid_message', `${where}.tool_calls must be an array`, `${where}.tool_calls`);
  }
  return toolCalls.map((call: unknown, callIndex) => {
    const c = call as Partial<ChatToolCall> | null;
    if (typeof c !== 'object' || c === null || typeof c.function !== 'object' || c.function === null ||
        typeof c.function.name !== 'string') {
      throw new TemplateError(
        'invalid_message', `${where}.tool_calls[${callIndex}] must have function.name`, `${where}.tool_calls[${callIndex}]`,
      );
    }
    let args = c.function.arguments;
    if (typeof args === 'string') {
      try {
        const parsed: unknown = JSON.parse(args);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          args = parsed as Record<string, unknown>;
        }
      } catch {
        // Not JSON: the template gets the raw string, as the caller sent it.
      }
    }
    return { ...c, function: { ...c.function, arguments: args } };
  });
}
