// WebLLM request semantics on tabllm: n, seed, logprobs, stream_options, echo, response_format,
// and the request checks WebLLM runs (same error names), on a loaded fake-runner engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateMLCEngine, type MLCEngine } from '../../../src/compat/webllm';
import { translateChatRequest } from '../../../src/compat/webllm/request';
import { MODEL_ID, startFixture, type Fixture } from './fixture';

let fx: Fixture;
let engine: MLCEngine;
beforeAll(async () => {
  fx = await startFixture();
  engine = await CreateMLCEngine(MODEL_ID, fx.engineConfig);
});
afterAll(async () => {
  await engine.unload();
  await fx.close();
});

const user = (content: string) => [{ role: 'user' as const, content }];

describe('chat request semantics', () => {
  it('n > 1 without streaming returns n indexed choices; usage counts all of them', async () => {
    const r = await engine.chat.completions.create({ messages: user('Hi'), n: 3, temperature: 0 });
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2]);
    // The fake model is deterministic per prompt, so greedy choices agree.
    expect(new Set(r.choices.map((c) => c.message.content)).size).toBe(1);
    expect(r.usage!.completion_tokens).toBe(3 * (fx.replyLength + 1));
  });

  it('logprobs and top_logprobs come back in WebLLM’s chat format', async () => {
    const r = await engine.chat.completions.create({ messages: user('Hi'), logprobs: true, top_logprobs: 2, temperature: 0 });
    const content = r.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(fx.replyLength + 1);
    for (const t of content) {
      expect(typeof t.token).toBe('string');
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.top_logprobs).toHaveLength(2);
    }
    const plain = await engine.chat.completions.create({ messages: user('Hi'), temperature: 0 });
    expect(plain.choices[0]!.logprobs).toBeNull();
  });

  it('the same seed gives the same sampled reply', async () => {
    const a = await engine.chat.completions.create({ messages: user('Pick'), temperature: 0.9, seed: 42 });
    const b = await engine.chat.completions.create({ messages: user('Pick'), temperature: 0.9, seed: 42 });
    expect(a.choices[0]!.message.content).toBe(b.choices[0]!.message.content);
  });

  it('stream without stream_options sends no usage chunk', async () => {
    const s = await engine.chat.completions.create({ messages: user('Hi'), stream: true });
    let usage = 0;
    for await (const c of s) if (c.usage) usage++;
    expect(usage).toBe(0);
  });

  it('max_tokens past the context window is not an error (WebLLM stops at a full KV cache)', async () => {
    const r = await engine.chat.completions.create({ messages: user('Hi'), max_tokens: 1_000_000, temperature: 0 });
    expect(r.choices[0]!.finish_reason).toBe('stop');
    expect(r.usage!.completion_tokens).toBe(fx.replyLength + 1);
    const c = await engine.completions.create({ prompt: 'Once upon', max_tokens: 1_000_000, temperature: 0 });
    expect(c.choices[0]!.finish_reason).toBe('stop');
  });

  it('max_tokens ends with finish_reason "length"', async () => {
    const r = await engine.chat.completions.create({ messages: user('Hi'), max_tokens: 3 });
    expect(r.choices[0]!.finish_reason).toBe('length');
    expect(r.usage!.completion_tokens).toBe(3);
  });

  it('a break out of for-await stops the request (its KV blocks are freed)', async () => {
    fx.setReplyLength(400);
    fx.setStepMs(2);
    try {
      const s0 = await fx.settledSteps();
      const s = await engine.chat.completions.create({ messages: user('Long'), stream: true });
      let n = 0;
      for await (const c of s) if (c.choices[0]?.delta.content && ++n === 2) break;
      // The engine goes idle long before the 400-token reply would have ended.
      expect((await fx.settledSteps()) - s0).toBeLessThan(200);
      const r = await engine.chat.completions.create({ messages: user('Next'), max_tokens: 2 });
      expect(r.choices[0]!.finish_reason).toBe('length');
    } finally {
      fx.setReplyLength(12);
      fx.setStepMs(0);
    }
  });

  it('WebLLM’s request checks throw WebLLM’s error names', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ messages: user('x'), stream: true, n: 2 }, 'StreamingCountError'],
      [{ messages: user('x'), seed: 1.5 }, 'SeedTypeError'],
      [{ messages: user('x'), stream_options: { include_usage: true } }, 'InvalidStreamOptionsError'],
      [{ messages: user('x'), top_logprobs: 2 }, 'DependencyError'],
      [{ messages: user('x'), temperature: -1 }, 'NonNegativeError'],
      [{ messages: user('x'), top_p: 0 }, 'RangeError'],
      [{ messages: user('x'), max_tokens: 0 }, 'MinValueError'],
      [{ messages: user('x'), frequency_penalty: 3 }, 'RangeError'],
      [{ messages: user('x'), logit_bias: { abc: 1 } }, 'InvalidNumberStringError'],
      [{ messages: [{ role: 'user', content: 'a' }, { role: 'system', content: 's' }, { role: 'user', content: 'b' }] }, 'SystemMessageOrderError'],
      [{ messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] }, 'MessageOrderError'],
      [{ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://x/y.png' } }] }] }, 'UserMessageContentErrorForNonVLM'],
      [{ messages: user('x'), model: 'other-model' }, 'SpecifiedModelNotFoundError'],
    ];
    for (const [request, name] of cases) {
      await expect(engine.chat.completions.create(request as never), name).rejects.toMatchObject({ name });
    }
  });

  it('what tabllm cannot honour is UnsupportedFieldsError naming the field', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools'],
      [{ extra_body: { enable_thinking: true } }, 'extra_body.enable_thinking'],
    ];
    for (const [extra, field] of cases) {
      const err = await engine.chat.completions.create({ messages: user('x'), ...extra } as never).catch((e: unknown) => e);
      expect(err, field).toMatchObject({ name: 'UnsupportedFieldsError', code: 'unsupported_parameter' });
      expect((err as { fields: string[] }).fields.join(' ')).toContain(field);
    }
    // response_format text is the default and accepted.
    const ok = await engine.chat.completions.create({ messages: user('x'), response_format: { type: 'text' } });
    expect(ok.choices[0]!.finish_reason).toBe('stop');
  });

  it("response_format with WebLLM's rules maps onto tabllm's constraints", () => {
    const params = (format: Record<string, unknown>) => translateChatRequest({ messages: user('x'), response_format: format }, MODEL_ID, {}).params;
    expect(params({ type: 'json_object' })).toMatchObject({ response_format: { type: 'json_object' } });
    expect(params({ type: 'json_object', schema: '{"type":"object"}' })).toMatchObject({ structured_outputs: { json: '{"type":"object"}' } });
    expect(params({ type: 'grammar', grammar: 'root ::= "a"' })).toMatchObject({ structured_outputs: { grammar: 'root ::= "a"' } });
    expect(params({ type: 'structural_tag', structural_tag: { format: { type: 'any_text' } } })).toMatchObject({ structured_outputs: { structural_tag: '{"format":{"type":"any_text"}}' } });
    expect(params({ type: 'text' })).not.toHaveProperty('response_format');
    const bad: [Record<string, unknown>, string][] = [
      [{ type: 'grammar', schema: '{}', grammar: 'root ::= "a"' }, 'InvalidResponseFormatError'],
      [{ type: 'grammar' }, 'InvalidResponseFormatGrammarError'],
      [{ type: 'json_object', grammar: 'root ::= "a"' }, 'InvalidResponseFormatGrammarError'],
      [{ type: 'structural_tag' }, 'InvalidResponseFormatStructuralTagError'],
    ];
    for (const [format, name] of bad) expect(() => params(format), name).toThrow(expect.objectContaining({ name }));
  });

  it('sampling defaults come from chat options; one penalty set makes the other 0 (WebLLM rule)', () => {
    const t = translateChatRequest({ messages: user('x'), frequency_penalty: 0.5 }, MODEL_ID, { temperature: 0.6, top_p: 0.8, presence_penalty: 1 });
    expect(t.params).toMatchObject({ temperature: 0.6, top_p: 0.8, frequency_penalty: 0.5, presence_penalty: 0 });
    const own = translateChatRequest({ messages: user('x'), temperature: 0 }, MODEL_ID, { temperature: 0.6 });
    expect(own.params.temperature).toBe(0);
  });
});

describe('completions', () => {
  it('non-streaming with echo prepends the prompt; streaming yields text chunks then a final chunk', async () => {
    const r = await engine.completions.create({ prompt: 'Once upon', echo: true, max_tokens: 4, temperature: 0 });
    expect(r.object).toBe('text_completion');
    expect(r.choices[0]!.text.startsWith('Once upon')).toBe(true);
    expect(r.choices[0]!.finish_reason).toBe('length');

    const s = await engine.completions.create({ prompt: 'Once upon', max_tokens: 4, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usageTokens = 0;
    const reasons: (string | null)[] = [];
    for await (const c of s) {
      if (c.choices[0]) {
        text += c.choices[0].text;
        reasons.push(c.choices[0].finish_reason);
      }
      if (c.usage) usageTokens = c.usage.completion_tokens;
    }
    expect(r.choices[0]!.text).toBe('Once upon' + text);
    expect(reasons.at(-1)).toBe('length');
    expect(usageTokens).toBe(4);
    expect(await engine.getMessage()).toBe(text);
  });

  it('completion logprobs use the chat-style records; suffix/best_of are unsupported like in WebLLM', async () => {
    const r = await engine.completions.create({ prompt: 'Hi', max_tokens: 3, logprobs: true, top_logprobs: 1, temperature: 0 });
    const content = r.choices[0]!.logprobs!.content!;
    expect(content).toHaveLength(3);
    expect(content[0]!.top_logprobs).toHaveLength(1);
    expect(content.map((t) => t.token).join('')).toBe(r.choices[0]!.text);
    await expect(engine.completions.create({ prompt: 'Hi', suffix: 'x' })).rejects.toMatchObject({ name: 'UnsupportedFieldsError' });
    await expect(engine.completions.create({ prompt: 'Hi', stream: true, n: 2 })).rejects.toMatchObject({ name: 'StreamingCountError' });
  });
});
