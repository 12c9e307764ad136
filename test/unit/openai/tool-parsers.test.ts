// Tool-call parsers, one format at a time: a model's text → content and calls (name,
// arguments as JSON text), the same whether the text arrives whole, one character at a
// time, or split in two at every position; and the streamed pieces' order (a call's start
// with its id and name before any of its arguments).
import { describe, expect, it } from 'vitest';
import { ToolCallParser, type ToolCallPiece } from '../../../src/openai/tools/call-parser';
import { hermes } from '../../../src/openai/tools/hermes';
import { llamaJson } from '../../../src/openai/tools/llama-json';
import { mistral } from '../../../src/openai/tools/mistral';
import type { ToolCallFormat } from '../../../src/openai/tools/format';

interface Parsed {
  content: string;
  calls: { id: string; name: string; arguments: string }[];
}

function fold(pieces: ToolCallPiece[]): Parsed {
  const out: Parsed = { content: '', calls: [] };
  for (const p of pieces) {
    if (p.type === 'content') out.content += p.text;
    else if (p.type === 'call_start') {
      expect(p.index).toBe(out.calls.length);
      out.calls.push({ id: p.id, name: p.name, arguments: '' });
    } else {
      expect(out.calls[p.index], 'arguments before their call started').toBeDefined();
      out.calls[p.index]!.arguments += p.text;
    }
  }
  return out;
}

function parse(format: ToolCallFormat, chunks: string[]): ToolCallPiece[] {
  let n = 0;
  const parser = new ToolCallParser(format.syntax, () => `call_${n++}`);
  return [...chunks.flatMap((c) => parser.push(c)), ...parser.end()];
}

/** Whole, per character, and split in two at every position: all fold to `expected`. */
function expectParses(format: ToolCallFormat, text: string, expected: { content: string; calls: { name: string; arguments: unknown }[] }): void {
  const want = { content: expected.content, calls: expected.calls.map((c, i) => ({ id: `call_${i}`, name: c.name, arguments: c.arguments })) };
  const check = (chunks: string[], how: string) => {
    const got = fold(parse(format, chunks));
    const parsedArgs = { ...got, calls: got.calls.map((c) => ({ ...c, arguments: JSON.parse(c.arguments) as unknown })) };
    expect(parsedArgs, how).toEqual(want);
  };
  check([text], 'whole');
  check([...text], 'per character');
  for (let i = 1; i < text.length; i++) check([text.slice(0, i), text.slice(i)], `split at ${i}`);
}

describe('hermes (<tool_call>)', () => {
  it('one call, no content', () => {
    expectParses(hermes, '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>', {
      content: '', calls: [{ name: 'get_weather', arguments: { city: 'Paris', unit: 'celsius' } }],
    });
  });

  it('text before the call stays content; parallel calls; layout between calls is dropped', () => {
    const text = 'Let me look.\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call>\n<tool_call>\n{"name": "search_docs", "arguments": {"query": "a } b </tool_call> \\" c", "top_k": 3}}\n</tool_call>';
    expectParses(hermes, text, {
      content: 'Let me look.\n',
      calls: [{ name: 'get_weather', arguments: { city: 'Oslo' } }, { name: 'search_docs', arguments: { query: 'a } b </tool_call> " c', top_k: 3 } }],
    });
  });

  it('arguments written as a JSON string, keys in the other order, nested arrays', () => {
    expectParses(hermes, '<tool_call>{"arguments": "{\\"a\\": [1, {\\"b\\": 2}]}", "name": "f"}</tool_call>', {
      content: '', calls: [{ name: 'f', arguments: { a: [1, { b: 2 }] } }],
    });
    expectParses(hermes, '<tool_call>{"name": "f", "arguments": {"a": [[1], {"b": [2, "]"]}]}}</tool_call>', {
      content: '', calls: [{ name: 'f', arguments: { a: [[1], { b: [2, ']'] }] } }],
    });
  });

  it('a call without arguments has {}; text that only looks like a marker is content', () => {
    expectParses(hermes, '<tool_call>{"name": "now"}</tool_call>', { content: '', calls: [{ name: 'now', arguments: {} }] });
    expectParses(hermes, 'a <tool_ca b <tool_call', { content: 'a <tool_ca b <tool_call', calls: [] });
  });

  it('an object without a name is not a call: its text is content', () => {
    expect(fold(parse(hermes, ['<tool_call>{"x": 1}</tool_call>']))).toEqual({ content: '{"x": 1}', calls: [] });
  });

  it('streams the name first, then the arguments as they grow', () => {
    let n = 0;
    const parser = new ToolCallParser(hermes.syntax, () => `call_${n++}`);
    expect(parser.push('<tool_call>\n{"name": "get_')).toEqual([]);
    expect(parser.push('weather", "arguments": {"ci')).toEqual([
      { type: 'call_start', index: 0, id: 'call_0', name: 'get_weather' },
      { type: 'call_arguments', index: 0, text: '{"ci' },
    ]);
    expect(parser.push('ty": "Paris"}}\n</tool_')).toEqual([{ type: 'call_arguments', index: 0, text: 'ty": "Paris"}' }]);
    expect(parser.push('call>')).toEqual([]);
    expect(parser.end()).toEqual([]);
    expect(parser.callCount).toBe(1);
  });
});

describe('llama3_json ({"name", "parameters"})', () => {
  it('a bare JSON call, with and without <|python_tag|> and leading whitespace', () => {
    const call = { name: 'get_weather', arguments: { city: 'Paris' } };
    expectParses(llamaJson, '{"name": "get_weather", "parameters": {"city": "Paris"}}', { content: '', calls: [call] });
    expectParses(llamaJson, '<|python_tag|>{"name": "get_weather", "parameters": {"city": "Paris"}}', { content: '', calls: [call] });
    expectParses(llamaJson, ' \n{"name": "get_weather", "parameters": {"city": "Paris"}}', { content: '', calls: [call] });
  });

  it('several calls separated by ";"', () => {
    expectParses(llamaJson, '{"name": "a", "parameters": {}}; {"name": "b", "parameters": {"x": 1}}', {
      content: '', calls: [{ name: 'a', arguments: {} }, { name: 'b', arguments: { x: 1 } }],
    });
  });

  it('plain text is content; a JSON answer without a name is content', () => {
    expectParses(llamaJson, 'The weather is {mild} today.', { content: 'The weather is {mild} today.', calls: [] });
    expect(fold(parse(llamaJson, ['{"answer": 42}']))).toEqual({ content: '{"answer": 42}', calls: [] });
  });

  it('a call opened mid-text (auto: the grammar forces it after {"name": )', () => {
    expectParses(llamaJson, 'Sure. {"name": "a", "parameters": {"q": "x"}}', { content: 'Sure. ', calls: [{ name: 'a', arguments: { q: 'x' } }] });
  });
});

describe('mistral ([TOOL_CALLS])', () => {
  it('one call and parallel calls in one array, with Mistral ids in the objects', () => {
    expectParses(mistral, '[TOOL_CALLS][{"name": "get_weather", "arguments": {"city": "Paris"}}]', {
      content: '', calls: [{ name: 'get_weather', arguments: { city: 'Paris' } }],
    });
    expectParses(mistral, 'Checking.[TOOL_CALLS][{"name": "a", "arguments": {"x": [1, 2]}, "id": "abc123def"}, {"name": "b", "arguments": {}}]', {
      content: 'Checking.', calls: [{ name: 'a', arguments: { x: [1, 2] } }, { name: 'b', arguments: {} }],
    });
  });

  it('history ids: nine alphanumerics (the tail of tabllm\'s call_ ids)', () => {
    expect(mistral.historyId!('call_AbC123xyZ')).toBe('AbC123xyZ');
    expect(mistral.historyId!('abc')).toBe('000000abc');
  });
});
