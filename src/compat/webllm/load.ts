// Loading one WebLLM model id into a tabllm engine, with WebLLM-style progress reports
// ({ progress 0..1, timeElapsed seconds, text }). In a browser the GGUF is downloaded once
// into tabllm's storage (OPFS or the Cache API, as WebLLM caches its shards); where no
// storage exists (Node, an insecure context) the file is read with HTTP range requests.
//
//   progress:  0 ──── download (0.85 of the bar) ────┬── header ── weights to GPU ──── 1
//              (skipped when cached / no storage)    0.85        0.87 ............ 0.99  "Finish loading on WebGPU - <vendor>"
import type { AppConfig, GPUEntryPoint, InitProgressReport } from './types';
import { createEngine, type LoadProgress, type RunnerFactoryArgs } from '../../create-engine';
import type { ModelRunner } from '../../engine/types';
import type { MultiEngine } from '../../openai/multi-engine';
import type { SourceInput } from '../../model/gguf/source';
import { loadModel, resolveModelUrl, StorageError, type ModelStorage, type StorageProgress } from '../../storage';
import type { ResolvedModel } from './prebuilt';

export interface LoadArgs {
  resolved: ResolvedModel;
  appConfig: AppConfig | undefined;
  gpu: GPUEntryPoint | undefined;
  kvCacheBytes?: number;
  /** MLCEngine's advanced `storage` option: replaces the browser storage `appConfig.cacheBackend` picks. */
  storage?: ModelStorage;
  createRunner?: (args: RunnerFactoryArgs) => Promise<ModelRunner>;
  signal?: AbortSignal;
  onReport?: (r: InitProgressReport) => void;
}

const DOWNLOAD_SHARE = 0.85;

function mb(bytes: number): string {
  return `${Math.round(bytes / (1 << 20))}MB`;
}

/**
 * Where the layer keeps models: WebLLM's `appConfig.cacheBackend` as tabllm's storage choice
 * ('indexeddb'/'cross-origin' have no tabllm equivalent: auto), unless a storage was given.
 */
export function storageFor(appConfig: AppConfig | undefined, given?: ModelStorage): 'auto' | 'opfs' | 'cache' | ModelStorage {
  if (given) return given;
  const backend = appConfig?.cacheBackend;
  return backend === 'opfs' ? 'opfs' : backend === 'cache' ? 'cache' : 'auto';
}

/** What getGPUVendor / getMaxStorageBufferBindingSize report; plain data, so it crosses postMessage. */
export interface AdapterFacts {
  vendor: string;
  maxStorageBufferBindingSize: number;
}

/** The adapter's facts, or null where WebGPU gives no adapter. */
export async function adapterFacts(gpu: GPUEntryPoint | undefined): Promise<AdapterFacts | null> {
  const adapter = (await gpu?.requestAdapter().catch(() => null)) as GPUAdapter | null | undefined;
  if (!adapter) return null;
  return { vendor: adapter.info?.vendor ?? '', maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize };
}

export async function loadWebLLMModel(args: LoadArgs): Promise<MultiEngine> {
  const started = performance.now();
  let last = 0;
  const report = (progress: number, text: string) => {
    // Never backwards: a progress bar that jumps back looks broken.
    last = Math.max(last, Math.min(1, progress));
    args.onReport?.({ progress: last, timeElapsed: (performance.now() - started) / 1000, text });
  };
  const secs = () => Math.round((performance.now() - started) / 1000);
  const id = args.resolved.modelId;

  report(0, `Start to fetch params for ${id}`);
  let model: SourceInput = args.resolved.source;
  try {
    const loaded = await loadModel(args.resolved.source, {
      storage: storageFor(args.appConfig, args.storage),
      signal: args.signal,
      onProgress: (p: StorageProgress) => {
        const fraction = p.total > 0 ? p.loaded / p.total : 0;
        const verb = p.stage === 'download' ? 'Fetching param cache' : p.stage === 'verify' ? 'Verifying param cache' : 'Loaded param cache';
        report(DOWNLOAD_SHARE * fraction, `${verb}: ${mb(p.loaded)} of ${mb(p.total)}. ${Math.floor(fraction * 100)}% completed, ${secs()} secs elapsed.`);
      },
    });
    model = loaded.source;
  } catch (err) {
    // No browser storage here: read the file over HTTP ranges instead of caching it.
    if (!(err instanceof StorageError && err.code === 'storage_unavailable')) throw err;
    model = resolveModelUrl(args.resolved.source); // hf:// and org/repo:file → https
  }

  const options = args.resolved.chatOptions;
  const engine = await createEngine({
    model,
    modelId: id,
    gpu: args.gpu,
    kvCacheBytes: args.kvCacheBytes,
    maxModelLength: options.context_window_size !== undefined && options.context_window_size > 0 ? options.context_window_size : undefined,
    createRunner: args.createRunner,
    onProgress: (p: LoadProgress) => {
      if (p.stage === 'header') report(DOWNLOAD_SHARE + 0.02, `Read the model header of ${id}, ${secs()} secs elapsed.`);
      else if (p.stage === 'weights') {
        const fraction = p.total > 0 ? p.loaded / p.total : 0;
        report(DOWNLOAD_SHARE + 0.02 + 0.12 * fraction, `Loading model onto WebGPU: ${mb(p.loaded)} of ${mb(p.total)}, ${secs()} secs elapsed.`);
      }
    },
  });
  report(1, `Finish loading on WebGPU - ${(await adapterFacts(args.gpu))?.vendor || 'unknown vendor'}`);
  return engine;
}
