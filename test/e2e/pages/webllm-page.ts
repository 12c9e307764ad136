// Page half of the WebLLM-compat e2e: a WebLLM app's worker setup (new Worker + 
// CreateWebWorkerMLCEngine) pointed at tabllm/webllm, with a model_list record naming a GGUF URL.
import { CreateWebWorkerMLCEngine, type InitProgressReport } from '../../../src/compat/webllm';

async function runWebLLMApp(modelUrl: string, maxTokens: number) {
  const reports: InitProgressReport[] = [];
  const appConfig = { model_list: [{ model: new URL(modelUrl, location.href).href, model_id: 'stories260K', model_lib: '' }] };
  const engine = await CreateWebWorkerMLCEngine(
    new Worker(new URL('./webllm.worker.ts', import.meta.url), { type: 'module' }),
    'stories260K',
    { appConfig, initProgressCallback: (r) => reports.push(r) },
  );
  const chunks = await engine.completions.create({ prompt: '', max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let pieces = 0;
  let finish: string | null = null;
  let completionTokens = 0;
  for await (const chunk of chunks) {
    const c = chunk.choices[0];
    if (c?.text) {
      text += c.text;
      pieces++;
    }
    if (c?.finish_reason) finish = c.finish_reason;
    if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
  }
  const message = await engine.getMessage();
  const stats = await engine.runtimeStatsText();
  const vendor = await engine.getGPUVendor();
  const noTemplate = await engine.chat.completions.create({ messages: [{ role: 'user', content: 'hi' }] }).catch((e: Error & { code?: string }) => ({ name: e.name, code: e.code }));
  const unknownId = await engine.reload('No-Such-Model-MLC').catch((e: Error) => ({ name: e.name }));
  await engine.unload();
  return { reports, text, pieces, finish, completionTokens, message, stats, vendor, noTemplate, unknownId };
}

Object.assign(window, { runWebLLMApp, pageReady: true });
