// SmolLM3's chat template through the Jinja path (ChatTemplate), read from a GGUF's
// `tokenizer.chat_template` as llama.cpp's conversion stores it. There is no SmolLM3
// fixture in ../shared/fixtures, so SMOLLM3_TEMPLATE below is the HF template's shape
// (HuggingFaceTB/SmolLM3-3B: reasoning mode from `enable_thinking` or a /think, /no_think
// flag in the system message, a metadata header with strftime_now's date, `{% generation %}`
// blocks, an empty think block in no-think turns), with the long default system prompt
// shortened; the expected strings are written out by hand from it.
import { describe, expect, it } from 'vitest';
import { ChatTemplate } from '../../../src/model/template';
import { modelConfigFromGGUF } from '../../../src/model/config';
import { readGGUF } from '../../../src/model/gguf/reader';
import { GGUFValueType } from '../../../src/model/gguf/types';
import { defaultTokenizer, makeTestModel } from '../../helpers/test-model';

const SMOLLM3_TEMPLATE = `{#- defaults -#}
{%- if enable_thinking is not defined -%}
{%- set enable_thinking = true -%}
{%- endif -%}
{%- if enable_thinking -%}
  {%- set reasoning_mode = "/think" -%}
{%- else -%}
  {%- set reasoning_mode = "/no_think" -%}
{%- endif -%}
{%- set system_message = "" -%}
{%- set custom_instructions = "" -%}
{{- "<|im_start|>system\\n" -}}
{%- if messages[0].role == "system" -%}
  {%- set system_message = messages[0].content -%}
  {%- if "/no_think" in system_message -%}
    {%- set reasoning_mode = "/no_think" -%}
  {%- elif "/think" in system_message -%}
    {%- set reasoning_mode = "/think" -%}
  {%- endif -%}
  {%- set custom_instructions = system_message.replace("/no_think", "").replace("/think", "").rstrip() -%}
{%- endif -%}
{%- if "/system_override" in system_message -%}
  {{- custom_instructions.replace("/system_override", "").rstrip() -}}
  {{- "<|im_end|>\\n" -}}
{%- else -%}
  {{- "## Metadata\\n\\n" -}}
  {{- "Knowledge Cutoff Date: June 2025\\n" -}}
  {%- set today = strftime_now("%d %B %Y") -%}
  {{- "Today Date: " ~ today ~ "\\n" -}}
  {{- "Reasoning Mode: " + reasoning_mode + "\\n\\n" -}}
  {{- "## Custom Instructions\\n\\n" -}}
  {%- if custom_instructions -%}
    {{- custom_instructions + "\\n\\n" -}}
  {%- elif reasoning_mode == "/think" -%}
    {{- "You are a helpful AI assistant named SmolLM, trained by Hugging Face. Think first: <think> Thought section </think> Solution section.\\n\\n" -}}
  {%- else -%}
    {{- "You are a helpful AI assistant named SmolLM, trained by Hugging Face.\\n\\n" -}}
  {%- endif -%}
  {%- if xml_tools or tools -%}
    {{- "### Tools\\n\\nYou may call one or more functions to assist with the user query.\\n<tools>\\n" -}}
    {%- for tool in (xml_tools or tools) -%}
      {{- tool | tojson ~ "\\n" -}}
    {%- endfor -%}
    {{- "</tools>\\n\\n" -}}
  {%- endif -%}
  {{- "<|im_end|>\\n" -}}
{%- endif -%}
{%- for message in messages -%}
  {%- set content = message.content if message.content is string else "" -%}
  {%- if message.role == "user" -%}
    {{ "<|im_start|>" + message.role + "\\n" + content + "<|im_end|>\\n" }}
  {%- elif message.role == "assistant" -%}
    {% generation %}
    {%- if reasoning_mode == "/think" -%}
      {{ "<|im_start|>assistant\\n" + content.lstrip("\\n") + "<|im_end|>\\n" }}
    {%- else -%}
      {{ "<|im_start|>assistant\\n" + "<think>\\n\\n</think>\\n" + content.lstrip("\\n") + "<|im_end|>\\n" }}
    {%- endif -%}
    {% endgeneration %}
  {%- elif message.role == "tool" -%}
    {{ "<|im_start|>" + "user\\n" + content + "<|im_end|>\\n" }}
  {%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
  {%- if reasoning_mode == "/think" -%}
    {{ "<|im_start|>assistant\\n" }}
  {%- else -%}
    {{ "<|im_start|>assistant\\n" + "<think>\\n\\n</think>\\n" }}
  {%- endif -%}
{%- endif -%}`;

/** SmolLM3's special tokens at the end of a small vocabulary, BOS/EOS pointing at them like its GGUF. */
function smollm3Gguf(): Uint8Array {
  const tokenizer = defaultTokenizer(300);
  const tokens = (tokenizer['tokenizer.ggml.tokens'] as string[]).slice();
  tokens[298] = '<|im_start|>';
  tokens[299] = '<|im_end|>';
  const types = Int32Array.from(tokenizer['tokenizer.ggml.token_type'] as Int32Array);
  types[298] = 3;
  types[299] = 3;
  return makeTestModel({
    arch: 'smollm3', vocab: 300, dim: 32, layers: 4, heads: 2, kvHeads: 1, ffn: 32, quant: 'F32', seed: 7,
    tokenizer: {
      ...tokenizer, 'tokenizer.ggml.tokens': tokens, 'tokenizer.ggml.token_type': types,
      'tokenizer.ggml.bos_token_id': { type: GGUFValueType.UINT32, value: 298 }, 'tokenizer.ggml.eos_token_id': { type: GGUFValueType.UINT32, value: 299 },
    },
    chatTemplate: SMOLLM3_TEMPLATE,
  });
}

const NOW = () => new Date(Date.UTC(2025, 6, 8, 12));
const HEADER = (mode: string, instructions: string) =>
  `<|im_start|>system\n## Metadata\n\nKnowledge Cutoff Date: June 2025\nToday Date: 08 July 2025\nReasoning Mode: ${mode}\n\n` +
  `## Custom Instructions\n\n${instructions}\n\n<|im_end|>\n`;
const THINK_PROMPT = 'You are a helpful AI assistant named SmolLM, trained by Hugging Face. Think first: <think> Thought section </think> Solution section.';
const PLAIN_PROMPT = 'You are a helpful AI assistant named SmolLM, trained by Hugging Face.';

describe('SmolLM3 chat template from a smollm3 GGUF', () => {
  it('is read from tokenizer.chat_template of a smollm3 file, with its im_start/im_end BOS/EOS text', async () => {
    const file = await readGGUF(smollm3Gguf());
    expect(modelConfigFromGGUF(file).arch).toBe('smollm3');
    const template = ChatTemplate.fromMetadata(file.metadata, { now: NOW })!;
    expect([template.bosToken, template.eosToken]).toEqual(['<|im_start|>', '<|im_end|>']);
    expect(template.render({ messages: [{ role: 'user', content: 'Hi' }], addGenerationPrompt: true })).toBe(
      `${HEADER('/think', THINK_PROMPT)}<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n`,
    );
  });

  it('enable_thinking=false: /no_think header, an empty think block opens the turn and closes past assistant turns', async () => {
    const template = ChatTemplate.fromMetadata((await readGGUF(smollm3Gguf())).metadata, { now: NOW })!;
    const rendered = template.render({
      messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: '\nHello!' }, { role: 'user', content: '2+2?' }],
      addGenerationPrompt: true,
      extra: { enable_thinking: false },
    });
    expect(rendered).toBe(
      `${HEADER('/no_think', PLAIN_PROMPT)}<|im_start|>user\nHi<|im_end|>\n` +
        '<|im_start|>assistant\n<think>\n\n</think>\nHello!<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n' +
        '<|im_start|>assistant\n<think>\n\n</think>\n',
    );
  });

  it('a /no_think flag in the system message wins over enable_thinking and is cut from the instructions', async () => {
    const template = ChatTemplate.fromMetadata((await readGGUF(smollm3Gguf())).metadata, { now: NOW })!;
    const rendered = template.render({
      messages: [{ role: 'system', content: 'Answer in French. /no_think' }, { role: 'user', content: 'Hi' }],
      addGenerationPrompt: false,
      extra: { enable_thinking: true },
    });
    expect(rendered).toBe(`${HEADER('/no_think', 'Answer in French.')}<|im_start|>user\nHi<|im_end|>\n`);
  });

  it('/system_override replaces the whole header with the system text', () => {
    const template = new ChatTemplate(SMOLLM3_TEMPLATE, { now: NOW });
    const rendered = template.render({
      messages: [{ role: 'system', content: 'Be terse. /system_override' }, { role: 'user', content: 'Hi' }],
      addGenerationPrompt: true,
    });
    expect(rendered).toBe('<|im_start|>system\nBe terse.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });
});
