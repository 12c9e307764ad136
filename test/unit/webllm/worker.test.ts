// The worker pattern of WebLLM apps (a handler in the worker, CreateWebWorkerMLCEngine on
// the page) over a MessageChannel: the handler side is wired exactly like WebLLM's docs
// wire `self.onmessage`, with the port standing in for the worker global (Node's global
// MessageChannel, typed as the DOM one it implements).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateWebWorkerMLCEngine, WebWorkerMLCEngineHandler, type InitProgressReport } from '../../../src/compat/webllm';
import type { ChatWorker } from '../../../src/compat/webllm/worker';
import { GGUFError } from '../../../src/model/gguf/errors';
import { MODEL_ID, startFixture, type Fixture } from './fixture';

let fx: Fixture;
let page: MessagePort;
let workerGlobal: MessagePort;
beforeAll(async () => {
  fx = await startFixture();
  ({ port1: page, port2: workerGlobal } = new MessageChannel());
  // --- worker.ts, as WebLLM documents it, but handed an engine on the fixture's fake runner
  // (the handler's tabllm extension: the worker's runner, GPU and storage; the page side stays WebLLM's) ---
  const handler = new WebWorkerMLCEngineHandler(fx.engineConfig);
  handler.postMessage = (msg) => workerGlobal.postMessage(msg); // the worker's global postMessage
  workerGlobal.onmessage = (msg) => handler.onmessage(msg);
});
afterAll(async () => {
  page.close();
  workerGlobal.close();
  await fx.close();
});

describe('CreateWebWorkerMLCEngine + WebWorkerMLCEngineHandler', () => {
  it('loads with progress, streams, answers getMessage/resetChat/stats, and rebuilds named errors', async () => {
    const reports: InitProgressReport[] = [];
    const engine = await CreateWebWorkerMLCEngine(page as unknown as ChatWorker, MODEL_ID, {
      appConfig: fx.appConfig,
      initProgressCallback: (r) => reports.push(r),
    });
    expect(reports.at(-1)!.progress).toBe(1);

    const stream = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hello!' }], stream: true, stream_options: { include_usage: true } });
    let reply = '';
    let last: string | null = null;
    let usage = 0;
    for await (const chunk of stream) {
      reply += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]?.finish_reason) last = chunk.choices[0].finish_reason;
      if (chunk.usage) usage = chunk.usage.completion_tokens;
    }
    expect(last).toBe('stop');
    expect(usage).toBe(fx.replyLength + 1);
    expect(await engine.getMessage()).toBe(reply);

    const same = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Hello!' }], temperature: 0 });
    expect(same.choices[0]!.message.content).toBe(reply);

    expect(await engine.runtimeStatsText()).toMatch(/^prefill: .* tokens\/sec, decoding: .* tokens\/sec$/);
    await engine.resetChat();
    expect(await engine.getMessage()).toBe('');
    expect(await engine.getGPUVendor()).toBe('tabllm-test-vendor');

    // Errors keep their WebLLM name and tabllm code across the port.
    await expect(engine.chat.completions.create({ messages: [{ role: 'user', content: 'x' }], seed: 0.5 })).rejects.toMatchObject({ name: 'SeedTypeError', code: 'invalid_request' });
    await expect(engine.forwardTokensAndSample([1], true)).rejects.toMatchObject({ name: 'UnsupportedFeatureError' });
    await expect(engine.reload('No-Such-Model-MLC')).rejects.toMatchObject({ name: 'ModelNotFoundError' });
    await engine.unload();
  });

  it('a page still on @mlc-ai/web-llm gets a WebLLM-protocol "throw" instead of silence', () => {
    const sent: unknown[] = [];
    const handler = new WebWorkerMLCEngineHandler();
    handler.postMessage = (m) => sent.push(m);
    handler.onmessage({ data: { kind: 'reload', uuid: 'u-1', content: { modelId: ['x'] } } });
    expect(sent).toEqual([{ kind: 'throw', uuid: 'u-1', content: expect.stringContaining('tabllm/webllm') }]);
  });

  it('holds several models, each on its own port to the worker, and reports the worker\'s load errors by code', async () => {
    const record = fx.appConfig.model_list[0]!;
    const appConfig = { model_list: [record, { ...record, model_id: 'Second' }] };
    const engine = await CreateWebWorkerMLCEngine(page as unknown as ChatWorker, [MODEL_ID, 'Second'], { appConfig });
    const ask = (model: string) => engine.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hello!' }], temperature: 0 });
    const [a, b] = await Promise.all([ask(MODEL_ID), ask('Second')]);
    expect(a.model).toBe(MODEL_ID);
    expect(b.model).toBe('Second');
    expect(b.choices[0]!.message.content).toBe(a.choices[0]!.message.content);
    await engine.unload();
    await expect(ask(MODEL_ID)).rejects.toMatchObject({ name: 'ModelNotLoadedError' });
    // A file the worker cannot fetch: the loader's coded error crosses with its class and code.
    engine.setAppConfig({ model_list: [{ ...record, model: 'http://127.0.0.1:1/missing.gguf' }] });
    const err = await engine.reload(MODEL_ID).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(GGUFError);
    expect(err).toMatchObject({ name: 'GGUFError', code: 'fetch_failed' });
  });

  it('interruptGenerate and an early break reach the worker', async () => {
    const engine = await CreateWebWorkerMLCEngine(page as unknown as ChatWorker, MODEL_ID, { appConfig: fx.appConfig });
    fx.setReplyLength(400);
    fx.setStepMs(2);
    try {
      const s = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Long story' }], stream: true });
      let n = 0;
      let finish: string | null = null;
      for await (const c of s) {
        if (c.choices[0]?.delta.content && ++n === 3) engine.interruptGenerate();
        if (c.choices[0]?.finish_reason) finish = c.choices[0].finish_reason;
      }
      expect(finish).toBe('abort');

      const s0 = await fx.settledSteps();
      const s2 = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'Another long one' }], stream: true });
      let m = 0;
      for await (const c of s2) if (c.choices[0]?.delta.content && ++m === 2) break;
      // Cancelled in the worker: the engine goes idle long before the 400-token reply would end.
      expect((await fx.settledSteps()) - s0).toBeLessThan(200);
    } finally {
      fx.setReplyLength(12);
      fx.setStepMs(0);
      await engine.unload();
    }
  });
});
