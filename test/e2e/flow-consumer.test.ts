// tabllm/flow's Python nodes as a consumer meets them: `npm pack`, installed into a fresh
// project with vite. In Node, `npx tabllm flow test` runs a flow with a Python node with no
// setting (Pyodide loads from the installed pyodide package). In Chromium, a Vite-built page
// running the same flow through the published Pyodide worker: without `pyodideIndexUrl` it
// fails with pyodide_not_found and a message saying what to copy and pass; with the URL of
// a folder holding Pyodide's files it runs; with a URL serving no Pyodide, pyodide_not_found
// naming that URL. Needs `npm run build` first.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser';
import { createConsumerProject, freePort, startProcess, stopProcess, viteBin, type ConsumerProject } from '../helpers/consumer-project';

const FLOW = 'inputs:\n  text: {type: string, default: "a,b"}\noutputs:\n  parts: {reference: "${split.output}"}\nnodes:\n- name: split\n  type: python\n  source: {type: code, path: split.py}\n  inputs: {text: "${inputs.text}"}\n';
const SPLIT_PY = 'from promptflow.core import tool\n\n@tool\ndef split(text: str) -> list:\n    return text.split(",")\n';
const PYODIDE_FILES = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide-lock.json'];

const INDEX_HTML = '<!doctype html><html><body><script type="module" src="/main.js"></script></body></html>\n';
const MAIN_JS = `import { runFlow } from 'tabllm/flow';
const files = ${JSON.stringify({ 'flow.dag.yaml': FLOW, 'split.py': SPLIT_PY })};
window.runPy = async (pyodideIndexUrl) => {
  try {
    const r = await runFlow(files, { text: 'x,y,z' }, pyodideIndexUrl ? { pyodideIndexUrl } : {});
    return { outputs: r.outputs };
  } catch (e) {
    return { code: e.code, node: e.node, message: e.message };
  }
};
window.pageReady = true;
`;

type PageResult = { outputs?: unknown; code?: string; node?: string; message?: string };

describe('tabllm/flow Python nodes from the packed tarball', () => {
  let project: ConsumerProject;
  let browser: Browser | undefined;

  beforeAll(() => {
    project = createConsumerProject({
      deps: ['vite'],
      files: { 'pyflow/flow.dag.yaml': FLOW, 'pyflow/split.py': SPLIT_PY, 'index.html': INDEX_HTML, 'main.js': MAIN_JS },
    });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    project?.remove();
  });

  it('Node: `tabllm flow test` runs the Python node with no setting', { timeout: 120_000 }, () => {
    const r = project.run('npx', ['tabllm', 'flow', 'test', 'pyflow', '--inputs', 'text=x,y,z'], { timeoutMs: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ parts: ['x', 'y', 'z'] });
  });

  it('a Vite-built page: pyodide_not_found without pyodideIndexUrl, outputs with it, pyodide_not_found for a URL without Pyodide', { timeout: 300_000 }, async () => {
    // The app's copy of Pyodide's files, as src/flow/README.md tells it to make.
    mkdirSync(join(project.dir, 'public/pyodide'), { recursive: true });
    for (const f of PYODIDE_FILES) copyFileSync(join(project.dir, 'node_modules/pyodide', f), join(project.dir, 'public/pyodide', f));
    const built = project.run('node', [viteBin(project), 'build'], { timeoutMs: 180_000 });
    expect(built.status, built.stderr).toBe(0);
    const port = await freePort();
    const preview = startProcess(project, 'node', [viteBin(project), 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], /http:\/\/127\.0\.0\.1:\d+/);
    try {
      await preview.matched;
      browser = await launchChromium();
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/`);
      await page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true, null, { timeout: 60_000 });
      const runPy = (url: string | undefined) => page.evaluate((u) => (window as unknown as { runPy(u?: string): Promise<PageResult> }).runPy(u), url);

      const missing = await runPy(undefined);
      expect(missing).toMatchObject({ code: 'pyodide_not_found', node: 'split' });
      expect(missing.message).toContain('pyodideIndexUrl');
      expect(missing.message).toContain('node_modules/pyodide/');

      expect(await runPy('/pyodide/')).toEqual({ outputs: { parts: ['x', 'y', 'z'] } });

      const wrong = await runPy('/nope/');
      expect(wrong).toMatchObject({ code: 'pyodide_not_found', node: 'split' });
      expect(wrong.message).toContain("'/nope/'");
    } finally {
      await stopProcess(preview.child);
    }
  });
});
