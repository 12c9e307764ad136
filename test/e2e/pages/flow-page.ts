// The flow e2e page: tabllm/flow in Chromium against an engine in the page (createEngine
// over the fake chat runner, stories260K's tokenizer, ChatML — or, after setupGpu, the real
// WebGPU runner on stories260K), flows fetched from the dev server by URL (filesFromUrl),
// Python nodes in the Pyodide worker (files from node_modules).
import { createEngine } from '../../../src/create-engine';
import { batchRun, filesFromUrl, flowErrorJson, runFlow, type FlowRunOptions } from '../../../src/flow';
import type { MultiEngine } from '../../../src/openai/multi-engine';
import { CHATML, fakeChatRunner } from '../../helpers/fake-chat-runner';

let engine: MultiEngine | undefined;

async function setup(ggufUrl: string): Promise<void> {
  engine = await createEngine({ model: ggufUrl, modelId: 'stories260K', chatTemplate: CHATML, createRunner: fakeChatRunner({ contextLength: 4096, numKvBlocks: 512 }) });
}

/** The real model: stories260K on the page's WebGPU adapter (navigator.gpu), ChatML for the chat API. */
async function setupGpu(ggufUrl: string): Promise<{ adapter: string }> {
  await engine?.destroy();
  engine = await createEngine({ model: ggufUrl, modelId: 'stories260K', chatTemplate: CHATML });
  const adapter = await navigator.gpu.requestAdapter();
  return { adapter: adapter ? `${adapter.info.vendor} ${adapter.info.architecture} ${adapter.info.description}` : 'none' };
}

type Opts = Pick<FlowRunOptions, 'llmParameters' | 'pythonSeed' | 'pyodideIndexUrl'>;

async function runFixture(baseUrl: string, entry: string | undefined, inputs: Record<string, unknown>, opts: Opts = {}) {
  const { files, entry: e } = await filesFromUrl(baseUrl, { entry });
  try {
    const r = await runFlow(files, inputs, { engine, entry: e, ...opts });
    return { outputs: r.outputs, nodes: Object.fromEntries(Object.entries(r.nodes).map(([k, v]) => [k, v.status])) };
  } catch (err) {
    return { error: flowErrorJson(err) };
  }
}

async function batchFixture(baseUrl: string, entry: string | undefined, dataUrl: string, opts: Opts & { concurrency?: number } = {}) {
  const { files, entry: e } = await filesFromUrl(baseUrl, { entry });
  const data = await (await fetch(dataUrl)).text();
  const progress: number[] = [];
  const r = await batchRun(files, data, { engine, entry: e, ...opts, onProgress: (done) => progress.push(done) });
  return { lines: r.lines.map((l) => ({ status: l.status, outputs: l.outputs ?? null })), progress };
}

/** Inline files (no engine needed): Python-only flows for the worker's errors and thread. */
async function runFiles(files: Record<string, string>, inputs: Record<string, unknown> = {}) {
  try {
    return { outputs: (await runFlow(files, inputs, {})).outputs };
  } catch (err) {
    return { error: flowErrorJson(err) };
  }
}

Object.assign(window, { setup, setupGpu, runFixture, batchFixture, runFiles, pageReady: true });
