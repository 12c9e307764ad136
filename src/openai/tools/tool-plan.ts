// What a chat request's tool fields mean for one model: the tools the template renders,
// whether calls are parsed out of the answer, and the constraint that makes calls valid.
//
//   tool_choice   rendered   parsed   constraint (XGrammar structural tag)
//   none          yes        no       none (OpenAI and vLLM still show the tools)
//   auto          yes        yes      free text until the format's opener, then a valid call
//   required      yes        yes      only calls, at least one
//   {function}    yes        yes      exactly one call to that function
import type { OutputConstraint } from '../../engine/request';
import { EngineError } from '../../engine/errors';
import { toolChoiceOf, toolsOf, type ChatTool, type ToolFields } from './definitions';
import { templateUsesTools, type ToolCallFormat } from './format';

export interface ToolPlan {
  format: ToolCallFormat;
  /** Rendered through the template's `tools` variable. */
  tools: ChatTool[];
  /** Read calls out of the answer (tool_choice is not `none`). */
  parse: boolean;
  constraint: OutputConstraint | undefined;
}

/**
 * The plan for a validated request on a model whose template text is `templateSource`
 * and writes calls in `format` (null: none tabllm knows). Null when the request offers no tools.
 */
export function planTools(fields: ToolFields, templateSource: string, format: ToolCallFormat | null): ToolPlan | null {
  const tools = toolsOf(fields);
  if (tools.length === 0) return null;
  if (format === null) {
    const why = templateUsesTools(templateSource) ? 'writes tool calls in a format tabllm does not parse' : 'does not render tools';
    throw new EngineError('tools_not_supported_by_template', `This model's chat template ${why}, so it cannot be offered 'tools'.`, 'tools');
  }
  const choice = toolChoiceOf(fields);
  const parallel = fields.parallel_tool_calls ?? true;
  if (choice === 'none') return { format, tools, parse: false, constraint: undefined };
  if (choice === 'auto') return { format, tools, parse: true, constraint: format.constraint(tools, 'auto', parallel) };
  if (choice === 'required') return { format, tools, parse: true, constraint: format.constraint(tools, 'required', parallel) };
  const named = tools.filter((t) => t.function.name === choice.function.name);
  return { format, tools, parse: true, constraint: format.constraint(named, 'required', false) };
}
