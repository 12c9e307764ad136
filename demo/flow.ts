// The Flow tab: a prompt-flow batch run done in the tab. Each JSONL row is rendered
// through a Jinja template (@huggingface/jinja) and sent through the `openai` client at
// http://localhost:8000/v1 with N requests in flight; the engine batches them
// continuously, so concurrency 16 finishes far sooner than 1 on the same rows.
import { Template } from '@huggingface/jinja';
import type { DemoSession } from './session';
import { el, errorText, numberInput, showError } from './ui';

const NAMES = ['Lily', 'Tom', 'Sue', 'Ben', 'Mia', 'Max', 'Anna', 'Sam', 'Zoe', 'Tim', 'Lucy', 'Jack', 'Amy', 'Bob', 'Kim', 'Dan'];
const THINGS = ['a red ball', 'a little cat', 'a big tree', 'a shiny key', 'a blue boat', 'a funny hat', 'a small dog', 'a new kite'];
export const DEFAULT_DATASET = NAMES.slice(0, 8).map((name, i) => JSON.stringify({ name, thing: THINGS[i % THINGS.length] })).join('\n');
export const DEFAULT_TEMPLATE = 'Once upon a time, {{ name }} found {{ thing }}.';

export class FlowInputError extends Error {
  override readonly name = 'FlowInputError';
  constructor(readonly code: 'bad_jsonl' | 'bad_template' | 'empty_dataset', message: string) {
    super(message);
  }
}

/** One JSON object per non-empty line; an error names the line. */
export function parseJsonl(text: string): Record<string, unknown>[] {
  const rows: Record<string, unknown>[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new FlowInputError('bad_jsonl', `line ${i + 1}: ${(err as Error).message}`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new FlowInputError('bad_jsonl', `line ${i + 1}: expected a JSON object`);
    rows.push(value as Record<string, unknown>);
  });
  if (rows.length === 0) throw new FlowInputError('empty_dataset', 'the dataset has no rows');
  return rows;
}

export function compileTemplate(source: string): (row: Record<string, unknown>) => string {
  let template: Template;
  try {
    template = new Template(source);
  } catch (err) {
    throw new FlowInputError('bad_template', `template: ${(err as Error).message}`);
  }
  return (row) => {
    try {
      return template.render(row);
    } catch (err) {
      throw new FlowInputError('bad_template', `template: ${(err as Error).message}`);
    }
  };
}

/** Runs `work` over `items` with at most `concurrency` in flight; results keep input order. */
export async function mapPool<T, R>(items: T[], concurrency: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

const SNIPPET = (template: string, concurrency: number) => `import OpenAI from 'openai';
import { Template } from '@huggingface/jinja';

// The same flow against a real vLLM server: only baseURL changes.
// (In this tab, tabllm's fetch shim answers http://localhost:8000/v1.)
const client = new OpenAI({ baseURL: 'http://my-vllm-host:8000/v1', apiKey: 'EMPTY' });
const template = new Template(${JSON.stringify(template)});
const rows = jsonl.split('\\n').filter(Boolean).map((l) => JSON.parse(l));

let next = 0;
const outputs = [];
await Promise.all(Array.from({ length: ${concurrency} }, async () => {
  while (next < rows.length) {
    const i = next++;
    const r = await client.completions.create({
      model, prompt: template.render(rows[i]), max_tokens: 32, temperature: 0,
    });
    outputs[i] = r.choices[0].text;
  }
}));`;

export function mountFlow(root: HTMLElement, session: DemoSession): void {
  root.innerHTML = `
    <div class="flow-layout">
      <div class="card">
        <h2>Prompt flow batch run</h2>
        <p class="muted small">Each row is rendered through the template and sent with the <code>openai</code> client to <code>http://localhost:8000/v1</code>. Try concurrency 1, then 16: the engine batches requests in flight into one GPU step.</p>
        <label>Dataset (JSONL, one row per line)<textarea class="dataset" rows="8" spellcheck="false"></textarea></label>
        <label>Prompt template (Jinja)<textarea class="template" rows="3" spellcheck="false"></textarea></label>
        <div class="row wrap">
          <label>Concurrency <input class="concurrency" type="number" min="1" max="32" value="8" /></label>
          <label>Max tokens <input class="flow-max-tokens" type="number" min="1" max="1024" value="32" /></label>
          <label>Temperature <input class="flow-temperature" type="number" min="0" max="2" step="0.1" value="0" /></label>
          <button type="button" class="run-flow">Run</button>
        </div>
        <div class="error flow-error" role="alert" hidden></div>
        <p class="flow-summary" aria-live="polite"></p>
        <ul class="flow-history small muted"></ul>
        <div class="table-wrap"><table class="flow-results">
          <thead><tr><th>#</th><th>Prompt</th><th>Output</th><th>Latency</th><th>Tokens</th></tr></thead>
          <tbody></tbody>
        </table></div>
      </div>
      <div class="card">
        <h2>The same code against vLLM</h2>
        <pre class="snippet"><code></code></pre>
      </div>
    </div>`;
  const q = <T extends HTMLElement>(sel: string) => root.querySelector<T>(sel)!;
  const dataset = q<HTMLTextAreaElement>('.dataset');
  const templateBox = q<HTMLTextAreaElement>('.template');
  const concurrencyInput = q<HTMLInputElement>('.concurrency');
  const runButton = q<HTMLButtonElement>('.run-flow');
  const errorBox = q('.flow-error');
  const summary = q('.flow-summary');
  const body = q('.flow-results tbody');
  const snippet = q('.snippet code');
  dataset.value = DEFAULT_DATASET;
  templateBox.value = DEFAULT_TEMPLATE;
  const updateSnippet = () => (snippet.textContent = SNIPPET(templateBox.value, numberInput(concurrencyInput, 1, 32, 8)));
  templateBox.addEventListener('input', updateSnippet);
  concurrencyInput.addEventListener('input', updateSnippet);
  updateSnippet();

  runButton.addEventListener('click', async () => {
    showError(errorBox);
    summary.textContent = '';
    const info = session.info;
    if (!session.engine || !info) return showError(errorBox, 'engine_not_loaded: load a model first (Models tab)');
    let prompts: string[];
    try {
      const rows = parseJsonl(dataset.value);
      const render = compileTemplate(templateBox.value);
      prompts = rows.map(render);
    } catch (err) {
      return showError(errorBox, err);
    }
    const concurrency = Math.round(numberInput(concurrencyInput, 1, 32, 8));
    const maxTokens = Math.round(numberInput(q('.flow-max-tokens'), 1, 1024, 32));
    const temperature = numberInput(q('.flow-temperature'), 0, 2, 0);
    const cells = prompts.map((p, i) => {
      const out = el('td', { class: 'output muted' }, 'queued');
      const latency = el('td', { class: 'num' }, '');
      const tokens = el('td', { class: 'num' }, '');
      const row = el('tr', { 'data-row': i }, el('td', { class: 'num' }, String(i + 1)), el('td', { class: 'prompt-cell' }, p), out, latency, tokens);
      return { row, out, latency, tokens };
    });
    body.replaceChildren(...cells.map((c) => c.row));
    runButton.disabled = true;
    const started = performance.now();
    let totalTokens = 0;
    let failures = 0;
    await mapPool(prompts, concurrency, async (prompt, i) => {
      const c = cells[i]!;
      c.out.textContent = 'running…';
      const t0 = performance.now();
      try {
        let text: string;
        let used: number;
        if (info.hasChatTemplate) {
          const r = await session.client.chat.completions.create({ model: info.id, messages: [{ role: 'user', content: prompt }], max_tokens: maxTokens, temperature });
          text = r.choices[0]?.message.content ?? '';
          used = r.usage?.completion_tokens ?? 0;
        } else {
          const r = await session.client.completions.create({ model: info.id, prompt, max_tokens: maxTokens, temperature });
          text = r.choices[0]?.text ?? '';
          used = r.usage?.completion_tokens ?? 0;
        }
        totalTokens += used;
        c.out.textContent = text;
        c.out.classList.remove('muted');
        c.tokens.textContent = String(used);
      } catch (err) {
        failures++;
        c.out.textContent = errorText(err);
        c.out.className = 'output error-text';
      }
      c.latency.textContent = `${(performance.now() - t0).toFixed(0)} ms`;
    });
    const seconds = (performance.now() - started) / 1000;
    summary.textContent = `${prompts.length} rows at concurrency ${concurrency} in ${seconds.toFixed(2)} s · ${totalTokens} output tokens · ${(totalTokens / seconds).toFixed(1)} tok/s total${failures ? ` · ${failures} failed` : ''}`;
    summary.dataset.throughput = (totalTokens / seconds).toFixed(3);
    // Earlier runs stay listed, so concurrency 1 and 16 can be compared side by side.
    q('.flow-history').prepend(el('li', {}, `concurrency ${concurrency}: ${prompts.length} rows in ${seconds.toFixed(2)} s, ${(totalTokens / seconds).toFixed(1)} tok/s`));
    runButton.disabled = false;
  });
}
