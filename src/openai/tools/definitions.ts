// OpenAI's tool fields, checked once: `tools` (function definitions: a name by OpenAI's
// rule, `parameters` a JSON Schema object), `tool_choice` (`none`, `auto`, `required`, or a
// named function), `parallel_tool_calls`, and the cross-field rules a table cannot say
// (unique names, a named or required choice needs tools, the named function must exist).

import { checkJsonSchema } from '../json-schema';
import { arrayOf, bool, identifier, invalid, isPlainObject, object, oneOf, preview, str, type Check, type ParamTable } from '../validate';

/** Most tools one request may define. */
export const MAX_TOOLS = 128;

export interface FunctionDefinition {
  name: string;
  description?: string;
  /** A JSON Schema of the arguments object; absent: no arguments. */
  parameters?: Record<string, unknown>;
  strict?: boolean | null;
}

export interface ChatTool {
  type: 'function';
  function: FunctionDefinition;
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export interface ToolFields {
  tools?: ChatTool[] | null;
  tool_choice?: ToolChoice | null;
  parallel_tool_calls?: boolean | null;
}

/** A function's `parameters`: a JSON Schema describing an object. */
const parameters: Check = (v, p) => {
  checkJsonSchema(v, p);
  const type = (v as Record<string, unknown>).type;
  if (type !== undefined && type !== 'object') throw invalid(`${p}.type`, `'${p}.type' must be 'object' (arguments are an object), got ${preview(type)}.`);
};

export const FUNCTION_TABLE: ParamTable = {
  name: { required: true, check: identifier },
  description: { check: str },
  parameters: { check: parameters },
  strict: { check: bool },
};

const TOOL: ParamTable = {
  type: { required: true, check: oneOf('function') },
  function: { required: true, check: object(FUNCTION_TABLE) },
};

const toolChoice: Check = (v, p) => {
  if (typeof v === 'string') return oneOf('none', 'auto', 'required')(v, p);
  if (!isPlainObject(v)) throw invalid(p, `'${p}' must be 'none', 'auto', 'required' or {type: 'function', function: {name}}, not ${preview(v)}.`);
  object({
    type: { required: true, check: oneOf('function') },
    function: { required: true, check: object({ name: { required: true, check: str } }) },
  })(v, p);
};

export const TOOL_PARAMS: ParamTable = {
  tools: { check: arrayOf(object(TOOL), { maxLength: MAX_TOOLS }) },
  tool_choice: { check: toolChoice },
  parallel_tool_calls: { check: bool },
};

/** The tools a request offers (null and [] are none). */
export function toolsOf(f: ToolFields): ChatTool[] {
  return f.tools ?? [];
}

/** OpenAI's default: `auto` with tools, `none` without. */
export function toolChoiceOf(f: ToolFields): ToolChoice {
  return f.tool_choice ?? (toolsOf(f).length > 0 ? 'auto' : 'none');
}

/** Cross-field rules of a request whose fields passed TOOL_PARAMS. */
export function toolRules(f: ToolFields): void {
  const tools = toolsOf(f);
  const seen = new Set<string>();
  tools.forEach((t, i) => {
    if (seen.has(t.function.name)) throw invalid(`tools[${i}].function.name`, `'tools[${i}].function.name' repeats the name '${t.function.name}'; each tool needs its own.`);
    seen.add(t.function.name);
  });
  const choice = toolChoiceOf(f);
  if (choice === 'none' || choice === 'auto') return;
  if (tools.length === 0) throw invalid('tool_choice', `'tool_choice' ${typeof choice === 'string' ? `'${choice}'` : 'naming a function'} needs 'tools'.`);
  if (typeof choice === 'object' && !seen.has(choice.function.name)) {
    throw invalid('tool_choice.function.name', `'tool_choice.function.name' names '${choice.function.name}', which is not in 'tools' (${[...seen].join(', ')}).`);
  }
}
