// tabllm/flow in Chromium on the real model: stories260K on the page's WebGPU runner
// (SwiftShader here), PromptFlow's example flows fetched from the dev server, their llm
// nodes answered by the model, greedy. Each output must equal the same flow run in Node on
// the same model through the project's WebGPU runner on Dawn (the gpu tier's adapter).
import '../helpers/gpu-env';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import { runFlow } from '../../src/flow';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { openTestPage, SHARED_DIR, type TestPage } from '../helpers/browser';
import { CHATML } from '../helpers/fake-chat-runner';
import { STORIES_GGUF } from '../helpers/fake-local-engine';
import { readFixture } from '../helpers/flow-fixtures';

const FIXTURES_URL = `/@fs${resolve(SHARED_DIR, 'fixtures/promptflow')}`;
const GGUF_URL = `/@fs${STORIES_GGUF}`;
const GREEDY = { llmParameters: { temperature: 0 } };

let t: TestPage;
let engine: MultiEngine;

beforeAll(async () => {
  engine = await createEngine({ model: STORIES_GGUF, modelId: 'stories260K', chatTemplate: CHATML, gpu: await createNodeGPU() });
  t = await openTestPage('/test/e2e/pages/flow.html');
  const { adapter } = await t.page.evaluate((url) => (window as any).setupGpu(url), GGUF_URL);
  console.info(`flow page on the WebGPU runner: ${adapter}`);
});
afterAll(async () => {
  await t?.close();
  await engine?.destroy();
});

const CASES: Array<[string, string, Record<string, unknown>]> = [
  ['basic-with-builtin-llm (prompt → llm, max_tokens 120)', 'flows/basic-with-builtin-llm', { text: 'Once upon a time' }],
  ['chat-basic (chat history, max_tokens 256)', 'flows/chat-basic', { question: 'Where is the cat?', chat_history: [{ inputs: { question: 'Who are you?' }, outputs: { answer: 'A bot.' } }] }],
];

describe('tabllm/flow in a page on the real model', () => {
  for (const [name, path, inputs] of CASES) {
    it(`${name}: the model's answer equals Node's`, async () => {
      const page = await t.page.evaluate(([base, i, o]) => (window as any).runFixture(base, undefined, i, o), [`${FIXTURES_URL}/${path}/`, inputs, GREEDY] as const);
      expect(page).not.toHaveProperty('error');
      const folder = await readFixture(path);
      const node = await runFlow(folder.files, inputs, { engine, entry: folder.entry, ...GREEDY });
      const nodeStates = Object.fromEntries(Object.entries(node.nodes).map(([k, v]) => [k, v.status]));
      expect(page).toEqual({ outputs: node.outputs, nodes: nodeStates });
      // The llm node's text is the model's: words, not empty.
      const text = Object.values(node.outputs as Record<string, unknown>).find((v) => typeof v === 'string') as string;
      expect(text.trim().length).toBeGreaterThan(10);
      console.info(`${path}: ${JSON.stringify(text.slice(0, 80))}…`);
    });
  }

  it('the page reported no errors', () => {
    expect(t.errors).toEqual([]);
  });
});
