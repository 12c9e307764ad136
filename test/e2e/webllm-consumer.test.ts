// tabllm/webllm from a consumer's side: a fresh project with the packed tabllm, vite and
// typescript, and NOT @mlc-ai/web-llm. Its app is WebLLM's get-started example in our own
// words with only the import changed: a model picker from prebuiltAppConfig.model_list,
// CreateMLCEngine with initProgressCallback and logLevel, an appConfig record for a GGUF
// served from public/, a non-streamed and a streamed chat (with usage), runtimeStatsText.
// It must type-check with `tsc --strict` (no skipLibCheck: our .d.ts files are checked too),
// build with `vite build`, and run in Chromium on WebGPU. Needs `npm run build` first.
//
// The model is stories260K with a one-line chat template added (it has none), so chat
// requests render to the bare story prompt and the model continues the story.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readGGUF, readTensorBytes, writeGGUF, type TensorInput } from '../../src/model/gguf';
import { launchChromium, SHARED_DIR } from '../helpers/browser';
import { createConsumerProject, type ConsumerProject } from '../helpers/consumer-project';

const STORIES = resolve(SHARED_DIR, 'fixtures/stories260K/stories260K.gguf');
const TEMPLATE = '{% for message in messages %}{{ message.content }}{% endfor %}';

/** stories260K plus `tokenizer.chat_template`, everything else byte-for-byte the same tensors. */
async function storiesWithTemplate(): Promise<Uint8Array> {
  const gguf = await readGGUF(STORIES);
  const tensors: TensorInput[] = [];
  for (const t of gguf.tensors) tensors.push({ name: t.name, type: t.type, shape: t.shape, data: await readTensorBytes(STORIES, t) });
  return writeGGUF({
    metadata: { ...(gguf.metadata as Record<string, never>), 'tokenizer.chat_template': TEMPLATE },
    metadataTypes: gguf.metadataTypes,
    tensors,
    alignment: gguf.alignment,
  });
}

const MAIN_TS = `
import {
  CreateMLCEngine, prebuiltAppConfig,
  type AppConfig, type ChatCompletionMessageParam, type CompletionUsage, type InitProgressReport,
} from 'tabllm/webllm';

async function main() {
  // The model picker, as WebLLM's examples build it.
  const appConfig: AppConfig = {
    model_list: [
      ...prebuiltAppConfig.model_list,
      {
        model_id: 'stories260K-chat',
        model: new URL('/stories-chat.gguf', location.href).href,
        model_lib: '',
        overrides: { context_window_size: 512 },
      },
    ],
  };
  const picker = document.createElement('select');
  for (const record of appConfig.model_list) {
    const option = document.createElement('option');
    option.value = record.model_id;
    option.textContent = record.model_id + (record.vram_required_MB ? ' (' + Math.round(record.vram_required_MB) + ' MB)' : '');
    picker.append(option);
  }
  document.body.append(picker);
  picker.value = 'stories260K-chat';

  const reports: InitProgressReport[] = [];
  const engine = await CreateMLCEngine(picker.value, {
    appConfig,
    initProgressCallback: (report: InitProgressReport) => { reports.push(report); },
    logLevel: 'INFO',
  });

  const messages: ChatCompletionMessageParam[] = [{ role: 'user', content: 'Once upon a time' }];
  const reply = await engine.chat.completions.create({ messages, max_tokens: 24, temperature: 0 });
  const text: string = reply.choices[0]?.message.content ?? '';

  const chunks = await engine.chat.completions.create({
    messages, max_tokens: 24, temperature: 0, stream: true, stream_options: { include_usage: true },
  });
  let streamed = '';
  let usage: CompletionUsage | undefined;
  for await (const chunk of chunks) {
    streamed += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  const stats: string = await engine.runtimeStatsText();
  const message: string = await engine.getMessage();
  await engine.unload();
  return {
    options: [...picker.options].map((o) => o.value),
    lowResource: prebuiltAppConfig.model_list.filter((r) => r.low_resource_required).length,
    lastReport: reports[reports.length - 1],
    text, streamed, message, stats,
    finish: reply.choices[0]?.finish_reason,
    usage: usage ? { prompt: usage.prompt_tokens, completion: usage.completion_tokens, decodeRate: usage.extra.decode_tokens_per_s } : null,
  };
}

main().then(
  (result) => Object.assign(window, { appResult: result }),
  (err: Error & { code?: string }) => Object.assign(window, { appError: { name: err.name, message: err.message, code: err.code } }),
);
`;

const TSCONFIG = JSON.stringify({
  compilerOptions: {
    target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'],
    strict: true, noEmit: true, skipLibCheck: false, types: [],
  },
  include: ['src'],
}, null, 2);

const INDEX_HTML = '<!doctype html><html><body><script type="module" src="/src/main.ts"></script></body></html>\n';

interface AppResult {
  options: string[];
  lowResource: number;
  lastReport: { progress: number; text: string };
  text: string; streamed: string; message: string; stats: string; finish: string;
  usage: { prompt: number; completion: number; decodeRate: number } | null;
}

describe('tabllm/webllm in a consumer project without @mlc-ai/web-llm', () => {
  let project: ConsumerProject | undefined;
  let server: PreviewServer | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    project = createConsumerProject({
      deps: ['vite', 'typescript'],
      files: { 'index.html': INDEX_HTML, 'src/main.ts': MAIN_TS, 'tsconfig.json': TSCONFIG },
    });
    mkdirSync(resolve(project.dir, 'public'), { recursive: true });
    writeFileSync(resolve(project.dir, 'public/stories-chat.gguf'), await storiesWithTemplate());
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    project?.remove();
  });

  it('has no @mlc-ai/web-llm installed', () => {
    const r = project!.run('node', ['-e', "import('@mlc-ai/web-llm').then(() => process.exit(1), () => process.exit(0))"]);
    expect(r.status).toBe(0);
  });

  it('type-checks with tsc --strict (library .d.ts files included)', () => {
    const r = project!.run('npx', ['tsc', '-p', 'tsconfig.json']);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
  });

  it('builds with vite and runs the app in Chromium: picker, load, chat, streamed chat with usage, stats', async () => {
    const build = project!.run('npx', ['vite', 'build', '--logLevel', 'warn']);
    expect(build.status, `${build.stdout}\n${build.stderr}`).toBe(0);
    expect(readFileSync(resolve(project!.dir, 'dist/index.html'), 'utf8')).toContain('<script');

    server = await preview({ root: project!.dir, configFile: false, logLevel: 'error', preview: { host: '127.0.0.1', port: 0, strictPort: false } });
    const url = server.resolvedUrls?.local[0];
    expect(url).toBeTruthy();
    browser = await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url!);
    await page.waitForFunction(() => 'appResult' in window || 'appError' in window, null, { timeout: 240_000 });
    const error = await page.evaluate(() => (window as unknown as { appError?: unknown }).appError);
    expect(error).toBeUndefined();
    const r = (await page.evaluate(() => (window as unknown as { appResult: unknown }).appResult)) as AppResult;

    expect(r.options).toContain('Qwen2.5-0.5B-Instruct-q4f16_1-MLC');
    expect(r.options).toContain('Llama-3.2-1B-Instruct-q4f32_1-MLC');
    expect(r.options).toContain('stories260K-chat');
    expect(r.lowResource).toBeGreaterThan(0);
    expect(r.lastReport.progress).toBe(1);
    expect(r.lastReport.text).toMatch(/^Finish loading on WebGPU - /);
    expect(r.text.trim().length).toBeGreaterThan(0);
    expect(r.finish).toBe('length');
    // Greedy both times: the streamed reply is the same text, and getMessage() holds it.
    expect(r.streamed).toBe(r.text);
    expect(r.message).toBe(r.streamed);
    expect(r.usage).not.toBeNull();
    expect(r.usage!.prompt).toBeGreaterThan(0);
    expect(r.usage!.completion).toBe(24);
    expect(r.stats).toMatch(/^prefill: \d+\.\d{4} tokens\/sec, decoding: \d+\.\d{4} tokens\/sec$/);
    expect(errors).toEqual([]);
  });
});
