// tabllm/flow in Chromium: PromptFlow's example flows fetched by URL from the dev server,
// run against an engine in the page (the fake chat runner over stories260K's tokenizer), with
// Python nodes in the Pyodide worker loaded from node_modules (nothing from a CDN). Each
// result must equal what Node gets from the same flow folder, engine and settings.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchRun, runFlow } from '../../src/flow';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { openTestPage, SHARED_DIR, type TestPage } from '../helpers/browser';
import { CHATML, fakeLocalEngine } from '../helpers/fake-local-engine';
import { fixtureText, readFixture } from '../helpers/flow-fixtures';

const FIXTURES_URL = `/@fs${resolve(SHARED_DIR, 'fixtures/promptflow')}`;
const GGUF_URL = `/@fs${resolve(SHARED_DIR, 'fixtures/stories260K/stories260K.gguf')}`;

let t: TestPage;
let engine: MultiEngine;
/** Every URL the page and its workers asked for after load. */
const requested: string[] = [];

beforeAll(async () => {
  ({ engine } = await fakeLocalEngine({ chatTemplate: CHATML, contextLength: 4096, numKvBlocks: 512 }));
  t = await openTestPage('/test/e2e/pages/flow.html');
  t.page.on('request', (r) => requested.push(r.url()));
  await t.page.evaluate((url) => (window as any).setup(url), GGUF_URL);
});
afterAll(async () => {
  await t?.close();
  engine?.destroy();
});

type Opts = { llmParameters?: Record<string, unknown>; pythonSeed?: number };

function inPage(path: string, entry: string | undefined, inputs: Record<string, unknown>, opts: Opts) {
  return t.page.evaluate(([base, e, i, o]) => (window as any).runFixture(base, e, i, o), [`${FIXTURES_URL}/${path}/`, entry, inputs, opts] as const);
}

async function inNode(path: string, entry: string | undefined, inputs: Record<string, unknown>, opts: Opts) {
  const folder = await readFixture(entry ? `${path}/${entry}` : path);
  const r = await runFlow(folder.files, inputs, { engine, entry: folder.entry, ...opts });
  return { outputs: r.outputs, nodes: Object.fromEntries(Object.entries(r.nodes).map(([k, v]) => [k, v.status])) };
}

const T0 = { llmParameters: { temperature: 0 } };
const CASES: Array<[string, string, Record<string, unknown>, Opts]> = [
  ['chat-basic (llm node, chat history)', 'flows/chat-basic', { question: 'And now?', chat_history: [{ inputs: { question: 'Who are you?' }, outputs: { answer: 'A bot.' } }] }, T0],
  ['basic-with-builtin-llm', 'flows/basic-with-builtin-llm', { text: 'C Hello World!' }, T0],
  ['named-entity-recognition (llm → Python in the worker)', 'flows/named-entity-recognition', {}, T0],
  ['conditional-flow-for-if-else (activate / bypass, Python)', 'flows/conditional-flow-for-if-else', { question: 'What is ChatGPT?' }, { pythonSeed: 3 }],
];

describe('tabllm/flow in a page', () => {
  for (const [name, path, inputs, opts] of CASES) {
    it(`${name}: the same outputs and node states as in Node`, async () => {
      const page = await inPage(path, undefined, inputs, opts);
      expect(page).not.toHaveProperty('error');
      expect(page).toEqual(await inNode(path, undefined, inputs, opts));
    });
  }

  it('conditional-flow: both branches (done / bypassed) across seeds match Node', async () => {
    const seen = new Set<string>();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const opts = { pythonSeed: seed };
      const page = (await inPage('flows/conditional-flow-for-if-else', undefined, { question: 'Hi' }, opts)) as { nodes: Record<string, string> };
      expect(page).toEqual(await inNode('flows/conditional-flow-for-if-else', undefined, { question: 'Hi' }, opts));
      seen.add(JSON.stringify(page.nodes));
    }
    expect([...seen].some((s) => s.includes('bypassed'))).toBe(true);
  });

  it('a prompty batch run over its data.jsonl: every line equals Node, progress counts up', async () => {
    const page = await t.page.evaluate(
      ([base, data]) => (window as any).batchFixture(base, 'basic.prompty', data, { concurrency: 3, llmParameters: { temperature: 0 } }),
      [`${FIXTURES_URL}/prompty/basic/`, `${FIXTURES_URL}/prompty/basic/data.jsonl`] as const,
    );
    const folder = await readFixture('prompty/basic/basic.prompty');
    const node = await batchRun(folder.files, fixtureText('prompty/basic/data.jsonl'), { engine, entry: folder.entry, concurrency: 3, llmParameters: { temperature: 0 } });
    expect(page.lines).toEqual(node.lines.map((l) => ({ status: l.status, outputs: l.outputs ?? null })));
    expect(page.lines.length).toBeGreaterThan(1);
    expect(page.lines.every((l: { status: string }) => l.status === 'completed')).toBe(true);
    expect(page.progress).toEqual(page.lines.map((_: unknown, i: number) => i + 1));
  });

  it('Python runs in a worker (no document), and a missing package is python_package_missing naming it', async () => {
    const flow = (py: string) => ({
      'flow.dag.yaml': 'outputs:\n  out: {reference: "${py.output}"}\nnodes:\n- name: py\n  type: python\n  source: {type: code, path: node.py}\n  inputs: {}\n',
      'node.py': `from promptflow.core import tool\n${py}`,
    });
    const where = await t.page.evaluate((f) => (window as any).runFiles(f), flow('import js\n@tool\ndef f():\n    return [hasattr(js, "document"), type(js).__name__]\n'));
    expect(where).toMatchObject({ outputs: { out: [false, expect.any(String)] } });
    const missing = await t.page.evaluate((f) => (window as any).runFiles(f), flow('import numpy_not_here\n@tool\ndef f():\n    return 1\n'));
    expect(missing).toMatchObject({ error: { code: 'python_package_missing', file: 'node.py', node: 'py', message: expect.stringContaining("'numpy_not_here'") } });
    expect(t.errors.filter((e) => !/favicon/.test(e))).toEqual([]);
    // Pyodide came from node_modules on the dev server, nothing from another host.
    expect(requested.some((u) => /\/node_modules\/pyodide\/pyodide\.asm\.wasm/.test(u))).toBe(true);
    expect(requested.filter((u) => !u.startsWith('http://127.0.0.1:'))).toEqual([]);
  });
});
