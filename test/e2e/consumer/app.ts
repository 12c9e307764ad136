// The consumer's app for test/e2e/consumer.test.ts, written as a user of the published
// package writes it (plain JS, `tabllm` and `openai` from node_modules, the README's
// createWorkerEngine with no `?worker` import). Kept as text: it is copied into a temporary
// project and built there by that project's own Vite.
export const INDEX_HTML = `<!doctype html>
<html><head><meta charset="utf-8"><title>consumer</title></head>
<body><script type="module" src="/main.js"></script></body></html>
`;

export const MAIN_JS = `import OpenAI from 'openai';
import { createWorkerEngine, installFetchShim } from 'tabllm';

// The README's lines: the engine in a worker, the fetch shim, the openai client.
window.streamCompletion = async (prompt, maxTokens) => {
  const engine = await createWorkerEngine({ model: new URL('/stories260K.gguf', location.href).href });
  const uninstall = installFetchShim(engine);
  try {
    const client = new OpenAI({ baseURL: 'http://localhost:8000/v1', apiKey: 'none', dangerouslyAllowBrowser: true });
    const stream = await client.completions.create({ model: 'stories260K', prompt, max_tokens: maxTokens, temperature: 0, stream: true });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.text ?? '';
    }
    const models = (await client.models.list()).data.map((m) => m.id);
    return { text, chunks, models };
  } finally {
    uninstall();
    await engine.terminate();
  }
};

// A worker whose script is not there: the promise must reject with worker_failed.
window.brokenWorkers = async () => {
  const model = new URL('/stories260K.gguf', location.href).href;
  const outcome = (p) => p.then(() => ({ resolved: true }), (e) => ({ code: e.code, message: String(e.message) }));
  return {
    byUrl: await outcome(createWorkerEngine({ model, workerUrl: '/nope.js' })),
    byWorker: await outcome(createWorkerEngine({ model, worker: new Worker('/nope.js', { type: 'module' }) })),
  };
};

window.pageReady = true;
`;
