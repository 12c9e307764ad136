// The Chromium side of bench/peer-wllama.ts: runs the same measurements on tabllm
// (createEngine on navigator.gpu) and on wllama (llama.cpp in WebAssembly, CPU) for one
// GGUF URL, and returns plain numbers. Timings are wall clock in the page, so both engines
// pay their own worker/transport costs.
import { Wllama } from '@wllama/wllama';
import { createEngine } from '../../src/create-engine';
import type { Completion, CompletionChunk } from '../../src/openai/engine-api';

export interface PeerCase {
  modelUrl: string;
  /** ~128-token prompt: prefill rate and first-token latency. */
  longPrompt: string;
  /** Tokens generated after the long prompt; decode rate is over tokens 2..n. */
  decodeTokens: number;
  /** 16 distinct short prompts run at once. */
  concurrentPrompts: string[];
  concurrentTokens: number;
  /** Greedy cross-check prompt and length. */
  checkPrompt: string;
  checkTokens: number;
  warmupPrompt: string;
}

export interface PeerResult {
  engine: string;
  detail: string;
  loadMs: number;
  promptTokens: number;
  firstTokenMs: number;
  prefillTokS: number;
  decodeTokS: number;
  generated: number;
  concurrentTokens: number;
  concurrentWallMs: number;
  aggregateTokS: number;
  checkText: string;
  checkPromptTokens: number;
  checkCompletionTokens: number;
}

/** Progress lines for the Node side (forwarded from the console), with time since page load. */
function note(msg: string): void {
  console.info(`[peer ${(performance.now() / 1000).toFixed(1)}s] ${msg}`);
}

interface Streamed {
  firstMs: number;
  endMs: number;
}

async function adapterName(): Promise<string> {
  const adapter = await navigator.gpu?.requestAdapter();
  if (!adapter) return 'no WebGPU adapter';
  const i = adapter.info;
  return [i.vendor, i.architecture, i.description].filter(Boolean).join(' / ') + (adapter.features.has('shader-f16') ? ' (shader-f16)' : ' (no shader-f16)');
}

async function runTabllm(c: PeerCase): Promise<PeerResult> {
  const engine = await createEngine({ model: c.modelUrl });
  note('tabllm loaded');
  try {
    const base = { temperature: 0, ignore_eos: true, return_token_ids: true } as const;
    await engine.completions.create({ ...base, prompt: c.warmupPrompt, max_tokens: 4 });
    note('tabllm warm');

    // One streamed request: first token after the long prompt's prefill, then decode.
    let promptTokens = 0;
    let generated = 0;
    const t: Streamed = { firstMs: 0, endMs: 0 };
    const t0 = performance.now();
    const stream = await engine.completions.create({ ...base, prompt: c.longPrompt, max_tokens: c.decodeTokens + 1, stream: true, stream_options: { include_usage: true } });
    for await (const chunk of stream as AsyncIterable<CompletionChunk>) {
      const ids = chunk.choices[0]?.token_ids ?? [];
      if (chunk.usage) promptTokens = chunk.usage.prompt_tokens;
      if (ids.length > 0 && generated === 0) t.firstMs = performance.now() - t0;
      generated += ids.length;
    }
    t.endMs = performance.now() - t0;
    note(`tabllm single stream done: first token ${t.firstMs.toFixed(0)} ms, ${generated} tokens in ${t.endMs.toFixed(0)} ms`);

    const c0 = performance.now();
    const all = (await Promise.all(
      c.concurrentPrompts.map((prompt) => engine.completions.create({ ...base, prompt, max_tokens: c.concurrentTokens })),
    )) as Completion[];
    const concurrentWallMs = performance.now() - c0;
    const concurrentTokens = all.reduce((s, r) => s + (r.usage?.completion_tokens ?? 0), 0);

    const check = (await engine.completions.create({ ...base, prompt: c.checkPrompt, max_tokens: c.checkTokens })) as Completion;
    return {
      engine: 'tabllm',
      detail: `WebGPU: ${await adapterName()}`,
      loadMs: (await engine.info()).loadMs ?? 0,
      promptTokens,
      firstTokenMs: t.firstMs,
      prefillTokS: (promptTokens * 1000) / t.firstMs,
      decodeTokS: ((generated - 1) * 1000) / (t.endMs - t.firstMs),
      generated,
      concurrentTokens,
      concurrentWallMs,
      aggregateTokS: (concurrentTokens * 1000) / concurrentWallMs,
      checkText: check.choices[0]!.text,
      checkPromptTokens: check.usage?.prompt_tokens ?? NaN,
      checkCompletionTokens: check.usage?.completion_tokens ?? NaN,
    };
  } finally {
    await engine.destroy();
  }
}

async function runWllama(c: PeerCase, parallel: number): Promise<PeerResult> {
  const wllama = new Wllama({ default: '/node_modules/@wllama/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: true });
  const l0 = performance.now();
  // CPU only: the WebGPU backend of llama.cpp needs shader-f16, which this adapter lacks.
  await wllama.loadModelFromUrl(c.modelUrl, {
    n_ctx: 4096, n_batch: 512, n_parallel: parallel, n_gpu_layers: 0, n_threads: navigator.hardwareConcurrency, useCache: false,
  });
  const loadMs = performance.now() - l0;
  note('wllama loaded');
  try {
    const base = { temperature: 0, ignore_eos: true, seed: 1 } as const;
    await wllama.createCompletion({ ...base, prompt: c.warmupPrompt, max_tokens: 4 });

    let chunks = 0;
    let last: { usage?: { prompt_tokens: number; completion_tokens: number } } | undefined;
    const t: Streamed = { firstMs: 0, endMs: 0 };
    const t0 = performance.now();
    await wllama.createCompletion({
      ...base, prompt: c.longPrompt, max_tokens: c.decodeTokens + 1, stream: true,
      onData: (chunk) => {
        if (chunks++ === 0) t.firstMs = performance.now() - t0;
        last = chunk as typeof last;
      },
    });
    t.endMs = performance.now() - t0;
    note(`wllama single stream done: first token ${t.firstMs.toFixed(0)} ms, total ${t.endMs.toFixed(0)} ms`);
    const promptTokens = last?.usage?.prompt_tokens ?? NaN;
    const generated = last?.usage?.completion_tokens ?? NaN;

    const c0 = performance.now();
    const all = await Promise.all(c.concurrentPrompts.map((prompt) => wllama.createCompletion({ ...base, prompt, max_tokens: c.concurrentTokens })));
    const concurrentWallMs = performance.now() - c0;
    const concurrentTokens = all.reduce((s, r) => s + r.usage.completion_tokens, 0);

    const check = await wllama.createCompletion({ ...base, prompt: c.checkPrompt, max_tokens: c.checkTokens });
    return {
      engine: 'wllama',
      detail: `llama.cpp ${Wllama.getLibllamaVersion()} wasm CPU, ${wllama.isMultithread() ? 'multi-thread' : 'single-thread'} ${wllama.getNumThreads()} thread(s), n_parallel ${parallel}`,
      loadMs,
      promptTokens,
      firstTokenMs: t.firstMs,
      prefillTokS: (promptTokens * 1000) / t.firstMs,
      decodeTokS: ((generated - 1) * 1000) / (t.endMs - t.firstMs),
      generated,
      concurrentTokens,
      concurrentWallMs,
      aggregateTokS: (concurrentTokens * 1000) / concurrentWallMs,
      checkText: check.choices[0]!.text,
      checkPromptTokens: check.usage.prompt_tokens,
      checkCompletionTokens: check.usage.completion_tokens,
    };
  } finally {
    await wllama.exit();
  }
}

Object.assign(window, { runTabllm, runWllama, adapterName, isolated: () => crossOriginIsolated, pageReady: true });
