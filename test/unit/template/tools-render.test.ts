// Tool use through real chat templates, against renderings made by Python jinja2 with
// transformers' settings (../shared/fixtures/chat-templates/rendered-tools-expected.json):
// six templates × (tools offered, one call and its result, parallel calls), byte for byte.
// Also with the arguments as OpenAI clients send them (JSON strings), which must render the same.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ChatTemplate, type ChatMessage } from '../../../src/model/template';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures/chat-templates');

interface ToolCase {
  template: string;
  case: string;
  messages: ChatMessage[];
  tools: boolean;
  add_generation_prompt: boolean;
  variables: Record<string, string>;
  rendered: string;
}

const fixture = JSON.parse(readFileSync(resolve(FIXTURES, 'rendered-tools-expected.json'), 'utf8')) as { tools: unknown[]; cases: ToolCase[] };
// The fixture's clock: strftime_now renders 15 Jan 2025 (Llama 3.2); Llama 3.1 defaults its own date.
const now = () => new Date(2025, 0, 15);

function render(c: ToolCase, messages: ChatMessage[]): string {
  const { bos_token: bosToken, eos_token: eosToken, ...extra } = c.variables;
  const template = new ChatTemplate(readFileSync(resolve(FIXTURES, c.template), 'utf8'), { bosToken, eosToken, now });
  return template.render({ messages, addGenerationPrompt: c.add_generation_prompt, tools: c.tools ? fixture.tools : undefined, extra });
}

describe('rendered-tools-expected.json (Python jinja2 oracle)', () => {
  it('covers six templates, 16 cases (the Llama 3.x templates refuse parallel calls)', () => {
    expect(new Set(fixture.cases.map((c) => c.template)).size).toBe(6);
    expect(fixture.cases.length).toBe(16);
  });

  for (const c of fixture.cases) {
    it(`${c.template} ${c.case}`, () => {
      expect(render(c, c.messages)).toBe(c.rendered);
    });

    it(`${c.template} ${c.case}, arguments as JSON strings (OpenAI's wire form)`, () => {
      const asStrings = c.messages.map((m) =>
        m.tool_calls === undefined
          ? m
          : { ...m, tool_calls: m.tool_calls.map((t) => ({ ...t, function: { ...t.function, arguments: JSON.stringify(t.function.arguments) } })) },
      );
      expect(render(c, asStrings)).toBe(c.rendered);
    });
  }

  it('Hermes: a parameter without a description renders as jinja2 renders Undefined|trim (empty)', () => {
    const hermes = fixture.cases.find((c) => c.template.startsWith('NousResearch') && c.case === 'tools_offered')!;
    expect(render(hermes, hermes.messages)).toContain('city(str): City name, e.g. Paris        unit(str): "');
  });
});
