// Mistral calls (Mistral 7B v0.3, Nemo, Small): `[TOOL_CALLS]` then a JSON array of call
// objects, parallel calls in the one array. Its templates require call ids of exactly nine
// alphanumerics in history, so ids are mapped to that form there (tabllm's own `call_…` ids
// keep their nine-character tail, so a call and its result still pair up).
//
//   [TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]
import type { ToolCallFormat } from './format';
import { callTags, jsonName, structuralTag } from './structural-tag';

const BEGIN = '[TOOL_CALLS]';

export const mistral: ToolCallFormat = {
  name: 'mistral',
  detect: (source) => source.includes(BEGIN),
  syntax: { begin: [{ text: BEGIN }], end: null, bareJsonAtStart: false, argumentKeys: ['arguments'] },
  constraint(tools, mode, parallel) {
    const calls = {
      type: 'tags_with_separator',
      tags: callTags(tools, { begin: (name) => `{"name": ${jsonName(name)}, "arguments": `, end: '}' }),
      separator: ', ',
      at_least_one: true,
      stop_after_first: !parallel,
    };
    const array = { type: 'tag', begin: `${BEGIN}[`, content: calls, end: ']' };
    const format = mode === 'required' ? array : { type: 'triggered_tags', triggers: [BEGIN], tags: [array], at_least_one: false, stop_after_first: true };
    return { kind: 'structural_tag', tag: structuralTag(format) };
  },
  historyId(id) {
    const alnum = id.replace(/[^a-zA-Z0-9]/g, '');
    return alnum.length >= 9 ? alnum.slice(-9) : alnum.padStart(9, '0');
  },
};
