// Page half of the worker-engine e2e: the engine runs in a dedicated worker; the page
// streams a completion while a requestAnimationFrame loop measures frame gaps.
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

Object.assign(window, { streamCompletion, pageReady: true });
