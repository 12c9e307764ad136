// Llama 3.1 – 3.3 JSON calls: the whole answer is a JSON object with `name` and
// `parameters`, maybe after `<|python_tag|>` (the template teaches
// `{"name": function name, "parameters": dictionary of argument name and its value}`).
// The templates take one call per turn; several are read when separated by `;` (as vLLM's
// llama3_json parser reads them).
//
//   {"name": "get_weather", "parameters": {"city": "Paris"}}
import type { ToolCallFormat } from './format';
import { callTags, jsonName, structuralTag } from './structural-tag';

const PYTHON_TAG = '<|python_tag|>';
const OPENER = '{"name": ';

export const llamaJson: ToolCallFormat = {
  name: 'llama3_json',
  detect: (source) => source.includes('"parameters": dictionary of argument name') || source.includes(PYTHON_TAG),
  syntax: {
    begin: [{ text: PYTHON_TAG }, { text: OPENER, partOfBody: true }],
    end: null,
    bareJsonAtStart: true,
    argumentKeys: ['parameters', 'arguments'],
  },
  constraint(tools, mode, parallel) {
    const tags = callTags(tools, { begin: (name) => `${OPENER}${jsonName(name)}, "parameters": `, end: '}' });
    const format = mode === 'required'
      ? { type: 'tags_with_separator', tags, separator: '; ', at_least_one: true, stop_after_first: !parallel }
      : { type: 'triggered_tags', triggers: [OPENER], tags, at_least_one: false, stop_after_first: !parallel };
    return { kind: 'structural_tag', tag: structuralTag(format) };
  },
};
