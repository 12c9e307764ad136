// Chat through the official `openai` client on a generated qwen2 model that carries a
// real chat template (Qwen2.5's, from ../shared/fixtures/chat-templates/) and its special
// tokens, on the WebGPU runner. The greedy ids must be the float64 reference model's; the
// Responses API (/v1/responses) must answer what chat answers.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import { GGUFValueType, readGGUF } from '../../src/model/gguf';
import { createOpenAIFetch } from '../../src/shim/fetch';
import { makeTestModel, TOKEN_TYPE } from '../helpers/test-model';
import { RefModel } from '../ref/ref-model';

const FIXTURES = resolve(__dirname, '../../../shared/fixtures');
const TEMPLATE = readFileSync(resolve(FIXTURES, 'chat-templates/Qwen-Qwen2.5-7B-Instruct.jinja'), 'utf8');

/** stories260K's real 512-token SentencePiece vocabulary plus Qwen's two control tokens. */
async function chatTokenizer(): Promise<Record<string, unknown>> {
  const md = (await readGGUF(resolve(FIXTURES, 'stories260K/stories260K.gguf'))).metadata;
  const tokens = [...(md['tokenizer.ggml.tokens'] as string[]), '<|im_start|>', '<|im_end|>'];
  const scores = [...(md['tokenizer.ggml.scores'] as Float32Array), 0, 0];
  const types = [...(md['tokenizer.ggml.token_type'] as Int32Array), TOKEN_TYPE.CONTROL, TOKEN_TYPE.CONTROL];
  return {
    'tokenizer.ggml.model': 'llama',
    'tokenizer.ggml.tokens': tokens,
    'tokenizer.ggml.scores': new Float32Array(scores),
    'tokenizer.ggml.token_type': new Int32Array(types),
    'tokenizer.ggml.bos_token_id': { type: GGUFValueType.UINT32, value: 1 },
    'tokenizer.ggml.eos_token_id': { type: GGUFValueType.UINT32, value: 513 },
    'tokenizer.ggml.unknown_token_id': { type: GGUFValueType.UINT32, value: 0 },
    'tokenizer.ggml.add_bos_token': false,
  };
}

describe('chat API on a generated qwen2 model with the Qwen2.5 template (WebGPU)', () => {
  let engine: MultiEngine;
  let client: OpenAI;
  let ref: RefModel;
  const MODEL = 'tiny-qwen2-chat';

  beforeAll(async () => {
    const bytes = makeTestModel({
      arch: 'qwen2', vocab: 514, dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, quant: 'Q8_0', seed: 5,
      tokenizer: (await chatTokenizer()) as never, chatTemplate: TEMPLATE, contextLength: 512,
    });
    engine = await createEngine({ model: bytes, modelId: MODEL, gpu: await createNodeGPU(), kvCacheBytes: 1 << 20 });
    client = new OpenAI({ baseURL: 'http://localhost:8000/v1', apiKey: 'none', fetch: createOpenAIFetch(engine) });
    ref = await RefModel.fromGGUF(bytes);
  });

  afterAll(async () => {
    await engine?.destroy();
  });

  const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];

  it('renders the template with its special tokens and generates the reference model\'s greedy ids', async () => {
    const r = (await client.chat.completions.create({ model: MODEL, messages, max_tokens: 12, temperature: 0, return_token_ids: true } as never)) as unknown as {
      choices: { message: { content: string }; token_ids: number[]; finish_reason: string }[];
      prompt_token_ids: number[];
      usage: { prompt_tokens: number; completion_tokens: number };
    };
    const prompt = r.prompt_token_ids;
    // "<|im_start|>system\nYou are Qwen…<|im_end|>\n<|im_start|>user\n…<|im_end|>\n<|im_start|>assistant\n"
    expect(prompt[0]).toBe(512);
    expect(prompt.filter((id) => id === 512)).toHaveLength(3);
    expect(prompt.filter((id) => id === 513)).toHaveLength(2);
    expect(r.usage.prompt_tokens).toBe(prompt.length);
    const want = ref.greedy(prompt, 12);
    const stop = want.indexOf(513);
    const expected = stop >= 0 ? want.slice(0, stop + 1) : want;
    expect(r.choices[0]!.token_ids).toEqual(expected);
    expect(r.choices[0]!.finish_reason).toBe(stop >= 0 ? 'stop' : 'length');
  });

  it('streams the same content as the non-streaming call, role first', async () => {
    const whole = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, temperature: 0 });
    const stream = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } });
    let content = '';
    let role: string | undefined;
    let usage: { completion_tokens: number } | undefined | null;
    for await (const c of stream) {
      role ??= c.choices[0]?.delta.role;
      content += c.choices[0]?.delta.content ?? '';
      if (c.usage) usage = c.usage;
    }
    expect(role).toBe('assistant');
    expect(content).toBe(whole.choices[0]!.message.content);
    expect(usage?.completion_tokens).toBe(whole.usage!.completion_tokens);
  });

  it('logprobs: each token has top_logprobs, highest first, the chosen one among them at temperature 0', async () => {
    const r = await client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, temperature: 0, logprobs: true, top_logprobs: 3 });
    const content = r.choices[0]!.logprobs!.content!;
    expect(content.length).toBe(r.usage!.completion_tokens);
    for (const t of content) {
      expect(t.top_logprobs).toHaveLength(3);
      expect(t.logprob).toBeLessThanOrEqual(0);
      expect(t.top_logprobs[0]!.logprob).toBeCloseTo(t.logprob, 4); // greedy picks the top token
      for (let i = 1; i < 3; i++) expect(t.top_logprobs[i]!.logprob).toBeLessThanOrEqual(t.top_logprobs[i - 1]!.logprob);
    }
  });

  it('the Responses API answers what chat answers (text, usage), streamed too, and previous_response_id renders both turns', async () => {
    const chat = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'system', content: 'Be brief.' }, ...messages], max_tokens: 8, temperature: 0 });
    const response = await client.responses.create({ model: MODEL, instructions: 'Be brief.', input: messages[0].content, max_output_tokens: 8, temperature: 0 });
    expect(response.output_text.length).toBeGreaterThan(0);
    expect(response.output_text).toBe(chat.choices[0]!.message.content);
    expect(response.usage).toMatchObject({ input_tokens: chat.usage!.prompt_tokens, output_tokens: chat.usage!.completion_tokens });
    expect(response.status).toBe(chat.choices[0]!.finish_reason === 'length' ? 'incomplete' : 'completed');
    const stream = await client.responses.create({ model: MODEL, instructions: 'Be brief.', input: messages[0].content, max_output_tokens: 8, temperature: 0, stream: true });
    let streamed = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') streamed += event.delta;
    expect(streamed).toBe(response.output_text);
    // The second turn's prompt is the template over both turns (instructions not carried over).
    const next = await client.responses.create({ model: MODEL, input: 'And then?', previous_response_id: response.id, max_output_tokens: 2, temperature: 0 });
    const turns = [...messages, { role: 'assistant' as const, content: response.output_text }, { role: 'user' as const, content: 'And then?' }];
    expect(next.usage!.input_tokens).toBe((await engine.tokenize({ model: MODEL, messages: turns })).count);
  });

  it('n = 2 with a seed is reproducible; a system role the template supports renders', async () => {
    const params = { model: MODEL, messages: [{ role: 'system' as const, content: 'Be brief.' }, ...messages], max_tokens: 6, temperature: 0.9, seed: 42, n: 2 };
    const a = await client.chat.completions.create(params);
    const b = await client.chat.completions.create(params);
    expect(a.choices.map((c) => c.message.content)).toEqual(b.choices.map((c) => c.message.content));
    expect(a.choices.map((c) => c.index)).toEqual([0, 1]);
    expect((await engine.stats()).kvBlocksUsed).toBe(0);
  });
});
