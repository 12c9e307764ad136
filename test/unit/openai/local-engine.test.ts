// The OpenAI-shaped engine end to end without a GPU: the real stories260K tokenizer,
// the real EngineCore (scheduler, paged KV cache), a scripted fake runner, and the
// official `openai` client through the fetch shim.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { createEngine } from '../../../src/create-engine';
import type { EngineStats } from '../../../src/openai/engine-api';
import { EngineError } from '../../../src/engine/errors';
import type { SequenceInput } from '../../../src/engine/types';
import { Tokenizer } from '../../../src/model/tokenizer';
import { createOpenAIFetch } from '../../../src/shim/fetch';
import { CHATML, fakeLocalEngine, STORIES_GGUF as STORIES } from '../../helpers/fake-local-engine';
import { FakeRunner, fakeNextToken } from '../../../src/testing/fake-runner';

// SentencePiece adds a dummy-prefix space when encoding WORDS, so the continuation decodes as STORY.
const WORDS = 'there was a little girl named Lily. She loved to play outside.';
const STORY = ` ${WORDS}`;

async function setup(opts: { numKvBlocks?: number; chatTemplate?: string } = {}) {
  const tokenizer = await Tokenizer.fromGGUF(STORIES);
  const script = tokenizer.encode(WORDS, { addSpecial: false });
  const { engine, runner } = await fakeLocalEngine({
    ...opts,
    // The "model" continues any prompt with STORY, then EOS.
    nextToken: (_context, seq) => {
      const k = seq.sampleIndex ?? 0;
      return k < script.length ? script[k]! : tokenizer.eos;
    },
  });
  return { engine, tokenizer, script, runner };
}

describe('LocalEngine (createEngine on a fake runner)', () => {
  it('completes a prompt: text, finish reason, usage', async () => {
    const { engine, tokenizer } = await setup();
    const r = await engine.completions.create({ prompt: 'Once upon a time,', max_tokens: 100, temperature: 0 });
    expect(r.object).toBe('text_completion');
    expect(r.model).toBe((await engine.info()).id);
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0]!.text).toBe(STORY);
    expect(r.choices[0]!.finish_reason).toBe('stop');
    const promptTokens = tokenizer.encode('Once upon a time,').length;
    expect(r.usage).toMatchObject({ prompt_tokens: promptTokens, completion_tokens: tokenizer.encode(WORDS, { addSpecial: false }).length + 1 });
  });

  it('max_tokens ends with length; stop strings cut the text', async () => {
    const { engine } = await setup();
    const r = await engine.completions.create({ prompt: 'Hi', max_tokens: 3, temperature: 0 });
    expect(r.choices[0]!.finish_reason).toBe('length');
    expect(r.usage!.completion_tokens).toBe(3);
    const s = await engine.completions.create({ prompt: 'Hi', max_tokens: 100, stop: ['Lily'], temperature: 0 });
    expect(s.choices[0]!.text).toBe(' there was a little girl named ');
    expect(s.choices[0]!.finish_reason).toBe('stop');
  });

  it('streams the same text in chunks, then a usage chunk', async () => {
    const { engine } = await setup();
    const stream = await engine.completions.create({ prompt: 'Hi', max_tokens: 100, stream: true, stream_options: { include_usage: true }, temperature: 0 });
    let text = '';
    let usageChunks = 0;
    for await (const c of stream) {
      for (const ch of c.choices) text += ch.text;
      if (c.usage) {
        usageChunks++;
        expect(c.choices).toEqual([]);
      }
    }
    expect(text).toBe(STORY);
    expect(usageChunks).toBe(1);
  });

  it('several prompts and n give indexed choices', async () => {
    const { engine } = await setup();
    const r = await engine.completions.create({ prompt: ['A', 'B'], n: 2, max_tokens: 4, temperature: 0 });
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    const texts = new Set(r.choices.map((c) => c.text));
    expect(texts.size).toBe(1);
  });

  it('return_token_ids (vLLM) gives the prompt and output ids', async () => {
    const { engine, tokenizer, script } = await setup();
    const r = await engine.completions.create({ prompt: 'Hi', max_tokens: 5, temperature: 0, return_token_ids: true });
    expect(r.choices[0]!.prompt_token_ids).toEqual(tokenizer.encode('Hi'));
    expect(r.choices[0]!.token_ids).toEqual(script.slice(0, 5));
    const stream = await engine.completions.create({ prompt: 'Hi', max_tokens: 5, temperature: 0, return_token_ids: true, stream: true });
    const streamed: number[] = [];
    for await (const c of stream) streamed.push(...(c.choices[0]?.token_ids ?? []));
    expect(streamed).toEqual(script.slice(0, 5));
  });

  it('echo prepends the prompt', async () => {
    const { engine } = await setup();
    const r = await engine.completions.create({ prompt: 'Hi', max_tokens: 2, echo: true, temperature: 0 });
    expect(r.choices[0]!.text.startsWith('Hi')).toBe(true);
  });

  it('chat needs a template; with one it renders, streams a role chunk first, and reports usage', async () => {
    const plain = await setup();
    const err = await plain.engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect((err as EngineError).code).toBe('model_has_no_chat_template');

    const { engine } = await setup({ chatTemplate: CHATML });
    const r = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 200, temperature: 0 });
    expect(r.choices[0]!.message).toEqual({ role: 'assistant', content: STORY, refusal: null });
    const stream = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], stream: true, temperature: 0 });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe(STORY);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
  });

  it('rejects bad requests with coded errors', async () => {
    const { engine } = await setup();
    const cases: [unknown, string, string | undefined][] = [
      [{ prompt: 'x', model: 'other' }, 'model_not_found', 'model'],
      [{ prompt: 'x', temperature: -1 }, 'invalid_request', 'temperature'],
      [{ prompt: 'x', logit_bias: { '99999': 1 } }, 'invalid_request', 'logit_bias'],
      [{ prompt: 'x '.repeat(600), max_tokens: 1 }, 'context_length_exceeded', 'prompt'],
    ];
    for (const [params, code, param] of cases) {
      const e = (await engine.completions.create(params as never).catch((x: unknown) => x)) as EngineError;
      expect(e, JSON.stringify(params).slice(0, 60)).toBeInstanceOf(EngineError);
      expect(e.code).toBe(code);
      expect(e.param).toBe(param);
    }
  });

  it('aborting a stream frees its KV blocks', async () => {
    const { engine } = await setup();
    const controller = new AbortController();
    const stream = await engine.completions.create({ prompt: 'Once upon a time', max_tokens: 100, stream: true, temperature: 0 }, { signal: controller.signal });
    let n = 0;
    const err = await (async () => {
      for await (const _ of stream) if (++n === 3) controller.abort();
    })().catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    await expect.poll(async () => (await engine.stats()).kvBlocksUsed).toBe(0);
    expect((await engine.stats()).running).toBe(0);
  });

  it('tokenize / detokenize round-trip with the model vocabulary', async () => {
    const { engine } = await setup();
    const t = await engine.tokenize({ prompt: 'Once upon a time' });
    expect(t.tokens).toEqual([1, 403, 407, 261, 378]);
    expect((await engine.detokenize({ tokens: t.tokens })).prompt).toContain('Once upon a time');
    const e = (await engine.detokenize({ tokens: [5000] }).catch((x: unknown) => x)) as EngineError;
    expect(e.code).toBe('invalid_request');
  });

  it('the official openai client works against it through createOpenAIFetch', async () => {
    const { engine } = await setup({ chatTemplate: CHATML });
    const client = new OpenAI({ baseURL: 'http://localhost:8000/v1', apiKey: 'none', fetch: createOpenAIFetch(engine) });
    const model = (await engine.info()).id;
    const r = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], temperature: 0 });
    expect(r.choices[0]!.message.content).toBe(STORY);
    const stream = await client.completions.create({ model, prompt: 'Hi', max_tokens: 5, stream: true, temperature: 0 });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.text ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(STORY.startsWith(text)).toBe(true);
  });
});

describe('LocalEngine.stats(): preemptions and KV slots', () => {
  /** An engine on a FakeRunner that hands every sampling sequence to `onSample` (during the step). */
  async function engineWith(numKvBlocks: number, onSample: (seq: SequenceInput, runner: FakeRunner) => void = () => {}, chainsSteps = true) {
    let runner!: FakeRunner;
    const engine = await createEngine({
      model: STORIES,
      enablePrefixCaching: false,
      createRunner: async ({ config }) => {
        runner = new FakeRunner({
          vocabSize: config.vocabSize,
          contextLength: 512,
          numKvBlocks,
          chainsSteps,
          nextToken: (context, seq) => {
            onSample(seq, runner);
            return fakeNextToken(context, config.vocabSize);
          },
        });
        return runner;
      },
    });
    return { engine, runner: () => runner };
  }

  it('kvSlotsFilled / kvSlotsAllocated follow the running sequence block by block', async () => {
    // Read during each step: the tokens computed before it, and whole blocks for the context after it.
    const seen: { contextLength: number; queryLength: number; stats: Promise<EngineStats> }[] = [];
    // One step at a time: a chained step would already hold the next step's slot while this one samples.
    const { engine } = await engineWith(64, (seq) => {
      seen.push({ contextLength: seq.contextLength, queryLength: seq.queryLength, stats: engine.stats() });
    }, false);
    const r = await engine.completions.create({ prompt: 'Once upon a time', max_tokens: 40, temperature: 0, ignore_eos: true });
    expect(r.usage!.completion_tokens).toBe(40);
    expect(seen).toHaveLength(40); // prefill (5 tokens, samples the first) + 39 decode steps
    expect(seen.map((s) => s.contextLength)).toEqual(Array.from({ length: 40 }, (_, i) => 5 + i));
    for (const { contextLength, queryLength, stats } of seen) {
      const s = await stats;
      expect(s.kvSlotsFilled, `context ${contextLength}`).toBe(contextLength - queryLength);
      expect(s.kvSlotsAllocated, `context ${contextLength}`).toBe(16 * Math.ceil(contextLength / 16));
      expect(s.kvSlotsAllocated).toBe(16 * s.kvBlocksUsed);
    }
    const after = await engine.stats();
    expect([after.kvSlotsFilled, after.kvSlotsAllocated, after.numPreemptions]).toEqual([0, 0, 0]);
    await engine.destroy();
  });

  it('numPreemptions counts the sequences preempted when the pool runs out (each one recomputed once)', async () => {
    // 6 blocks (5 usable, 80 slots) for 3 requests of 5 + 40 tokens (3 blocks each).
    const { engine, runner } = await engineWith(6);
    const prompts = ['Once upon a time', 'Lily saw a cat', 'Tom had a ball'];
    const outs = await Promise.all(prompts.map((prompt) => engine.completions.create({ prompt, max_tokens: 40, temperature: 0, ignore_eos: true })));
    for (const o of outs) expect(o.usage!.completion_tokens).toBe(40);
    // Without prefix caching every prefill (first or recompute) starts at position 0.
    const fromZero = runner().inputs.reduce((n, step) => n + step.sequences.filter((q) => step.positions[q.queryStart] === 0).length, 0);
    const s = await engine.stats();
    expect(s.numPreemptions).toBeGreaterThan(0);
    expect(s.numPreemptions).toBe(fromZero - prompts.length);
    expect([s.kvSlotsFilled, s.kvSlotsAllocated, s.kvBlocksUsed]).toEqual([0, 0, 0]);
    await engine.destroy();
  });
});
