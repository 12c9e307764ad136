// Parameters that must take effect, through the router on the real LocalEngine over a fake
// runner (issue #13 item 7): the penalty window (`repeat_last_n`) decides which tokens the
// runner is told to penalise; `max_tokens` beyond the context is vLLM's 400 on the OpenAI
// routes, while Ollama's `num_predict` is capped at the context left.
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import type { SequenceInput } from '../../../src/engine/types';
import { CHATML, fakeLocalEngine, sampledInputs } from '../../helpers/fake-local-engine';

const CONTEXT = 64;

async function setup() {
  const { engine, runner } = await fakeLocalEngine({ chatTemplate: CHATML, contextLength: CONTEXT });
  const router = createRouter(engine);
  const post = async (path: string, body: unknown) => {
    const response = await router(new Request(`http://localhost:8000${path}`, { method: 'POST', body: JSON.stringify(body) }));
    return { status: response.status, code: response.headers.get('x-tabllm-error-code'), json: (await response.json()) as Record<string, any> };
  };
  return { engine, runner, post };
}

/** What the runner was told to penalise at each sampled step: id → count. */
function penalised(inputs: SequenceInput[]): (Record<number, number> | undefined)[] {
  return inputs.map((s) => s.penalties && Object.fromEntries(Array.from(s.penalties.tokenIds, (id, i) => [id, s.penalties!.outputCounts[i]!])));
}

function tally(ids: number[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const id of ids) out[id] = (out[id] ?? 0) + 1;
  return out;
}

describe('repeat_last_n', () => {
  const prompt = 'Once upon a time there was a cat. The cat';

  it('window N on /v1/completions: each step penalises the last N tokens of prompt + output, counted there', async () => {
    const { runner, post } = await setup();
    const r = await post('/v1/completions', { prompt, max_tokens: 6, temperature: 0, repetition_penalty: 1.5, presence_penalty: 0.5, repeat_last_n: 4, return_token_ids: true });
    expect(r.status).toBe(200);
    const promptIds: number[] = r.json.choices[0].prompt_token_ids;
    const outputIds: number[] = r.json.choices[0].token_ids;
    expect(outputIds).toHaveLength(6);
    const expected = outputIds.map((_, k) => tally([...promptIds, ...outputIds.slice(0, k)].slice(-4)));
    expect(penalised(sampledInputs(runner()))).toEqual(expected);
  });

  it('no window on /v1/completions keeps OpenAI/vLLM semantics: prompt ∪ output, output counts', async () => {
    const { runner, post } = await setup();
    const r = await post('/v1/completions', { prompt, max_tokens: 3, temperature: 0, presence_penalty: 0.5, return_token_ids: true });
    const promptIds: number[] = r.json.choices[0].prompt_token_ids;
    const outputIds: number[] = r.json.choices[0].token_ids;
    const expected = outputIds.map((_, k) => ({ ...Object.fromEntries(promptIds.map((id) => [id, 0])), ...tally(outputIds.slice(0, k)) }));
    expect(penalised(sampledInputs(runner()))).toEqual(expected);
  });

  it('Ollama: default window 64, repeat_last_n 2 narrows it, 0 turns penalties off, -1 is everything', async () => {
    const { runner, post } = await setup();
    const generate = (options: Record<string, unknown>) => post('/api/generate', { model: 'stories260K', prompt, raw: true, stream: false, options: { temperature: 0, num_predict: 3, repeat_penalty: 1.3, ...options } });
    const counts = async (options: Record<string, unknown>) => {
      const before = sampledInputs(runner()).length;
      const r = await generate(options);
      expect(r.status).toBe(200);
      return { steps: sampledInputs(runner()).slice(before), eval: r.json.eval_count as number, promptCount: r.json.prompt_eval_count as number };
    };
    // The prompt (≈12 tokens) fits in 64: the first step penalises every prompt token, counted.
    const byDefault = await counts({});
    const all = await counts({ repeat_last_n: -1 });
    expect(penalised(byDefault.steps)).toEqual(penalised(all.steps));
    const first = penalised(byDefault.steps)[0]!;
    expect(Object.values(first).reduce((a, b) => a + b, 0)).toBe(byDefault.promptCount);
    const two = await counts({ repeat_last_n: 2 });
    for (const set of penalised(two.steps)) expect(Object.values(set!).reduce((a, b) => a + b, 0)).toBe(2);
    const off = await counts({ repeat_last_n: 0 });
    expect(off.steps.every((s) => s.penalties === undefined && s.sampling!.repetitionPenalty === 1)).toBe(true);
  });

  it('bad values are a coded 400 on both route families', async () => {
    const { post } = await setup();
    const a = await post('/v1/chat/completions', { messages: [{ role: 'user', content: 'x' }], repeat_last_n: -2 });
    expect(a).toMatchObject({ status: 400, code: 'invalid_request', json: { error: { param: 'repeat_last_n' } } });
    const b = await post('/api/chat', { model: 'stories260K', messages: [{ role: 'user', content: 'x' }], options: { repeat_last_n: 'all' } });
    expect(b).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(b.json.error).toContain("'options.repeat_last_n'");
  });
});

describe('max_tokens against the context', () => {
  const messages = [{ role: 'user' as const, content: 'Tell me a story.' }];

  it('OpenAI routes: prompt + max_tokens > context is 400 context_length_exceeded (vLLM\'s message); = context is fine', async () => {
    const { engine, post } = await setup();
    const { count } = await engine.tokenize({ messages });
    const over = await post('/v1/chat/completions', { messages, max_tokens: CONTEXT - count + 1 });
    expect(over.status).toBe(400);
    expect(over.json.error).toMatchObject({ code: 'context_length_exceeded', param: 'max_tokens', type: 'invalid_request_error' });
    expect(over.json.error.message).toBe(
      `'max_tokens' or 'max_completion_tokens' is too large: ${CONTEXT - count + 1}. This model's maximum context length is ${CONTEXT} tokens and your request has ${count} input tokens (${CONTEXT - count + 1} > ${CONTEXT} - ${count}).`,
    );
    const overCompletion = await post('/v1/chat/completions', { messages, max_completion_tokens: 1000 });
    expect(overCompletion.json.error).toMatchObject({ code: 'context_length_exceeded', param: 'max_completion_tokens' });
    const fits = await post('/v1/chat/completions', { messages, max_tokens: CONTEXT - count, temperature: 0 });
    expect(fits.status).toBe(200);
    expect(fits.json.usage.completion_tokens).toBe(CONTEXT - count);
    expect(fits.json.choices[0].finish_reason).toBe('length');
  });

  it('chat without max_tokens runs until the context is full (vLLM\'s default)', async () => {
    const { engine, post } = await setup();
    const { count } = await engine.tokenize({ messages });
    const r = await post('/v1/chat/completions', { messages, temperature: 0 });
    expect(r.status).toBe(200);
    expect(r.json.usage.completion_tokens).toBe(CONTEXT - count);
  });

  it('Ollama: num_predict beyond the context ends at the context (done_reason length), on /api/chat and /api/generate', async () => {
    const { engine, post } = await setup();
    const chat = await post('/api/chat', { model: 'stories260K', messages, stream: false, options: { num_predict: 10_000, temperature: 0 } });
    expect(chat.status).toBe(200);
    const { count } = await engine.tokenize({ messages });
    expect(chat.json).toMatchObject({ done: true, done_reason: 'length', prompt_eval_count: count, eval_count: CONTEXT - count });
    const raw = await post('/api/generate', { model: 'stories260K', prompt: 'Once upon a time', raw: true, stream: false, options: { num_predict: 10_000, temperature: 0 } });
    expect(raw.status).toBe(200);
    expect(raw.json.done_reason).toBe('length');
    expect(raw.json.eval_count).toBe(CONTEXT - raw.json.prompt_eval_count);
    const small = await post('/api/generate', { model: 'stories260K', prompt: 'Once upon a time', raw: true, stream: false, options: { num_predict: 5, temperature: 0 } });
    expect(small.json).toMatchObject({ done_reason: 'length', eval_count: 5 });
  });
});
