// The demo page: tabs, the model load bar, WebGPU checks, and the default model on start.
// `?fake=1` runs the engine on the deterministic fake runner (UI work without a GPU);
// `?model=<url or org/repo:file>` loads another model first.
import { mountChat } from './chat';
import { mountFlow } from './flow';
import { mountFlowFolder } from './flow-folder';
import { mountRag } from './rag';
import { mountMetrics } from './metrics';
import { checkWebGpu, mountModels } from './models';
import { formatBytes, overallFraction, stageLabel } from './progress';
import { DemoSession } from './session';
import { byId, errorText, showError } from './ui';

declare const __TABLLM_DEFAULT_MODEL__: string;

const params = new URLSearchParams(location.search);
const fake = params.get('fake') === '1';
const session = new DemoSession(fake);
const globalError = byId('global-error');

// Errors nobody caught still reach the user, not only the console.
window.addEventListener('unhandledrejection', (e) => showError(globalError, e.reason));
window.addEventListener('error', (e) => showError(globalError, e.error ?? e.message));

function selectTab(name: string): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>('nav.tabs [data-tab]')) {
    b.setAttribute('aria-selected', String(b.dataset.tab === name));
  }
  for (const s of document.querySelectorAll<HTMLElement>('main > .tab')) s.hidden = s.id !== `tab-${name}`;
  history.replaceState(null, '', `${location.pathname}${location.search}#${name}`);
}
for (const b of document.querySelectorAll<HTMLButtonElement>('nav.tabs [data-tab]')) {
  b.addEventListener('click', () => selectTab(b.dataset.tab!));
}

const stage = byId('load-stage');
const bytes = byId('load-bytes');
const bar = byId<HTMLProgressElement>('load-progress');
const status = byId('model-status');
// Progress events cross the worker boundary on their own channel and can land after the
// load has resolved; once it has, they must not overwrite the final line.
let loadDone = false;
session.listen({
  onLoading: (what) => {
    loadDone = false;
    showError(globalError);
    stage.textContent = `Loading ${what}…`;
    bytes.textContent = '';
    bar.value = 0;
    status.textContent = 'loading…';
  },
  onProgress: (p) => {
    if (loadDone) return;
    bar.value = overallFraction(p);
    stage.textContent = stageLabel(p.stage);
    const speed = 'bytesPerSecond' in p && p.bytesPerSecond ? ` · ${formatBytes(p.bytesPerSecond)}/s` : '';
    bytes.textContent = p.stage === 'ready' ? '' : `${formatBytes(p.loaded)} / ${formatBytes(p.total)}${speed}`;
  },
  onLoaded: (info) => {
    loadDone = true;
    bar.value = 1;
    stage.textContent = `Ready in ${((info.loadMs ?? 0) / 1000).toFixed(1)} s`;
    status.textContent = `${info.id} · ${info.arch} · ${info.quant} · ${formatBytes(info.sizeBytes ?? 0)}${fake ? ' · fake runner' : ''}`;
    document.body.dataset.modelReady = info.id;
  },
  onError: (err) => {
    loadDone = true;
    stage.textContent = 'Load failed';
    status.textContent = 'no model loaded';
    showError(globalError, err);
  },
});

mountChat(byId('tab-chat'), session);
mountModels(byId('tab-models'), session, __TABLLM_DEFAULT_MODEL__);
mountMetrics(byId('tab-metrics'), session);
mountFlow(byId('tab-flow'), session);
mountFlowFolder(byId('tab-flow'), session);
// In fake mode the default model file doubles as the (fake) embedding model.
mountRag(byId('tab-flow'), session, fake, fake ? __TABLLM_DEFAULT_MODEL__ : '');
selectTab(['chat', 'models', 'metrics', 'flow'].includes(location.hash.slice(1)) ? location.hash.slice(1) : 'chat');

async function start(): Promise<void> {
  const gpu = await checkWebGpu();
  if (!gpu.ok && !fake) {
    stage.textContent = 'WebGPU unavailable';
    showError(globalError, gpu.message);
    return;
  }
  try {
    await session.load(params.get('model') ?? __TABLLM_DEFAULT_MODEL__);
  } catch {
    // Shown by the session listener above.
  }
}
start().catch((err) => showError(globalError, errorText(err)));
