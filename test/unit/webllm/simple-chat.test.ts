// WebLLM's get-started / simple-chat pattern, written as its docs show it, with the import
// switched to tabllm's WebLLM layer (`tabllm/webllm` = src/compat/webllm). The model is a
// generated GGUF with a chat template, named by URL in an appConfig model_list record; the
// runner is a fake (no GPU) installed through the layer's test hook.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as webllm from '../../../src/compat/webllm';
import type { ChatCompletionMessageParam, InitProgressReport } from '../../../src/compat/webllm';
import { MODEL_ID, replyIds, startFixture, type Fixture } from './fixture';

let fx: Fixture;
beforeAll(async () => {
  fx = await startFixture();
});
afterAll(async () => {
  await fx.close();
});

describe('WebLLM simple-chat on tabllm/webllm', () => {
  it('loads with initProgressCallback reaching progress 1, streams a reply, getMessage and resetChat', async () => {
    const reports: InitProgressReport[] = [];
    const initProgressCallback = (report: InitProgressReport) => reports.push(report);
    const engine = await webllm.CreateMLCEngine(MODEL_ID, { ...fx.engineConfig, initProgressCallback });

    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports.at(-1)!.progress).toBe(1);
    expect(reports.at(-1)!.text).toBe('Finish loading on WebGPU - tabllm-test-vendor');
    for (let i = 1; i < reports.length; i++) expect(reports[i]!.progress).toBeGreaterThanOrEqual(reports[i - 1]!.progress);
    for (const r of reports) expect(typeof r.timeElapsed).toBe('number');

    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are a helpful AI assistant.' },
      { role: 'user', content: 'Hello!' },
    ];
    const chunks = await engine.chat.completions.create({ messages, temperature: 1, stream: true, stream_options: { include_usage: true } });
    let reply = '';
    let usageChunks = 0;
    const finishReasons: (string | null)[] = [];
    for await (const chunk of chunks) {
      reply += chunk.choices[0]?.delta.content || '';
      if (chunk.choices[0]) finishReasons.push(chunk.choices[0].finish_reason);
      if (chunk.usage) {
        usageChunks++;
        expect(chunk.choices).toEqual([]);
        expect(chunk.usage.completion_tokens).toBe(fx.replyLength + 1); // reply tokens + EOS
        expect(chunk.usage.prompt_tokens).toBeGreaterThan(5);
        expect(chunk.usage.total_tokens).toBe(chunk.usage.prompt_tokens + chunk.usage.completion_tokens);
        expect(chunk.usage.extra.e2e_latency_s).toBeGreaterThanOrEqual(0);
      }
    }
    expect(usageChunks).toBe(1);
    expect(finishReasons.at(-1)).toBe('stop'); // WebLLM ends with an empty-delta chunk carrying the reason
    expect(finishReasons.slice(0, -1).every((r) => r === null)).toBe(true);
    expect(reply.length).toBeGreaterThan(0);

    const fullReply = await engine.getMessage();
    expect(fullReply).toBe(reply);

    // The prompt the model saw is the GGUF's chat template rendered over the messages.
    const rendered = '<|system|>You are a helpful AI assistant.\n<|user|>Hello!\n<|assistant|>';
    const promptIds = fx.tokenizer.encode(rendered, { addSpecial: true, parseSpecial: true });
    expect(reply.trimStart()).toBe(fx.tokenizer.decode(replyIds(promptIds, fx.replyLength)).trimStart());

    // Non-streaming, same prompt, greedy: the same reply (the fake model depends only on the prompt).
    const reply2 = await engine.chat.completions.create({ messages, temperature: 0 });
    expect(reply2.object).toBe('chat.completion');
    expect(reply2.choices[0]!.message.content).toBe(reply);
    expect(reply2.choices[0]!.finish_reason).toBe('stop');
    expect(reply2.model).toBe(MODEL_ID);

    expect(await engine.runtimeStatsText()).toMatch(/^prefill: \d+\.\d{4} tokens\/sec, decoding: \d+\.\d{4} tokens\/sec$/);

    await engine.resetChat();
    expect(await engine.getMessage()).toBe('');
    expect(await engine.runtimeStatsText()).toBe('prefill: 0.0000 tokens/sec, decoding: 0.0000 tokens/sec');

    // Multi-round chat as WebLLM apps keep it: the app appends the reply and asks again.
    messages.push({ role: 'assistant', content: fullReply }, { role: 'user', content: 'And then?' });
    const round2 = await engine.chat.completions.create({ messages });
    expect(round2.choices[0]!.message.content).not.toBe(reply);
    expect(await engine.getMessage()).toBe(round2.choices[0]!.message.content);

    expect(await engine.getGPUVendor()).toBe('tabllm-test-vendor');
    expect(await engine.getMaxStorageBufferBindingSize()).toBe(134217728);
    await engine.unload();
    await expect(engine.chat.completions.create({ messages })).rejects.toMatchObject({ name: 'ModelNotLoadedError', code: 'engine_not_loaded' });
  });

  it('interruptGenerate mid-stream ends the stream with finish_reason "abort" and keeps the partial message', async () => {
    fx.setReplyLength(400);
    fx.setStepMs(2);
    try {
      const engine = await webllm.CreateMLCEngine(MODEL_ID, fx.engineConfig);
      const chunks = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Tell me a long story.' }], stream: true, stream_options: { include_usage: true } });
      let reply = '';
      let pieces = 0;
      let finish: string | null = null;
      let completionTokens = -1;
      for await (const chunk of chunks) {
        const c = chunk.choices[0];
        if (c?.delta.content) {
          reply += c.delta.content;
          if (++pieces === 3) engine.interruptGenerate();
        }
        if (c?.finish_reason) finish = c.finish_reason;
        if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
      }
      expect(finish).toBe('abort');
      expect(completionTokens).toBeGreaterThanOrEqual(3);
      expect(completionTokens).toBeLessThan(400);
      expect(await engine.getMessage()).toBe(reply);

      // The interrupt applied to that request only: the next one runs to its end.
      fx.setReplyLength(5);
      const next = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Short one.' }] });
      expect(next.choices[0]!.finish_reason).toBe('stop');
      expect(next.usage!.completion_tokens).toBe(6);
      await engine.unload();
    } finally {
      fx.setReplyLength(12);
      fx.setStepMs(0);
    }
  });

  it('non-streaming interrupt returns the partial text with finish_reason "abort"', async () => {
    fx.setReplyLength(400);
    fx.setStepMs(2);
    try {
      const engine = await webllm.CreateMLCEngine(MODEL_ID, fx.engineConfig);
      const pending = engine.chat.completions.create({ messages: [{ role: 'user', content: 'Go on forever.' }] });
      await new Promise((r) => setTimeout(r, 60));
      const partial = await engine.getMessage();
      await engine.interruptGenerate();
      const r = await pending;
      expect(r.choices[0]!.finish_reason).toBe('abort');
      expect(r.choices[0]!.message.content!.startsWith(partial)).toBe(true);
      expect(r.usage!.completion_tokens).toBeLessThan(400);
      await engine.unload();
    } finally {
      fx.setReplyLength(12);
      fx.setStepMs(0);
    }
  });
});
