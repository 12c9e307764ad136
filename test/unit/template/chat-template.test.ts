// Chat templates against renderings made by Python jinja2 with transformers' settings
// (../shared/fixtures/chat-templates/rendered-expected.json), plus the helper and error paths.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ChatTemplate, TemplateError, strftime, type ChatMessage,
} from '../../../src/model/template';
import { EngineError, fromTemplateError, modelHasNoChatTemplateError } from '../../../src/engine/errors';
import { readGGUF } from '../../../src/model/gguf/reader';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared/fixtures');

interface RenderCase {
  template: string;
  case: string;
  messages: ChatMessage[];
  add_generation_prompt: boolean;
  variables: Record<string, string>;
  rendered?: string;
  error?: string;
}

const expected = JSON.parse(
  readFileSync(resolve(FIXTURES, 'chat-templates/rendered-expected.json'), 'utf8'),
) as { cases: RenderCase[] };

/** "tokenizers/qwen3/tokenizer_config.json#chat_template" or "chat-templates/x.jinja". */
function loadTemplateSource(ref: string): string {
  const [file, field] = ref.split('#');
  const text = readFileSync(resolve(FIXTURES, file), 'utf8');
  return field ? (JSON.parse(text) as Record<string, string>)[field] : text;
}

describe('rendered-expected.json (Python jinja2 oracle)', () => {
  it('has the 40 cases the fixture documents', () => {
    expect(expected.cases.length).toBe(40);
    expect(expected.cases.filter((c) => c.error).length).toBe(2);
  });

  for (const c of expected.cases) {
    const title = `${c.template} ${c.case} addGenerationPrompt=${c.add_generation_prompt}`;
    it(title, () => {
      const { bos_token: bosToken, eos_token: eosToken, ...extra } = c.variables;
      const template = new ChatTemplate(loadTemplateSource(c.template), { bosToken, eosToken });
      const render = () =>
        template.render({ messages: c.messages, addGenerationPrompt: c.add_generation_prompt, extra });
      if (c.error !== undefined) {
        let caught: unknown;
        try {
          render();
        } catch (err) {
          caught = err;
        }
        expect(caught).toBeInstanceOf(TemplateError);
        expect((caught as TemplateError).code).toBe('template_error');
        expect((caught as TemplateError).message).toBe(c.error);
      } else {
        expect(render()).toBe(c.rendered);
      }
    });
  }
});

const QWEN25 = loadTemplateSource('chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja');
const LLAMA31 = loadTemplateSource('chat-templates/meta-llama-Llama-3.1-8B-Instruct.jinja');

describe('ChatTemplate helpers', () => {
  it('joins text parts with a newline', () => {
    const template = new ChatTemplate('{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}');
    const out = template.render({
      messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }] }],
      addGenerationPrompt: false,
    });
    expect(out).toBe('[user:a\nb]');
  });

  it('strftime_now uses the injected clock with English month names', () => {
    const now = () => new Date(2025, 1, 3, 14, 5, 9); // local time: 3 Feb 2025 14:05:09
    const template = new ChatTemplate('{{ strftime_now("%d %b %Y|%B %A %H:%M:%S %p %j %%") }}', { now });
    expect(template.render({ messages: [], addGenerationPrompt: false })).toBe(
      '03 Feb 2025|February Monday 14:05:09 PM 034 %',
    );
  });

  it('Llama 3.1 takes today from strftime_now when date_string is not given', () => {
    const template = new ChatTemplate(LLAMA31, { bosToken: '<|begin_of_text|>', now: () => new Date(2024, 6, 26) });
    const withClock = template.render({ messages: [{ role: 'user', content: 'Hi' }], addGenerationPrompt: true });
    const withVar = template.render({
      messages: [{ role: 'user', content: 'Hi' }], addGenerationPrompt: true, extra: { date_string: '26 Jul 2024' },
    });
    expect(withClock).toContain('Today Date: 26 Jul 2024');
    expect(withClock).toBe(withVar);
  });

  it('renders tools and parses JSON-string tool-call arguments (Qwen 2.5)', () => {
    const template = new ChatTemplate(QWEN25, { eosToken: '<|im_end|>' });
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const out = template.render({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant', content: null,
          tool_calls: [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris"}' } }],
        },
        { role: 'tool', content: '{"temp": 21}', tool_call_id: 'c1' },
      ],
      addGenerationPrompt: true,
      tools,
    });
    expect(out).toContain('<tools>\n{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}\n</tools>');
    expect(out).toContain('<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>');
    expect(out).toContain('<|im_start|>user\n<tool_response>\n{"temp": 21}\n</tool_response><|im_end|>');
    expect(out.endsWith('<|im_start|>assistant\n')).toBe(true);
  });

  it('renders null content as an empty string (templates concatenate or trim it)', () => {
    const template = new ChatTemplate(loadTemplateSource('chat-templates/Qwen-Qwen3-0.6B.jinja'));
    const out = template.render({
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Oslo' } } }] },
      ],
      addGenerationPrompt: false,
    });
    expect(out).toBe(
      // Qwen3 writes an empty think block into the assistant turn after the last user query.
      '<|im_start|>user\nWeather?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n<tool_call>\n' +
        '{"name": "get_weather", "arguments": {"city": "Oslo"}}\n</tool_call><|im_end|>\n',
    );
  });

  it('passes extra variables through (Qwen3 enable_thinking=false closes the think block)', () => {
    const template = new ChatTemplate(loadTemplateSource('tokenizers/qwen3/tokenizer_config.json#chat_template'));
    const messages: ChatMessage[] = [{ role: 'user', content: 'Hi' }];
    const thinking = template.render({ messages, addGenerationPrompt: true });
    const direct = template.render({ messages, addGenerationPrompt: true, extra: { enable_thinking: false } });
    expect(thinking).toBe('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    expect(direct).toBe(`${thinking}<think>\n\n</think>\n\n`);
  });

  it('strftime pads and formats the 12-hour clock', () => {
    expect(strftime(new Date(2024, 0, 5, 0, 7, 0), '%y-%m-%d %I%p %e')).toBe('24-01-05 12AM  5');
  });
});

describe('ChatTemplate.fromMetadata', () => {
  const tokens = ['<unk>', '<s>', '</s>', 'a'];
  it('reads the template and BOS/EOS text from GGUF metadata', () => {
    const template = ChatTemplate.fromMetadata({
      'tokenizer.chat_template': '{{ bos_token }}{{ messages[0].content }}{{ eos_token }}',
      'tokenizer.ggml.tokens': tokens,
      'tokenizer.ggml.bos_token_id': 1,
      'tokenizer.ggml.eos_token_id': 2,
    });
    expect(template).not.toBeNull();
    expect(template!.render({ messages: [{ role: 'user', content: 'x' }], addGenerationPrompt: false })).toBe('<s>x</s>');
  });

  it('returns null when the model has no template, and the override supplies one', () => {
    const md = { 'tokenizer.ggml.tokens': tokens, 'tokenizer.ggml.bos_token_id': 1 };
    expect(ChatTemplate.fromMetadata(md)).toBeNull();
    const overridden = ChatTemplate.fromMetadata(md, { override: '{{ bos_token }}!' });
    expect(overridden!.render({ messages: [], addGenerationPrompt: true })).toBe('<s>!');
  });

  it('the override wins over the file template', () => {
    const md = { 'tokenizer.chat_template': 'file' };
    expect(ChatTemplate.fromMetadata(md, { override: 'override' })!.render({ messages: [], addGenerationPrompt: false }))
      .toBe('override');
  });

  it('modelHasNoChatTemplateError is the engine error with its code and names the model', () => {
    const err = modelHasNoChatTemplateError('stories260K');
    expect(err).toBeInstanceOf(EngineError);
    expect(err.code).toBe('model_has_no_chat_template');
    expect(err.message).toContain("model 'stories260K'");
  });
});

describe('ChatTemplate errors', () => {
  const simple = new ChatTemplate('{% for m in messages %}{{ m.content }}{% endfor %}');
  function codeOf(fn: () => unknown): string | undefined {
    try {
      fn();
    } catch (err) {
      return err instanceof TemplateError ? `${err.code}: ${err.message}` : `not a TemplateError: ${String(err)}`;
    }
    return undefined;
  }

  it('rejects a template that does not parse', () => {
    expect(codeOf(() => new ChatTemplate('{% for m in messages %}'))).toMatch(/^template_error: chat template does not parse/);
    expect(codeOf(() => new ChatTemplate(''))).toMatch(/^template_error/);
  });

  it('rejects a non-string tokenizer.chat_template', () => {
    expect(codeOf(() => ChatTemplate.fromMetadata({ 'tokenizer.chat_template': 3 }))).toMatch(/^template_error: .*not a string/);
  });

  it('reports raise_exception with the template message', () => {
    const t = new ChatTemplate('{{ raise_exception("Roles must alternate") }}');
    expect(codeOf(() => t.render({ messages: [], addGenerationPrompt: false }))).toBe('template_error: Roles must alternate');
  });

  it('rejects unknown roles, non-text parts and malformed tool calls', () => {
    const bad = (messages: unknown) => codeOf(() => simple.render({ messages: messages as ChatMessage[], addGenerationPrompt: false }));
    expect(bad([{ role: 'developer', content: 'x' }])).toMatch(/^invalid_message: messages\[0\]\.role must be one of/);
    expect(bad([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }]))
      .toMatch(/^invalid_message: messages\[0\]\.content\[0\] must be \{type:'text', text\} \(got type "image_url"\)/);
    expect(bad([{ role: 'user', content: 5 }])).toMatch(/^invalid_message: messages\[0\]\.content must be/);
    expect(bad([{ role: 'assistant', content: null, tool_calls: [{ function: {} }] }]))
      .toMatch(/^invalid_message: messages\[0\]\.tool_calls\[0\] must have function\.name/);
    expect(bad('hi')).toMatch(/^invalid_message: messages must be an array/);
    expect(bad([null])).toMatch(/^invalid_message: messages\[0\] must be an object/);
  });

  it('names the parameter at fault and maps to the engine invalid_request', () => {
    let caught: unknown;
    try {
      simple.render({ messages: [{ role: 'user', content: 'a' }, { role: 'bot' as 'user', content: 'b' }], addGenerationPrompt: false });
    } catch (err) {
      caught = err;
    }
    expect((caught as TemplateError).param).toBe('messages[1].role');
    const engineError = fromTemplateError(caught as TemplateError);
    expect(engineError.code).toBe('invalid_request');
    expect(engineError.param).toBe('messages[1].role');
    const raised = fromTemplateError(new TemplateError('template_error', 'System role not supported'));
    expect(raised.toJSON()).toEqual({ code: 'invalid_request', message: 'System role not supported', param: 'messages' });
  });

  it('rejects extra variables that would replace renderer-owned ones', () => {
    expect(codeOf(() => simple.render({ messages: [], addGenerationPrompt: false, extra: { messages: [] } })))
      .toMatch(/^invalid_message: template variable 'messages'/);
  });

  it('rejects extra that is not an object, or holds values a template cannot see', () => {
    const render = (extra: unknown) => () =>
      simple.render({ messages: [], addGenerationPrompt: false, extra: extra as Record<string, unknown> });
    expect(codeOf(render(['x']))).toBe('invalid_message: extra template variables must be an object');
    expect(codeOf(render({ big: 10n }))).toMatch(/^invalid_message: template variable 'big' has an unsupported value/);
  });

  it('wraps runtime failures of the template', () => {
    const t = new ChatTemplate('{{ messages[0].content.nope() }}');
    expect(codeOf(() => t.render({ messages: [{ role: 'user', content: 'x' }], addGenerationPrompt: false })))
      .toMatch(/^template_error: chat template failed to render/);
  });
});

describe('ChatTemplate from real GGUF vocab files', () => {
  it('renders the template stored in ggml-vocab-phi-3.gguf with its own BOS text', async () => {
    const file = await readGGUF(resolve(FIXTURES, 'llama-cpp-vocab/ggml-vocab-phi-3.gguf'));
    const template = ChatTemplate.fromMetadata(file.metadata)!;
    expect(template.bosToken).toBe('<s>');
    expect(template.eosToken).toBe('<|endoftext|>');
    const out = template.render({
      messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello' }, { role: 'user', content: 'Bye' }],
      addGenerationPrompt: true,
    });
    // This older Phi-3 template opens the assistant turn after every user message itself.
    expect(out).toBe('<s><|user|>\nHi<|end|>\n<|assistant|>\nHello<|end|>\n<|user|>\nBye<|end|>\n<|assistant|>\n');
  });

  it('returns null for ggml-vocab-llama-spm.gguf, which has no template', async () => {
    const file = await readGGUF(resolve(FIXTURES, 'llama-cpp-vocab/ggml-vocab-llama-spm.gguf'));
    expect(ChatTemplate.fromMetadata(file.metadata)).toBeNull();
  });
});
