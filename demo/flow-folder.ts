// The Flow tab's PromptFlow card: open a flow folder (File System Access picker, or
// `<input webkitdirectory>` where there is none), see its DAG, run it once with each node's
// state shown as it changes (pending → running → done / bypassed / failed), or batch-run it
// over a JSONL file of the folder with a progress bar. Runs through tabllm/flow against the
// loaded engine; Python nodes run in tabllm/flow's Pyodide worker.
import {
  batchRun,
  filesFromDirectoryHandle,
  filesFromFileList,
  loadFlow,
  runFlow,
  type BrowserFlowFiles,
  type FlowDefinition,
} from '../src/flow';
import type { DemoSession } from './session';
import { el, errorText, showError } from './ui';

/** The states the DAG list shows; tabllm/flow's 'completed' reads 'done' here. */
type NodeState = 'pending' | 'running' | 'done' | 'bypassed' | 'failed';

const STATE_OF = { running: 'running', completed: 'done', bypassed: 'bypassed', failed: 'failed' } as const;

export function mountFlowFolder(root: HTMLElement, session: DemoSession): void {
  const card = el('div', { class: 'card flow-folder' });
  card.innerHTML = `
    <h2>Run a PromptFlow flow</h2>
    <p class="muted small">Open a folder with a <code>flow.dag.yaml</code> or a <code>.prompty</code> file. LLM nodes call the loaded model; Python nodes run in Pyodide in a worker.</p>
    <div class="row wrap">
      <button type="button" class="open-folder">Open folder…</button>
      <label>or pick <input type="file" class="folder-input" webkitdirectory multiple /></label>
      <label>Flow <select class="flow-entry"></select></label>
    </div>
    <div class="error flow-folder-error" role="alert" hidden></div>
    <ol class="dag small"></ol>
    <label>Inputs (JSON)<textarea class="flow-inputs" rows="3" spellcheck="false">{}</textarea></label>
    <div class="row wrap">
      <button type="button" class="run-flow-once" disabled>Run</button>
      <label>Data <select class="flow-data"></select></label>
      <button type="button" class="run-flow-batch" disabled>Batch run</button>
    </div>
    <progress class="batch-progress" value="0" max="1"></progress>
    <p class="batch-summary" aria-live="polite"></p>
    <pre class="flow-output"></pre>`;
  root.append(card);
  const q = <T extends HTMLElement>(sel: string) => card.querySelector<T>(sel)!;
  const errorBox = q('.flow-folder-error');
  const entrySelect = q<HTMLSelectElement>('.flow-entry');
  const dataSelect = q<HTMLSelectElement>('.flow-data');
  const dag = q('.dag');
  const output = q('.flow-output');
  const runOnce = q<HTMLButtonElement>('.run-flow-once');
  const runBatch = q<HTMLButtonElement>('.run-flow-batch');
  const bar = q<HTMLProgressElement>('.batch-progress');
  const summary = q('.batch-summary');
  let folder: BrowserFlowFiles | undefined;
  let def: FlowDefinition | undefined;

  const setState = (node: string, state: NodeState) => {
    const li = dag.querySelector<HTMLElement>(`[data-node="${CSS.escape(node)}"]`);
    if (!li) return;
    li.dataset.state = state;
    li.querySelector('.state')!.textContent = state;
  };

  const showDag = () => {
    showError(errorBox);
    def = undefined;
    dag.replaceChildren();
    runOnce.disabled = runBatch.disabled = true;
    if (!folder) return;
    try {
      def = loadFlow(folder.files, entrySelect.value || undefined);
    } catch (err) {
      return showError(errorBox, err);
    }
    for (const node of def.nodes) {
      dag.append(el('li', { 'data-node': node.name, 'data-state': 'pending' }, `${node.name} (${node.type}) `, el('span', { class: 'state' }, 'pending')));
    }
    const defaults = Object.fromEntries(Object.entries(def.inputs).filter(([, d]) => d.hasDefault).map(([k, d]) => [k, d.default]));
    q<HTMLTextAreaElement>('.flow-inputs').value = JSON.stringify(def.sample ?? defaults, null, 1);
    runOnce.disabled = false;
    runBatch.disabled = dataSelect.options.length === 0;
  };

  const open = (picked: BrowserFlowFiles) => {
    folder = picked;
    const paths = [...picked.files.keys()];
    const entries = paths.filter((p) => p === 'flow.dag.yaml' || p.endsWith('.prompty'));
    entrySelect.replaceChildren(...entries.map((p) => el('option', { value: p }, p)));
    dataSelect.replaceChildren(...paths.filter((p) => p.endsWith('.jsonl')).map((p) => el('option', { value: p }, p)));
    showDag();
  };

  const picker = (window as unknown as { showDirectoryPicker?: () => Promise<FileSystemDirectoryHandle> }).showDirectoryPicker;
  q<HTMLButtonElement>('.open-folder').hidden = !picker;
  q('.open-folder').addEventListener('click', async () => {
    try {
      open(await filesFromDirectoryHandle(await picker!.call(window)));
    } catch (err) {
      if ((err as Error).name !== 'AbortError') showError(errorBox, err);
    }
  });
  q<HTMLInputElement>('.folder-input').addEventListener('change', async (e) => {
    const list = (e.target as HTMLInputElement).files;
    if (!list || list.length === 0) return;
    try {
      open(await filesFromFileList(list));
    } catch (err) {
      showError(errorBox, err);
    }
  });
  entrySelect.addEventListener('change', showDag);

  const engineOrError = () => {
    if (session.engine) return session.engine;
    showError(errorBox, 'engine_not_loaded: load a model first (Models tab)');
    return undefined;
  };

  runOnce.addEventListener('click', async () => {
    if (!folder || !def) return;
    const engine = engineOrError();
    if (!engine) return;
    showError(errorBox);
    let inputs: Record<string, unknown>;
    try {
      inputs = JSON.parse(q<HTMLTextAreaElement>('.flow-inputs').value || '{}') as Record<string, unknown>;
    } catch (err) {
      return showError(errorBox, `bad_input_type: inputs must be a JSON object (${(err as Error).message})`);
    }
    for (const node of def.nodes) setState(node.name, 'pending');
    runOnce.disabled = true;
    output.textContent = '';
    try {
      const r = await runFlow(folder.files, inputs, { engine, entry: entrySelect.value, onNodeStatus: (n, s) => setState(n, STATE_OF[s]) });
      output.textContent = JSON.stringify(r.outputs, null, 2);
      card.dataset.runState = 'done';
    } catch (err) {
      showError(errorBox, err);
      card.dataset.runState = 'failed';
    } finally {
      runOnce.disabled = false;
    }
  });

  runBatch.addEventListener('click', async () => {
    if (!folder || !def) return;
    const engine = engineOrError();
    if (!engine) return;
    showError(errorBox);
    runBatch.disabled = true;
    bar.value = 0;
    summary.textContent = '';
    try {
      const r = await batchRun(folder.files, folder.files.get(dataSelect.value) ?? '', {
        engine,
        entry: entrySelect.value,
        concurrency: 4,
        onProgress: (done, total) => {
          bar.max = total;
          bar.value = done;
          summary.textContent = `${done} / ${total} lines`;
        },
      });
      const failed = r.lines.filter((l) => l.status === 'failed');
      summary.textContent = `${r.lines.length} lines · ${r.lines.length - failed.length} completed · ${failed.length} failed`;
      output.textContent = r.lines.map((l) => JSON.stringify(l.status === 'completed' ? l.outputs : { error: l.error })).join('\n');
    } catch (err) {
      showError(errorBox, errorText(err));
    } finally {
      runBatch.disabled = false;
    }
  });
}
