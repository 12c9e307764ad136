// The Models tab: the catalog, a custom URL / `org/repo:file`, a local .gguf file, the
// models kept in browser storage (with delete), and what the WebGPU adapter offers.
import { deleteCachedModel, listCachedModels, resolveModelUrl, type CachedModelInfo } from '../src/storage';
import { CATALOG } from './catalog';
import { formatBytes } from './progress';
import type { DemoSession } from './session';
import { el, errorText, showError } from './ui';

export interface WebGpuCheck {
  ok: boolean;
  message: string;
  limits?: { maxBufferSize: number; maxStorageBufferBindingSize: number; shaderF16: boolean; adapter: string };
}

/** Below this a storage binding cannot hold one big weight matrix of a 0.5B+ model. */
const SMALL_BINDING_BYTES = 128 * 1024 * 1024;

export async function checkWebGpu(): Promise<WebGpuCheck> {
  if (!('gpu' in navigator) || !navigator.gpu) {
    return { ok: false, message: 'WebGPU is not available in this browser (navigator.gpu is missing). Use a recent Chrome or Edge, or Firefox/Safari with WebGPU enabled, on a secure (https or localhost) page.' };
  }
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    return { ok: false, message: `WebGPU adapter request failed: ${errorText(err)}` };
  }
  if (!adapter) return { ok: false, message: 'WebGPU is present but no GPU adapter was found (blocklisted driver, or GPU disabled).' };
  const info = adapter.info;
  const limits = {
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    shaderF16: adapter.features.has('shader-f16'),
    adapter: [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'unknown adapter',
  };
  const small = limits.maxStorageBufferBindingSize < SMALL_BINDING_BYTES;
  return {
    ok: true,
    message: small
      ? `This adapter binds at most ${formatBytes(limits.maxStorageBufferBindingSize)} per buffer: small models only (larger weight matrices will not fit).`
      : '',
    limits,
  };
}

export function mountModels(root: HTMLElement, session: DemoSession, defaultModel: string): void {
  root.innerHTML = `
    <div class="card">
      <h2>Load a model</h2>
      <p class="muted">Downloads go to browser storage (OPFS or the Cache API) in ranged chunks and resume after a cut; the next load reads from disk.</p>
      <div class="table-wrap"><table class="catalog">
        <thead><tr><th>Model</th><th>Quant</th><th>Size (approx.)</th><th>Source</th><th></th></tr></thead>
        <tbody></tbody>
      </table></div>
      <form class="row custom-form">
        <label class="grow"><span>URL or <code>org/repo:file</code></span>
          <input name="source" type="text" placeholder="Qwen/Qwen2.5-0.5B-Instruct-GGUF:qwen2.5-0.5b-instruct-q4_k_m.gguf" autocomplete="off" /></label>
        <button type="submit">Load URL</button>
      </form>
      <form class="row file-form">
        <label class="grow"><span>Local .gguf file (read in place, not copied)</span><input name="file" type="file" accept=".gguf" /></label>
        <button type="submit">Load file</button>
      </form>
      <div class="error models-error" role="alert" hidden></div>
    </div>
    <div class="card">
      <h2>Cached models</h2>
      <div class="table-wrap"><table class="cached">
        <thead><tr><th>Id</th><th>Size</th><th>Stored</th><th>Backend</th><th></th></tr></thead>
        <tbody></tbody>
      </table></div>
      <p class="muted cached-empty" hidden>Nothing in browser storage yet.</p>
      <button type="button" class="refresh secondary">Refresh</button>
    </div>
    <div class="card">
      <h2>GPU</h2>
      <div class="gpu-info muted">Checking WebGPU…</div>
      <div class="error gpu-error" role="alert" hidden></div>
    </div>`;
  const errorBox = root.querySelector<HTMLElement>('.models-error')!;
  const catalogBody = root.querySelector('.catalog tbody')!;
  const cachedBody = root.querySelector('.cached tbody')!;
  const cachedEmpty = root.querySelector<HTMLElement>('.cached-empty')!;
  const loadButtons: HTMLButtonElement[] = [];

  const load = async (model: string | File) => {
    showError(errorBox);
    for (const b of loadButtons) b.disabled = true;
    try {
      await session.load(model);
    } catch (err) {
      showError(errorBox, err);
    } finally {
      for (const b of loadButtons) b.disabled = false;
      void refreshCached();
    }
  };

  for (const m of CATALOG) {
    const button = el('button', { type: 'button' }, 'Load');
    button.addEventListener('click', () => void load(m.source));
    loadButtons.push(button);
    const url = resolveModelUrl(m.source);
    catalogBody.append(
      el('tr', {},
        el('td', {}, el('strong', {}, m.name), el('div', { class: 'muted small' }, m.note)),
        el('td', {}, m.quant),
        el('td', {}, `~${formatBytes(m.approxBytes)}`),
        el('td', { class: 'source' }, el('a', { href: url, target: '_blank', rel: 'noopener' }, m.source)),
        el('td', {}, button)),
    );
  }
  if (defaultModel.startsWith('/')) {
    const button = el('button', { type: 'button' }, 'Load');
    button.addEventListener('click', () => void load(defaultModel));
    loadButtons.push(button);
    catalogBody.prepend(el('tr', {}, el('td', {}, el('strong', {}, 'stories260K (served locally)'), el('div', { class: 'muted small' }, 'the default; offline copy served by the demo server')),
      el('td', {}, 'F32'), el('td', {}, '~1.2 MB'), el('td', { class: 'source' }, defaultModel), el('td', {}, button)));
  }

  const customForm = root.querySelector<HTMLFormElement>('.custom-form')!;
  loadButtons.push(customForm.querySelector('button')!);
  customForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = (customForm.elements.namedItem('source') as HTMLInputElement).value.trim();
    try {
      resolveModelUrl(text); // a coded bad_source before anything starts
    } catch (err) {
      showError(errorBox, err);
      return;
    }
    void load(text);
  });
  const fileForm = root.querySelector<HTMLFormElement>('.file-form')!;
  loadButtons.push(fileForm.querySelector('button')!);
  fileForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const file = (fileForm.elements.namedItem('file') as HTMLInputElement).files?.[0];
    if (!file) return showError(errorBox, 'choose a .gguf file first');
    void load(file);
  });

  async function refreshCached(): Promise<void> {
    let models: CachedModelInfo[];
    try {
      models = await listCachedModels();
    } catch (err) {
      showError(errorBox, err);
      return;
    }
    cachedBody.replaceChildren(
      ...models.map((m) => {
        const del = el('button', { type: 'button', class: 'danger', 'data-model-id': m.id }, 'Delete');
        del.addEventListener('click', async () => {
          del.disabled = true;
          try {
            await deleteCachedModel(m.id);
          } catch (err) {
            showError(errorBox, err);
          }
          await refreshCached();
        });
        return el('tr', { 'data-model-id': m.id },
          el('td', { class: 'source' }, m.id),
          el('td', {}, formatBytes(m.size)),
          el('td', {}, m.complete ? 'complete' : `${formatBytes(m.bytesStored)} (partial)`),
          el('td', {}, m.backend),
          el('td', {}, del));
      }),
    );
    cachedEmpty.hidden = models.length > 0;
  }
  root.querySelector('.refresh')!.addEventListener('click', () => void refreshCached());
  session.listen({ onLoaded: () => void refreshCached() });
  void refreshCached();

  void checkWebGpu().then((gpu) => {
    const infoBox = root.querySelector<HTMLElement>('.gpu-info')!;
    const gpuError = root.querySelector<HTMLElement>('.gpu-error')!;
    if (!gpu.ok) {
      infoBox.textContent = 'No WebGPU.';
      showError(gpuError, gpu.message);
      return;
    }
    const l = gpu.limits!;
    infoBox.textContent = `${l.adapter} · max buffer ${formatBytes(l.maxBufferSize)} · max storage binding ${formatBytes(l.maxStorageBufferBindingSize)} · shader-f16 ${l.shaderF16 ? 'yes' : 'no (f32 kernels)'}`;
    if (gpu.message) showError(gpuError, gpu.message);
  });
}
