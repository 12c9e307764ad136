// Page half of the fetch-shim e2e: installFetchShim over a FakeEngine, then code written
// for a local vLLM/Ollama server (the openai client, plain fetch) runs unchanged.
import OpenAI from 'openai';
import { installFetchShim } from '../../../src/shim/fetch';
import { FakeEngine } from '../../helpers/fake-engine';

const engine = new FakeEngine({ id: 'fake-model', tokenDelayMs: 1 });
const uninstall = installFetchShim(engine);

async function openaiChat(): Promise<{ content: string; streamed: string; models: string[] }> {
  const client = new OpenAI({ baseURL: 'http://localhost:8000/v1', apiKey: 'none', dangerouslyAllowBrowser: true });
  const r = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'hello there' }], temperature: 0 });
  const stream = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'stream me' }], stream: true, temperature: 0 });
  let streamed = '';
  for await (const c of stream) streamed += c.choices[0]?.delta.content ?? '';
  const models = (await client.models.list()).data.map((m) => m.id);
  return { content: r.choices[0]!.message.content ?? '', streamed, models };
}

async function ollamaFetch(): Promise<unknown> {
  const r = await fetch('http://127.0.0.1:11434/api/generate', { method: 'POST', body: JSON.stringify({ model: 'fake-model', prompt: 'hi', stream: false, options: { temperature: 0 } }) });
  return r.json();
}

/** A same-origin request that the shim must not touch. */
async function unrelated(): Promise<{ status: number; text: string }> {
  const r = await fetch('/test/e2e/pages/shim.html');
  return { status: r.status, text: (await r.text()).slice(0, 15) };
}

/** After uninstall, localhost:8000 goes to the network (nothing listens there): fetch fails. */
async function afterUninstall(): Promise<string> {
  uninstall();
  try {
    await fetch('http://localhost:8000/v1/models');
    return 'reached';
  } catch (e) {
    return (e as Error).name;
  }
}

Object.assign(window, { openaiChat, ollamaFetch, unrelated, afterUninstall, shimReady: true });
