// Model storage: download once with ranged chunks, keep in OPFS / the Cache API, read back as a ByteSource.
export { loadModel, listCachedModels, deleteCachedModel, DEFAULT_CHUNK_BYTES } from './load-model';
export type { LoadModelOptions, LoadedModel, CachedModelInfo, ModelStorage } from './load-model';
export type { StorageProgress, StorageStage } from './progress';
export { StorageError } from './errors';
export type { StorageErrorCode } from './errors';
export { resolveModelUrl, modelIdForUrl } from './resolve';
export { MemoryChunkStore } from './chunk-store';
export type { ChunkStore, BackendKind } from './chunk-store';
export { MemoryModelRegistry } from './registry';
export type { ModelRegistry, CachedModel } from './registry';
export { Sha256 } from './sha256';
