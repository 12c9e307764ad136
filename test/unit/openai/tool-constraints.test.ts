// The structural tags tool_choice becomes, compiled by XGrammar itself: for each format
// (Hermes, Llama 3 JSON, Mistral), `auto` accepts text then a call and rejects a call whose
// arguments break the function's schema; `required` accepts only calls; parallel calls
// only when `parallel_tool_calls` is not false. The parsers read back what the grammar takes.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadXGrammar, type XGrammarLib } from '../../../src/grammar/xgrammar-load';
import { ToolCallParser } from '../../../src/openai/tools/call-parser';
import type { ChatTool } from '../../../src/openai/tools/definitions';
import type { ToolCallFormat } from '../../../src/openai/tools/format';
import { hermes } from '../../../src/openai/tools/hermes';
import { llamaJson } from '../../../src/openai/tools/llama-json';
import { mistral } from '../../../src/openai/tools/mistral';

const TOOLS: ChatTool[] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } } },
  { type: 'function', function: { name: 'now' } },
];

/** One call and two calls in each format, and a call with arguments the schema refuses. */
const WRITE: Record<string, { one: string; two: string; badArgs: string }> = {
  hermes: {
    one: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>',
    two: '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n<tool_call>\n{"name": "now", "arguments": {}}\n</tool_call>',
    badArgs: '<tool_call>\n{"name": "get_weather", "arguments": {"town": "Paris"}}\n</tool_call>',
  },
  llama3_json: {
    one: '{"name": "get_weather", "parameters": {"city": "Paris"}}',
    two: '{"name": "get_weather", "parameters": {"city": "Paris"}}; {"name": "now", "parameters": {}}',
    badArgs: '{"name": "get_weather", "parameters": {"city": 3}}',
  },
  mistral: {
    one: '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]',
    two: '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}, {"name": "now", "arguments": {}}]',
    badArgs: '[TOOL_CALLS][{"name": "get_weather", "arguments": {}}]',
  },
};

let xg: XGrammarLib;
beforeAll(async () => {
  xg = (await loadXGrammar()).lib;
});

async function accepts(format: ToolCallFormat, mode: 'auto' | 'required', parallel: boolean, text: string): Promise<boolean> {
  const c = format.constraint(TOOLS, mode, parallel);
  expect(c.kind).toBe('structural_tag');
  const grammar = await xg.Grammar.fromStructuralTag((c as { tag: string }).tag);
  try {
    return await xg.Testings.isGrammarAcceptString(grammar, text);
  } finally {
    grammar.dispose();
  }
}

describe.each([hermes, llamaJson, mistral])('$name structural tags in XGrammar', (format) => {
  const w = WRITE[format.name]!;

  it('auto: free text, then a valid call; arguments must match the schema', async () => {
    expect(await accepts(format, 'auto', true, 'Just text, no call.')).toBe(true);
    expect(await accepts(format, 'auto', true, `Let me check. ${w.one}`)).toBe(true);
    expect(await accepts(format, 'auto', true, w.badArgs)).toBe(false);
  });

  it('required: only calls (no text first); parallel calls unless parallel_tool_calls is false', async () => {
    expect(await accepts(format, 'required', true, w.one)).toBe(true);
    expect(await accepts(format, 'required', true, `Text. ${w.one}`)).toBe(false);
    expect(await accepts(format, 'required', true, '')).toBe(false);
    expect(await accepts(format, 'required', true, w.two)).toBe(true);
    expect(await accepts(format, 'required', false, w.two)).toBe(false);
  });

  it('what the grammar accepts, the parser reads back as the calls', () => {
    const parser = new ToolCallParser(format.syntax, () => 'id');
    const pieces = [...parser.push(w.two), ...parser.end()];
    const calls = pieces.filter((p) => p.type === 'call_start').map((p) => (p as { name: string }).name);
    const args = pieces.filter((p) => p.type === 'call_arguments').map((p) => (p as { text: string }).text);
    expect(calls).toEqual(['get_weather', 'now']);
    expect(args.map((a) => JSON.parse(a))).toEqual([{ city: 'Paris' }, {}]);
    expect(pieces.filter((p) => p.type === 'content')).toEqual([]);
  });
});
