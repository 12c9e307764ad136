// Page half of the worker-engine e2e: the engine runs in a dedicated worker; the page
// streams a completion while a requestAnimationFrame loop measures frame gaps, and serves a
// chat model and an embedding model from one worker with their requests interleaved.
import { createWorkerEngine } from '../../../src/client/worker-engine';
import type { CompletionChunk } from '../../../src/openai/engine-api';
import { EngineError } from '../../../src/engine/errors';

async function streamCompletion(modelUrl: string, maxTokens: number) {
  const progress: number[] = [];
  const engine = await createWorkerEngine({ model: modelUrl, onProgress: (p) => progress.push(p.total > 0 ? p.loaded / p.total : 0) });
  // Main-thread blocking, measured directly: every task over 50 ms is reported.
  let longestTaskMs = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longestTaskMs = Math.max(longestTaskMs, e.duration);
  });
  observer.observe({ type: 'longtask', buffered: false });
  const started = performance.now();
  let maxGapMs = 0;
  let frames = 0;
  let last = performance.now();
  let running = true;
  const tick = (t: number) => {
    maxGapMs = Math.max(maxGapMs, t - last);
    last = t;
    frames++;
    if (running) requestAnimationFrame(tick);
  };
  requestAnimationFrame((t) => {
    last = t;
    requestAnimationFrame(tick);
  });
  const stream = (await engine.completions.create({ prompt: '', max_tokens: maxTokens, temperature: 0, stream: true, return_token_ids: true })) as AsyncIterable<CompletionChunk>;
  let text = '';
  const ids: number[] = [];
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.text ?? '';
    ids.push(...(c.choices[0]?.token_ids ?? []));
  }
  running = false;
  const generationMs = performance.now() - started;
  observer.disconnect();
  // An error from the worker keeps its class and code.
  const err = await engine.completions.create({ prompt: 'x', model: 'not-this-one' }).catch((e: unknown) => e);
  const stats = await engine.stats();
  await engine.terminate();
  return {
    text, ids, chunks, frames, maxGapMs, longestTaskMs, generationMs, progress,
    error: { isEngineError: err instanceof EngineError, code: (err as EngineError).code },
    kvBlocksUsed: stats.kvBlocksUsed,
  };
}

/**
 * createWorkerEngine({ models }) with a chat and an embedding model in the one worker:
 * `rounds` greedy completions and `rounds` embedding requests, all in flight together
 * (chat, embed, chat, embed, …), then the models the worker lists and its errors.
 */
async function twoModels(chatUrl: string, embedUrl: string, texts: string[], maxTokens: number) {
  const engine = await createWorkerEngine({ models: [chatUrl, { model: embedUrl, modelId: 'embedder' }] });
  try {
    const calls: Promise<unknown>[] = [];
    texts.forEach((input) => {
      calls.push(engine.completions.create({ model: 'stories260K', prompt: '', max_tokens: maxTokens, temperature: 0, return_token_ids: true }));
      calls.push(engine.embeddings.create({ model: 'embedder', input }));
    });
    const results = await Promise.all(calls);
    const chats = results.filter((_, i) => i % 2 === 0) as { choices: { token_ids?: number[] }[] }[];
    const embeds = results.filter((_, i) => i % 2 === 1) as { data: { embedding: number[] }[]; usage: { prompt_tokens: number } }[];
    const wrongTask = await engine.embeddings.create({ model: 'stories260K', input: 'x' }).catch((e: unknown) => e);
    return {
      chatIds: chats.map((c) => c.choices[0]!.token_ids),
      vectors: embeds.map((e) => e.data[0]!.embedding),
      promptTokens: embeds.map((e) => e.usage.prompt_tokens),
      models: (await engine.models.list()).data.map((m) => m.id),
      tasks: [(await engine.info('stories260K')).task, (await engine.info('embedder')).task],
      wrongTask: { isEngineError: wrongTask instanceof EngineError, code: (wrongTask as EngineError).code },
    };
  } finally {
    await engine.terminate();
  }
}

Object.assign(window, { streamCompletion, twoModels, pageReady: true });
