// The worker protocol over a MessageChannel in Node: same Engine on both sides.
import { describe, expect, it } from 'vitest';
import { hostEngine } from '../../../src/client/host';
import { RemoteEngine } from '../../../src/client/remote-engine';
import type { Engine } from '../../../src/openai/engine-api';
import { EngineError } from '../../../src/engine/errors';
import { fromWireError, toWireError } from '../../../src/client/wire-errors';
import { GGUFError } from '../../../src/model/gguf/errors';
import { StorageError } from '../../../src/storage/errors';

/** A minimal engine: streams `n` numbered chunks, 2 ms apart; records aborts. */
function tinyEngine() {
  const log = { aborted: 0, finished: 0 };
  const chunks = async function* (n: number, signal?: AbortSignal) {
    // What the engine must see: its request signal firing.
    signal?.addEventListener('abort', () => log.aborted++);
    for (let i = 0; i < n; i++) {
      if (signal?.aborted) throw new EngineError('aborted', 'aborted');
      await new Promise((r) => setTimeout(r, 2));
      yield { id: 'c', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: `t${i}` }, finish_reason: null }] };
    }
    log.finished++;
  };
  const engine = {
    chat: {
      completions: {
        async create(params: { stream?: boolean; max_tokens?: number; messages: { content: string }[] }, opts?: { signal?: AbortSignal }) {
          if (params.messages[0]?.content === 'too long') throw new EngineError('context_length_exceeded', 'prompt is 9999 tokens', 'messages');
          if (params.stream) return chunks(params.max_tokens ?? 3, opts?.signal);
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, params.max_tokens === 999 ? 5000 : 1);
            opts?.signal?.addEventListener('abort', () => {
              clearTimeout(t);
              log.aborted++;
              reject(new EngineError('aborted', 'aborted'));
            });
          });
          return { id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }] };
        },
      },
    },
    completions: { create: async () => { throw new EngineError('unsupported', 'no'); } },
    models: { list: async () => ({ object: 'list', data: [{ id: 'tiny', object: 'model', created: 1, owned_by: 'tabllm' }] }) },
    embeddings: { create: async () => { throw new EngineError('unsupported', 'embeddings are not supported'); } },
    tokenize: async () => ({ count: 1, max_model_len: 8, tokens: [1] }),
    detokenize: async () => ({ prompt: 'x' }),
    stats: async () => ({ running: 0, waiting: 0, kvBlocksUsed: 0, kvBlocksTotal: 8, prefixCacheHitRate: 0, lastStepBatchSize: 0, lastStepMs: 0, tokensPerSecond: 0 }),
    info: async () => ({ id: 'tiny', contextLength: 8, hasChatTemplate: true, created: 1, arch: 'llama', quant: 'F32' }),
  } as unknown as Engine;
  return { engine, log };
}

async function connect(preloaded = true) {
  const { engine, log } = tinyEngine();
  const { port1, port2 } = new MessageChannel();
  hostEngine(port2, async () => engine, preloaded ? engine : undefined);
  const remote = RemoteEngine.connect(port1);
  return { remote, log, close: () => { port1.close(); port2.close(); } };
}

describe('RemoteEngine over a MessageChannel', () => {
  it('answers unary calls', async () => {
    const { remote, close } = await connect();
    expect((await remote.models.list()).data[0]!.id).toBe('tiny');
    expect((await remote.tokenize({ prompt: 'a' })).tokens).toEqual([1]);
    close();
  });

  it('streams every chunk in order', async () => {
    const { remote, close } = await connect();
    const stream = await remote.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 5 });
    const got: string[] = [];
    for await (const c of stream) got.push(c.choices[0]!.delta.content!);
    expect(got).toEqual(['t0', 't1', 't2', 't3', 't4']);
    close();
  });

  it('keeps the error class, code and param across the boundary', async () => {
    const { remote, close } = await connect();
    const err = await remote.chat.completions.create({ messages: [{ role: 'user', content: 'too long' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('context_length_exceeded');
    expect((err as EngineError).param).toBe('messages');
    close();
  });

  it('rebuilds the model layers\' error classes with their code and fields', async () => {
    const roundTrip = (e: Error) => fromWireError(structuredClone(toWireError(e)));
    const g = roundTrip(new GGUFError('bad_magic', 'not a GGUF file', 0));
    expect(g).toBeInstanceOf(GGUFError);
    expect(g.message).toBe('bad_magic: not a GGUF file (at byte 0)');
    expect((g as GGUFError).code).toBe('bad_magic');
    expect((g as GGUFError).offset).toBe(0);
    const s = roundTrip(new StorageError('quota_exceeded', 'no room', { bytesNeeded: 123 }));
    expect(s).toBeInstanceOf(StorageError);
    expect((s as StorageError).bytesNeeded).toBe(123);
  });

  it('reports engine_not_loaded before load()', async () => {
    const { remote, close } = await connect(false);
    const err = await remote.stats().catch((e: unknown) => e);
    expect((err as EngineError).code).toBe('engine_not_loaded');
    const info = await remote.load({});
    expect(info.id).toBe('tiny');
    expect((await remote.stats()).kvBlocksTotal).toBe(8);
    close();
  });

  it('an AbortSignal mid-stream ends the local iterator with AbortError and aborts the engine request', async () => {
    const { remote, log, close } = await connect();
    const controller = new AbortController();
    const stream = await remote.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 1000 }, { signal: controller.signal });
    let n = 0;
    const err = await (async () => {
      for await (const _ of stream) if (++n === 3) controller.abort();
    })().catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    await expect.poll(() => log.aborted, { timeout: 2000 }).toBe(1);
    expect(log.finished).toBe(0);
    close();
  });

  it('breaking out of for-await cancels the engine request', async () => {
    const { remote, log, close } = await connect();
    const stream = await remote.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], stream: true, max_tokens: 1000 });
    let n = 0;
    for await (const _ of stream) if (++n === 2) break;
    await expect.poll(() => log.aborted, { timeout: 2000 }).toBe(1);
    close();
  });

  it('an AbortSignal aborts a non-streaming request in the engine', async () => {
    const { remote, log, close } = await connect();
    const controller = new AbortController();
    const p = remote.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }], max_tokens: 999 }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    const err = await p.catch((e: unknown) => e);
    expect((err as EngineError).code).toBe('aborted');
    expect(log.aborted).toBe(1);
    close();
  });
});
