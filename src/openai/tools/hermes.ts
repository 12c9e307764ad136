// Hermes-style calls (NousResearch Hermes 2 Pro / 3, Qwen2.5, Qwen3, QwQ): each call is a
// JSON object inside `<tool_call>` … `</tool_call>`, several in a row for parallel calls:
//
//   <tool_call>
//   {"name": "get_weather", "arguments": {"city": "Paris"}}
//   </tool_call>
import type { ToolCallFormat } from './format';
import { callTags, jsonName, structuralTag } from './structural-tag';

const BEGIN = '<tool_call>';
const END = '</tool_call>';

export const hermes: ToolCallFormat = {
  name: 'hermes',
  detect: (source) => source.includes(BEGIN),
  syntax: { begin: [{ text: BEGIN }], end: END, bareJsonAtStart: false, argumentKeys: ['arguments'] },
  constraint(tools, mode, parallel) {
    const tags = callTags(tools, { begin: (name) => `${BEGIN}\n{"name": ${jsonName(name)}, "arguments": `, end: `}\n${END}` });
    const format = mode === 'required'
      ? { type: 'tags_with_separator', tags, separator: '\n', at_least_one: true, stop_after_first: !parallel }
      : { type: 'triggered_tags', triggers: [BEGIN], tags, at_least_one: false, stop_after_first: !parallel };
    return { kind: 'structural_tag', tag: structuralTag(format) };
  },
};
