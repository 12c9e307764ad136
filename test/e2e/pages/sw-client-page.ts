// Service-worker e2e: a controlled page with no engine, calling the "local server" URLs
// the way ordinary app code would (fetch, the openai client).
import OpenAI from 'openai';
import { registerFromPageUrl } from './sw-register-page';

await registerFromPageUrl();

const client = () => new OpenAI({ baseURL: 'http://localhost:8000/v1', apiKey: 'none', dangerouslyAllowBrowser: true, maxRetries: 0 });

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown; errorCode: string | null }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, body: await response.json(), errorCode: response.headers.get('x-tabllm-error-code') };
}

async function openaiStream(prompt: string): Promise<{ text: string; chunks: number }> {
  const stream = await client().chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: prompt }], stream: true, temperature: 0 });
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta.content ?? '';
  }
  return { text, chunks };
}

async function get(url: string): Promise<{ status: number; text: string; errorCode: string | null }> {
  const response = await fetch(url);
  return { status: response.status, text: await response.text(), errorCode: response.headers.get('x-tabllm-error-code') };
}

/** Streams a completion and aborts after `after` chunks; returns how many chunks arrived. */
async function abortMidStream(after: number): Promise<number> {
  const controller = new AbortController();
  const stream = await client().completions.create(
    { model: 'fake-model', prompt: 'a b c d e f g h i j k l m n o p', max_tokens: 40, stream: true, temperature: 0 },
    { signal: controller.signal },
  );
  let seen = 0;
  try {
    for await (const _chunk of stream) if (++seen === after) controller.abort();
  } catch {
    // the abort ends the iteration with an APIUserAbortError
  }
  return seen;
}

/** Starts a long stream in the background; `streamed()` counts its chunks (the test then closes the tab). */
let streamedChunks = 0;
function startStream(): void {
  void (async () => {
    const stream = await client().completions.create({ model: 'fake-model', prompt: 'a b c d e f g h i j k l m n o p', max_tokens: 40, stream: true, temperature: 0 });
    for await (const _chunk of stream) streamedChunks++;
  })();
}

Object.assign(window, {
  swClient: { post, get, openaiStream, abortMidStream, startStream, streamed: () => streamedChunks, controlled: () => navigator.serviceWorker.controller !== null },
  swReady: true,
});
