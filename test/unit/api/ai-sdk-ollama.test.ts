// The AI SDK's Ollama provider (`ollama-ai-provider-v2`, unmodified) with `ai`'s
// generateText/streamText, against the real LocalEngine on a fake runner — (a) through a
// running server (serveFetchHandler over createRouter) and (b) through the fetch shim. The
// provider sends temperature/top_p/max_output_tokens (chat) and max_tokens/stop (generate)
// as top-level fields (issue #14 item 3): they must be accepted and take effect.
import { generateText, streamText } from 'ai';
import { createOllama } from 'ollama-ai-provider-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { serveFetchHandler, type RunningServer } from '../../../src/cli/http-server';
import type { MultiEngine } from '../../../src/openai/multi-engine';
import { createOpenAIFetch } from '../../../src/shim/fetch';
import type { FakeRunner } from '../../../src/testing/fake-runner';
import { CHATML, fakeLocalEngine, sampledInputs } from '../../helpers/fake-local-engine';

const MODEL = 'stories260K';
const PROMPT = 'Tell me a story about a cat.';

let engine: MultiEngine;
let runner: () => FakeRunner;
let server: RunningServer;

beforeAll(async () => {
  ({ engine, runner } = await fakeLocalEngine({ chatTemplate: CHATML, contextLength: 256 }));
  server = await serveFetchHandler(createRouter(engine), { port: 0 });
});

afterAll(async () => {
  await server?.close(0);
  await engine?.destroy();
});

/** The sampling params of the sampled steps of the request(s) run inside `fn`. */
async function stepsOf<T>(fn: () => Promise<T>): Promise<{ result: T; temperatures: number[]; topPs: number[] }> {
  const before = sampledInputs(runner()).length;
  const result = await fn();
  const steps = sampledInputs(runner()).slice(before);
  return { result, temperatures: steps.map((s) => s.sampling!.temperature), topPs: steps.map((s) => s.sampling!.topP) };
}

const hosts = [
  ['a running server', () => createOllama({ baseURL: `${server.url}/api` })],
  ['the fetch shim', () => createOllama({ fetch: createOpenAIFetch(engine) })],
] as const;

describe.each(hosts)('ollama-ai-provider-v2 through %s', (_name, provider) => {
  it('chat model (/api/chat): generateText honours maxOutputTokens and temperature 0', async () => {
    const ollama = provider();
    const first = await stepsOf(() => generateText({ model: ollama(MODEL), prompt: PROMPT, temperature: 0, maxOutputTokens: 7 }));
    expect(first.result.usage.outputTokens).toBe(7);
    expect(first.result.finishReason).toBe('length');
    expect(first.temperatures).toEqual(Array(7).fill(0));
    // Greedy twice: the same text.
    const again = await generateText({ model: ollama(MODEL), prompt: PROMPT, temperature: 0, maxOutputTokens: 7 });
    expect(again.text).toBe(first.result.text);
    expect(first.result.text.length).toBeGreaterThan(0);
  });

  it('chat model: temperature 1 and topP reach the sampler, and sampled text differs from greedy', async () => {
    const ollama = provider();
    const greedy = await generateText({ model: ollama(MODEL), prompt: PROMPT, temperature: 0, maxOutputTokens: 12 });
    const sampled = await stepsOf(() => generateText({ model: ollama(MODEL), prompt: PROMPT, temperature: 1, topP: 0.9, maxOutputTokens: 12 }));
    expect(sampled.temperatures).toEqual(Array(12).fill(1));
    expect(sampled.topPs.every((p) => Math.abs(p - 0.9) < 1e-9)).toBe(true);
    expect(sampled.result.usage.outputTokens).toBe(12);
    expect(sampled.result.text).not.toBe(greedy.text);
  });

  it('chat model: streamText streams the greedy text and the token limit', async () => {
    const ollama = provider();
    const greedy = await generateText({ model: ollama(MODEL), prompt: PROMPT, temperature: 0, maxOutputTokens: 5 });
    const stream = streamText({ model: ollama(MODEL), prompt: PROMPT, temperature: 0, maxOutputTokens: 5 });
    let text = '';
    for await (const delta of stream.textStream) text += delta;
    expect(text).toBe(greedy.text);
    expect((await stream.usage).outputTokens).toBe(5);
    expect(await stream.finishReason).toBe('length');
  });

  it('completion model (/api/generate, top-level max_tokens and stop): token limit and temperature', async () => {
    // generateText only: the provider's completion stream wants `context` on every NDJSON
    // line, which Ollama sends only on the last, so it fails against Ollama too.
    const ollama = provider();
    const greedy = await stepsOf(() => generateText({ model: ollama.completion(MODEL), prompt: PROMPT, temperature: 0, maxOutputTokens: 6 }));
    expect(greedy.result.usage.outputTokens).toBe(6);
    expect(greedy.temperatures).toEqual(Array(6).fill(0));
    const again = await generateText({ model: ollama.completion(MODEL), prompt: PROMPT, temperature: 0, maxOutputTokens: 6 });
    expect(again.text).toBe(greedy.result.text);
    const sampled = await stepsOf(() => generateText({ model: ollama.completion(MODEL), prompt: PROMPT, temperature: 0.7, maxOutputTokens: 6 }));
    expect(sampled.temperatures).toEqual(Array(6).fill(0.7));
  });
});
