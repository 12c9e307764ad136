// XGrammar structural tags for tool calls (the format @mlc-ai/web-xgrammar's
// structural_tag.d.ts declares): each offered function becomes a `tag` whose begin text is
// the call's opening in the model's own format up to the arguments, whose content is the
// function's parameters as a JSON schema, and whose end closes the call. `required` and a
// named function allow nothing but calls; `auto` allows free text until a trigger (the
// format's call opener), then forces a whole, valid call.
import type { ChatTool } from './definitions';

export interface TagFormat {
  type: 'tag';
  begin: string;
  content: Record<string, unknown>;
  end: string;
}

/** How a format writes one call around its arguments' JSON. */
export interface CallFrame {
  begin: (name: string) => string;
  end: string;
}

/** A function without `parameters` takes none (OpenAI: "an empty parameter list"). */
const NO_PARAMETERS = { type: 'object', properties: {}, additionalProperties: false };

/** One tag per tool: `frame.begin(name)`, the arguments (valid against the function's schema), `frame.end`. */
export function callTags(tools: readonly ChatTool[], frame: CallFrame): TagFormat[] {
  return tools.map((t) => ({
    type: 'tag',
    begin: frame.begin(t.function.name),
    content: { type: 'json_schema', json_schema: t.function.parameters ?? NO_PARAMETERS },
    end: frame.end,
  }));
}

/** JSON text of a structural tag whose whole format is `format`. */
export function structuralTag(format: Record<string, unknown>): string {
  return JSON.stringify({ type: 'structural_tag', format });
}

/** `"name"` as the templates print it (json.dumps: a JSON string). */
export const jsonName = (name: string): string => JSON.stringify(name);
