// Table-driven request validation. Each route has a table: parameter name → spec.
// A spec either checks a value (wrong type/range → 400 naming the param), marks a
// parameter OpenAI-compatible servers accept and ignore (`user`, `store`, `metadata`), or
// marks one tabllm knows but does not support (a non-default value → 400 saying so, never
// silently ignored). A name in no table is an unknown parameter → 400.
//
// null means "absent" for every optional parameter, as in OpenAI's API.
//
// Failures are EngineErrors (`invalid_request`, `unknown_parameter`,
// `unsupported_parameter`, with `param`), so an engine that validates with these tables
// directly (not through the router) fails the same way, across postMessage too.

import { EngineError } from '../engine/errors';
import { inRange, RANGES, type Range } from './ranges';

export type Check = (value: unknown, param: string) => void;

export interface ParamSpec {
  /** Validates a present, non-null value; throws EngineError `invalid_request`. */
  check?: Check;
  required?: boolean;
  /** Accepted and ignored. */
  ignored?: boolean;
  /** Returns true when this value asks for something tabllm does not support. */
  unsupported?: (value: unknown) => boolean;
}

export type ParamTable = Record<string, ParamSpec>;

export function invalid(param: string | null, message: string): EngineError {
  return new EngineError('invalid_request', message, param ?? undefined);
}

export function unsupportedParam(param: string, detail = ''): EngineError {
  return new EngineError('unsupported_parameter', `'${param}' is not supported by tabllm${detail}.`, param);
}

const typeName = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

const PREVIEW_CHARS = 40;

/**
 * A JSON-like preview of `value` cut at `maxChars` (`[[[[…`). It walks with its own stack
 * and stops at the bound, so a 20,000-deep array or a 4 MiB string costs what it prints;
 * JSON.stringify would recurse through all of it (and overflow the call stack).
 */
export function preview(value: unknown, maxChars = PREVIEW_CHARS): string {
  let out = '';
  // Pending output, last first: a string is printed as-is; a box holds a value to print.
  const stack: (string | { value: unknown })[] = [{ value }];
  while (stack.length > 0 && out.length <= maxChars) {
    const top = stack.pop()!;
    if (typeof top === 'string') {
      out += top;
      continue;
    }
    const v = top.value;
    if (typeof v === 'string') out += JSON.stringify(v.length > maxChars ? v.slice(0, maxChars + 1) : v);
    else if (typeof v !== 'object' || v === null) out += String(v);
    else {
      // At most maxChars members: each prints at least one character.
      const members: (string | { value: unknown })[] = [];
      let count = 0;
      if (Array.isArray(v)) {
        for (const item of v) {
          if (count++ >= maxChars) break;
          if (count > 1) members.push(',');
          members.push({ value: item });
        }
      } else {
        for (const key in v) {
          if (!Object.hasOwn(v, key)) continue;
          if (count++ >= maxChars) break;
          members.push(`${count > 1 ? ',' : ''}${JSON.stringify(key.slice(0, maxChars + 1))}:`, { value: (v as Record<string, unknown>)[key] });
        }
      }
      const [open, close] = Array.isArray(v) ? ['[', ']'] : ['{', '}'];
      stack.push(close, ...members.reverse(), open);
    }
  }
  return out.length > maxChars ? `${out.slice(0, maxChars)}…` : out;
}

/** A bad value in an error message: its type and a bounded preview (`array [[[[…`). */
function describe(value: unknown): string {
  return `${typeName(value)} ${preview(value)}`;
}

/** Deepest JSON nesting a request body may have (arrays and objects). */
export const MAX_JSON_DEPTH = 128;

/**
 * True when `value` nests arrays/objects deeper than `maxDepth`. Iterative: JSON.parse
 * accepts any depth, but everything that copies a value recursively (structured clone
 * to a worker, JSON.stringify) overflows the call stack on a 20,000-deep one.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface ValidateOptions {
  /**
   * Ignore names the table lacks instead of a 400 `unknown_parameter`: Ollama's routes,
   * since Ollama's Go decoder drops unknown fields (and warns on unknown `options`).
   */
  ignoreUnknown?: boolean;
}

/** Checks `body` against `table`; returns it typed as T (the same object, unmodified). */
export function validateBody<T>(body: unknown, table: ParamTable, opts: ValidateOptions = {}): T {
  if (!isPlainObject(body)) throw invalid(null, `The request body must be a JSON object, not ${typeName(body)}.`);
  for (const [param, value] of Object.entries(body)) {
    // hasOwn: `constructor` or `__proto__` must not find Object.prototype's members.
    const spec = Object.hasOwn(table, param) ? table[param] : undefined;
    if (spec === undefined) {
      if (opts.ignoreUnknown) continue;
      throw new EngineError('unknown_parameter', `Unrecognized request argument supplied: ${param}`, param);
    }
    if (spec.ignored || value === null || value === undefined) continue;
    if (spec.unsupported?.(value)) throw unsupportedParam(param);
    spec.check?.(value, param);
  }
  for (const [param, spec] of Object.entries(table)) {
    if (spec.required && (body[param] === undefined || body[param] === null)) {
      throw invalid(param, `Missing required parameter: '${param}'.`);
    }
  }
  return body as T;
}

// ---------------------------------------------------------------------------------------
// Check builders

export const str: Check = (v, p) => {
  if (typeof v !== 'string') throw invalid(p, `'${p}' must be a string, not ${describe(v)}.`);
};

export const bool: Check = (v, p) => {
  if (typeof v !== 'boolean') throw invalid(p, `'${p}' must be a boolean, not ${describe(v)}.`);
};

/** A JSON number: `1e400` parses to Infinity, which no parameter accepts. */
function finite(v: unknown, p: string): asserts v is number {
  if (typeof v !== 'number') throw invalid(p, `'${p}' must be a number, not ${describe(v)}.`);
  if (!Number.isFinite(v)) throw invalid(p, `'${p}' must be a finite number, got ${v}.`);
}

export function num(min: number, max: number, opts: { minExclusive?: boolean } = {}): Check {
  return (v, p) => {
    finite(v, p);
    if (!inRange(v as number, { min, max, minExclusive: opts.minExclusive })) {
      throw invalid(p, `'${p}' must be in ${opts.minExclusive ? '(' : '['}${min}, ${max}], got ${v}.`);
    }
  };
}

/** `num` over a range of ranges.ts. */
export function numIn(r: Range): Check {
  return num(r.min, r.max, { minExclusive: 'minExclusive' in r && r.minExclusive === true });
}

export function int(min: number, max = Number.MAX_SAFE_INTEGER): Check {
  return (v, p) => {
    finite(v, p);
    if (!Number.isInteger(v)) throw invalid(p, `'${p}' must be an integer, got ${v}.`);
    if (v < min || v > max) throw invalid(p, `'${p}' must be in [${min}, ${max}], got ${v}.`);
  };
}

export function oneOf(...allowed: string[]): Check {
  return (v, p) => {
    if (typeof v !== 'string' || !allowed.includes(v)) {
      throw invalid(p, `'${p}' must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describe(v)}.`);
    }
  };
}

/** OpenAI's rule for function and response-schema names: a-z, A-Z, 0-9, `_` and `-`, 1 to 64 characters. */
export const NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;

export const identifier: Check = (v, p) => {
  str(v, p);
  if (!NAME_PATTERN.test(v as string)) {
    throw invalid(p, `'${p}' must be 1 to 64 characters of a-z, A-Z, 0-9, '_' and '-', got ${describe(v)}.`);
  }
};

export function arrayOf(item: Check, opts: { minLength?: number; maxLength?: number } = {}): Check {
  return (v, p) => {
    if (!Array.isArray(v)) throw invalid(p, `'${p}' must be an array, not ${describe(v)}.`);
    if (opts.minLength !== undefined && v.length < opts.minLength) {
      throw invalid(p, `'${p}' must have at least ${opts.minLength} item(s).`);
    }
    if (opts.maxLength !== undefined && v.length > opts.maxLength) {
      throw invalid(p, `'${p}' must have at most ${opts.maxLength} items.`);
    }
    v.forEach((x, i) => item(x, `${p}[${i}]`));
  };
}

export function object(table: ParamTable, opts: ValidateOptions = {}): Check {
  return (v, p) => {
    if (!isPlainObject(v)) throw invalid(p, `'${p}' must be an object, not ${describe(v)}.`);
    try {
      validateBody(v, table, opts);
    } catch (err) {
      if (err instanceof EngineError) {
        // Re-root the inner param under this one: `stream_options.include_usage`.
        if (err.param === undefined) throw new EngineError(err.code, err.message, p);
        const inner = `${p}.${err.param}`;
        throw new EngineError(err.code, err.message.replaceAll(`'${err.param}'`, `'${inner}'`), inner);
      }
      throw err;
    }
  };
}

// ---------------------------------------------------------------------------------------
// Shared parameter checks

/** OpenAI's `stop`: a string or an array of strings (non-empty strings). */
export const stop: Check = (v, p) => {
  const one: Check = (s, q) => {
    str(s, q);
    if ((s as string).length === 0) throw invalid(q, `'${q}' must not be empty.`);
  };
  if (Array.isArray(v)) arrayOf(one, { maxLength: 16 })(v, p);
  else one(v, p);
};

/** `{ "50256": -100 }`: keys are token ids, values in RANGES.logit_bias. */
export const logitBias: Check = (v, p) => {
  if (!isPlainObject(v)) throw invalid(p, `'${p}' must be an object of token id → bias.`);
  for (const [key, bias] of Object.entries(v)) {
    if (!/^\d+$/.test(key)) throw invalid(p, `'${p}' keys must be token ids, got ${preview(key)}.`);
    numIn(RANGES.logit_bias)(bias, p);
  }
};

/** Message content: a string, or text parts. Images/audio/files are unsupported. */
const content: Check = (v, p) => {
  if (typeof v === 'string') return;
  if (!Array.isArray(v)) throw invalid(p, `'${p}' must be a string or an array of content parts, not ${describe(v)}.`);
  v.forEach((part, j) => {
    const q = `${p}[${j}]`;
    if (!isPlainObject(part)) throw invalid(q, `'${q}' must be a content part object.`);
    if (part.type !== 'text') {
      if (typeof part.type === 'string' && ['image_url', 'input_audio', 'file', 'refusal'].includes(part.type)) {
        throw unsupportedParam(`${q}.type`, ` (content part type '${part.type}'; only 'text' is)`);
      }
      throw invalid(`${q}.type`, `'${q}.type' must be 'text'.`);
    }
    object({ type: { check: str }, text: { check: str, required: true } })(part, q);
  });
};

/** `function.arguments` of an assistant's tool call: JSON text of an object ('' counts as `{}`). */
const toolArguments: Check = (v, p) => {
  str(v, p);
  if (v === '') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(v as string);
  } catch {
    throw invalid(p, `'${p}' must be JSON text of an object (the call's arguments), got ${describe(v)}.`);
  }
  if (!isPlainObject(parsed)) throw invalid(p, `'${p}' must be JSON text of an object (the call's arguments), got ${describe(v)}.`);
};

const TOOL_CALL: ParamTable = {
  id: { required: true, check: str },
  type: { required: true, check: oneOf('function') },
  function: { required: true, check: object({ name: { required: true, check: str }, arguments: { required: true, check: toolArguments } }) },
};

const USER_MESSAGE: ParamTable = {
  role: { required: true, check: str },
  content: { required: true, check: content },
  name: { check: str },
};

const ASSISTANT_MESSAGE: ParamTable = {
  ...USER_MESSAGE,
  // Null or absent when the turn only calls tools (checked in `messages`).
  content: { check: content },
  refusal: { ignored: true },
  tool_calls: { check: arrayOf(object(TOOL_CALL)) },
  function_call: { unsupported: (v) => v !== null },
  reasoning_content: { ignored: true },
};

const TOOL_MESSAGE: ParamTable = {
  role: { required: true, check: str },
  content: { required: true, check: content },
  tool_call_id: { required: true, check: str },
  name: { check: str },
};

const MESSAGE_TABLES: Record<string, ParamTable> = {
  system: USER_MESSAGE,
  developer: USER_MESSAGE,
  user: USER_MESSAGE,
  assistant: ASSISTANT_MESSAGE,
  tool: TOOL_MESSAGE,
};

export const messages: Check = (v, p) => {
  if (!Array.isArray(v)) throw invalid(p, `'${p}' must be an array, not ${describe(v)}.`);
  if (v.length === 0) throw invalid(p, `'${p}' must contain at least one message.`);
  v.forEach((m, i) => {
    const q = `${p}[${i}]`;
    if (!isPlainObject(m)) throw invalid(q, `'${q}' must be an object, not ${describe(m)}.`);
    if (m.role === 'function') throw unsupportedParam(`${q}.role`, " (role 'function'; send role 'tool')");
    if (typeof m.role !== 'string' || !Object.hasOwn(MESSAGE_TABLES, m.role)) {
      if (m.role === undefined || m.role === null) throw invalid(`${q}.role`, `Missing required parameter: '${q}.role'.`);
      oneOf(...Object.keys(MESSAGE_TABLES))(m.role, `${q}.role`);
    }
    object(MESSAGE_TABLES[m.role as string]!)(m, q);
    const calls = Array.isArray(m.tool_calls) && m.tool_calls.length > 0;
    if (m.role === 'assistant' && !calls && (m.content === undefined || m.content === null)) {
      throw invalid(`${q}.content`, `Missing required parameter: '${q}.content' (an assistant message without 'tool_calls' needs content).`);
    }
  });
};

export const streamOptions: ParamTable = {
  include_usage: { check: bool },
  // vLLM's per-chunk usage: not supported, but false is fine.
  continuous_usage_stats: { unsupported: (v) => v !== false },
};
