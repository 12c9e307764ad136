// Tool requests for the batching tests: the constraints a chat request's tool_choice becomes
// (planTools, Hermes-style calls as Qwen2.5/Qwen3 write them), to mix with plain and
// schema-constrained requests, and what a forced call's output must start with.
import type { OutputConstraint } from '../../src/engine/request';
import type { ChatTool, ToolChoice } from '../../src/openai/tools/definitions';
import { hermes } from '../../src/openai/tools/hermes';
import { planTools } from '../../src/openai/tools/tool-plan';

/** Bounded arguments (a short city), so a forced call ends well before max_tokens. */
export const TOOLS: ChatTool[] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 6 } }, required: ['city'], additionalProperties: false } } },
  { type: 'function', function: { name: 'now' } },
];

export interface ToolCase {
  name: string;
  constraint: OutputConstraint;
  /** A forced call's text starts so (or is cut before it ends); '' for auto (free text first). */
  opening: string;
}

function toolCase(name: string, tool_choice: ToolChoice, parallel_tool_calls: boolean, opening: string): ToolCase {
  const plan = planTools({ tools: TOOLS, tool_choice, parallel_tool_calls }, '{{ tools }}', hermes)!;
  return { name, constraint: plan.constraint!, opening };
}

/** auto, required (parallel and not) and a named function. */
export const TOOL_CASES: ToolCase[] = [
  toolCase('auto', 'auto', true, ''),
  toolCase('required', 'required', true, '<tool_call>\n{"name": "'),
  toolCase('named get_weather', { type: 'function', function: { name: 'get_weather' } }, true, '<tool_call>\n{"name": "get_weather", "arguments": {'),
  toolCase('required, one call', 'required', false, '<tool_call>\n{"name": "'),
];

/** The text starts with the forced opening, or is a piece of it (cut by max_tokens). */
export function startsAsForced(text: string, opening: string): boolean {
  return text.startsWith(opening) || opening.startsWith(text);
}
