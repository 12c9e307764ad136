// WebLLM's cache helpers (hasModelInCache, deleteModelAllInfoInCache, …) on tabllm's model
// storage. A WebLLM id resolves as CreateMLCEngine resolves it (a model_list record with a
// GGUF `model`, else the prebuilt table), then to the storage id of its URL. WebLLM keeps
// weights, the model library (wasm) and mlc-chat-config.json in three caches; tabllm keeps
// one GGUF file (the weights, with the chat config inside) and no model library, so only the
// weights helpers delete anything; the other two check the id and have nothing to remove. Where no browser storage exists
// (Node, an insecure context) nothing is ever cached: has → false, delete → nothing to do.
// The optional last argument (a tabllm extension) names the storage an MLCEngine was given
// with its advanced `storage` option.
import { deleteCachedModel, listCachedModels, modelIdForUrl, resolveModelUrl, StorageError, type ModelStorage } from '../../storage';
import { storageFor } from './load';
import { resolveWebLLMModel } from './prebuilt';
import type { AppConfig } from './types';

/** tabllm's extension of WebLLM's cache helpers: the storage MLCEngineConfig.storage named. */
export interface CacheOptions {
  storage?: ModelStorage;
}

function storageIdOf(modelId: string, appConfig: AppConfig | undefined): string {
  return modelIdForUrl(resolveModelUrl(resolveWebLLMModel(modelId, appConfig).source));
}

function isUnavailable(err: unknown): boolean {
  return err instanceof StorageError && err.code === 'storage_unavailable';
}

/** True when the model's GGUF is completely downloaded; an unknown id is a ModelNotFoundError. */
export async function hasModelInCache(modelId: string, appConfig?: AppConfig, options?: CacheOptions): Promise<boolean> {
  const id = storageIdOf(modelId, appConfig);
  try {
    const cached = await listCachedModels({ storage: storageFor(appConfig, options?.storage) });
    return cached.some((m) => m.id === id && m.complete);
  } catch (err) {
    if (isUnavailable(err)) return false;
    throw err;
  }
}

/** Removes the model's GGUF (complete or partial) from storage; a model not cached is a no-op, as in WebLLM. */
export async function deleteModelAllInfoInCache(modelId: string, appConfig?: AppConfig, options?: CacheOptions): Promise<void> {
  const id = storageIdOf(modelId, appConfig);
  try {
    await deleteCachedModel(id, { storage: storageFor(appConfig, options?.storage) });
  } catch (err) {
    if (isUnavailable(err) || (err instanceof StorageError && err.code === 'model_not_cached')) return;
    throw err;
  }
}

/** WebLLM deletes the weights only; the GGUF is the weights. */
export const deleteModelInCache = deleteModelAllInfoInCache;

/** tabllm ships its kernels and stores no model library, so there is nothing to delete (the id is still checked). */
export async function deleteModelWasmInCache(modelId: string, appConfig?: AppConfig): Promise<void> {
  storageIdOf(modelId, appConfig);
}

/** The chat config lives inside the GGUF, so there is nothing separate to delete (the id is still checked). */
export async function deleteChatConfigInCache(modelId: string, appConfig?: AppConfig): Promise<void> {
  storageIdOf(modelId, appConfig);
}
