// MultiEngine: several models in one engine (#17) — a chat model beside an embedding model,
// say — each a LocalEngine with its own runner and scheduler, behind the one `Engine`
// interface. Every request picks its model by `model` (absent: the first loaded; unknown:
// 404 `model_not_found`); `loadModel` / `unloadModel` change the set at run time, and the
// GPU memory budget (create-engine.ts decides the shares) is accounted here, per model.

import { EngineError } from '../engine/errors';
import type { SourceInput } from '../model/gguf';
import type {
  ChatCompletions, Completions, DetokenizeParams, EmbeddingCreateParams, Engine, EngineInfo, EngineStats, ModelList,
  ModelStats, RequestOptions, TokenizeParams,
} from './engine-api';
import type { LocalEngine } from './local-engine';
import { sameModel } from './model-name';

/** One model of several (`createEngine({ models })`, `engine.loadModel`), with its own settings. */
export interface ModelSourceOptions {
  /** A .gguf path (Node), URL, bytes, Blob/File, or ByteSource. */
  model: SourceInput;
  /** The id requests name; default the file's stem (model-id.ts). */
  modelId?: string;
  /** This model's KV cache in bytes (chat models); default: its share of the budget, else the runner's default. */
  kvCacheBytes?: number;
  chatTemplate?: string;
}

export type ModelSpec = SourceInput | ModelSourceOptions;

/** A loaded model and what it holds of the budget. */
export interface LoadedModel {
  engine: LocalEngine;
  info: EngineInfo;
  weightsBytes: number;
  kvCacheBytes: number;
}

/** Loads one more model; `leftBytes` is what the budget has left (undefined: no budget). */
export type ModelLoader = (spec: ModelSpec, leftBytes: number | undefined) => Promise<LoadedModel>;

export class MultiEngine implements Engine {
  /** In load order: the first is the default model. */
  private readonly loaded: LoadedModel[];
  /** Loads run one at a time, so each sees what the ones before it took of the budget. */
  private loading: Promise<unknown> = Promise.resolve();

  constructor(
    models: LoadedModel[],
    private readonly loader: ModelLoader,
    /** GPU bytes all models may hold together; undefined: no budget. */
    readonly gpuMemoryBudgetBytes?: number,
    /** Frees what the models share (the GPU device), after the last model is destroyed. */
    private readonly onDestroy?: () => Promise<void>,
  ) {
    this.loaded = [...models];
    const seen = new Set<string>();
    for (const m of models) {
      if (seen.has(m.info.id)) throw new EngineError('invalid_request', `two models are named '${m.info.id}': give one a modelId`, 'models');
      seen.add(m.info.id);
    }
  }

  /** The model a request names (absent: the first loaded), or 404 `model_not_found`. */
  private find(model: string | null | undefined): LoadedModel {
    if (this.loaded.length === 0) throw new EngineError('engine_not_loaded', 'No model is loaded: load one with loadModel().');
    if (model === undefined || model === null) return this.loaded[0]!;
    const found = this.loaded.find((m) => sameModel(model, m.info.id));
    if (!found) {
      const ids = this.loaded.map((m) => `'${m.info.id}'`).join(', ');
      throw new EngineError('model_not_found', `The model '${model}' is not loaded; this engine serves ${ids}.`, 'model');
    }
    return found;
  }

  /** The one-model engine serving `model` (absent: the default model); 404 `model_not_found` otherwise. */
  engineFor(model?: string | null): LocalEngine {
    return this.find(model).engine;
  }

  /** The loaded models' ids, the default first. */
  get modelIds(): string[] {
    return this.loaded.map((m) => m.info.id);
  }

  /** GPU bytes the loaded models hold (weights + KV pools). */
  get gpuBytesUsed(): number {
    return this.loaded.reduce((s, m) => s + m.weightsBytes + m.kvCacheBytes, 0);
  }

  readonly chat = {
    completions: {
      create: ((p: { model?: string | null }, o?: RequestOptions) => rejecting(() => this.engineFor(p?.model).chat.completions.create(p as never, o))) as unknown as ChatCompletions['create'],
    },
  };
  readonly completions = {
    create: ((p: { model?: string | null }, o?: RequestOptions) => rejecting(() => this.engineFor(p?.model).completions.create(p as never, o))) as unknown as Completions['create'],
  };
  readonly embeddings = {
    create: async (p: EmbeddingCreateParams, o?: RequestOptions) => this.engineFor(p?.model).embeddings.create(p, o),
  };
  readonly models = {
    list: async (): Promise<ModelList> => ({ object: 'list', data: (await Promise.all(this.loaded.map((m) => m.engine.models.list()))).flatMap((l) => l.data) }),
  };

  async tokenize(params: TokenizeParams) {
    return this.engineFor(params.model).tokenize(params);
  }

  async detokenize(params: DetokenizeParams) {
    return this.engineFor(params.model).detokenize(params);
  }

  /** The named model's info (absent: the first loaded model's). */
  async info(model?: string): Promise<EngineInfo> {
    return this.engineFor(model).info();
  }

  /**
   * The engine's numbers: with one model, that model's; with several, counts summed over
   * them. `models` states each one's own numbers and GPU bytes; `gpuBytesUsed` their sum.
   */
  async stats(): Promise<EngineStats> {
    const models: ModelStats[] = [];
    for (const m of this.loaded) {
      const s = await m.engine.stats();
      models.push({ ...s, id: m.info.id, task: m.info.task ?? 'generate', weightsBytes: m.weightsBytes, kvCacheBytes: m.kvCacheBytes, gpuBytes: m.weightsBytes + m.kvCacheBytes });
    }
    const sum = (k: 'running' | 'waiting' | 'kvBlocksUsed' | 'kvBlocksTotal' | 'lastStepBatchSize' | 'tokensPerSecond' | 'numPreemptions' | 'kvSlotsFilled' | 'kvSlotsAllocated') =>
      models.reduce((s, m) => s + m[k], 0);
    const first = models.find((m) => m.task === 'generate') ?? models[0];
    const embedBatches = models.reduce((s, m) => s + (m.embedBatches ?? 0), 0);
    return {
      running: sum('running'),
      waiting: sum('waiting'),
      kvBlocksUsed: sum('kvBlocksUsed'),
      kvBlocksTotal: sum('kvBlocksTotal'),
      prefixCacheHitRate: first?.prefixCacheHitRate ?? 0,
      lastStepBatchSize: sum('lastStepBatchSize'),
      // Each model steps on its own: the largest step is one model's.
      peakStepBatchSize: Math.max(0, ...models.map((m) => m.peakStepBatchSize ?? m.lastStepBatchSize)),
      lastStepMs: Math.max(0, ...models.map((m) => m.lastStepMs)),
      tokensPerSecond: sum('tokensPerSecond'),
      numPreemptions: sum('numPreemptions'),
      kvSlotsFilled: sum('kvSlotsFilled'),
      kvSlotsAllocated: sum('kvSlotsAllocated'),
      ...(models.some((m) => m.task === 'embed') ? { embedBatches } : {}),
      models,
      ...(this.gpuMemoryBudgetBytes !== undefined ? { gpuMemoryBudgetBytes: this.gpuMemoryBudgetBytes } : {}),
      gpuBytesUsed: this.gpuBytesUsed,
    };
  }

  /**
   * Loads one more model beside the others, which keep serving meanwhile. Rejects with
   * `model_does_not_fit` (what is left of the budget is too small), a load error, or
   * `invalid_request` when its id is taken; the engine is then as it was.
   */
  loadModel(spec: ModelSpec): Promise<EngineInfo> {
    const run = this.loading.then(async () => {
      const left = this.gpuMemoryBudgetBytes === undefined ? undefined : this.gpuMemoryBudgetBytes - this.gpuBytesUsed;
      const model = await this.loader(spec, left);
      if (this.loaded.some((m) => m.info.id === model.info.id)) {
        await model.engine.destroy();
        throw new EngineError('invalid_request', `a model named '${model.info.id}' is already loaded: unload it first, or give this one another modelId`, 'model');
      }
      this.loaded.push(model);
      return model.engine.info();
    });
    this.loading = run.catch(() => undefined);
    return run;
  }

  /**
   * Unloads a model: from now on requests naming it get 404 `model_not_found`; its requests
   * in flight end with `engine_not_loaded`; its GPU memory is freed once its runner is idle.
   */
  async unloadModel(model: string): Promise<void> {
    const found = this.find(model);
    this.loaded.splice(this.loaded.indexOf(found), 1);
    await found.engine.destroy();
  }

  async destroy(): Promise<void> {
    const all = this.loaded.splice(0);
    for (const m of all) await m.engine.destroy();
    await this.onDestroy?.();
  }
}

/** Runs `call`; a synchronous throw (e.g. an unknown model) becomes a rejected promise, as from any engine call. */
function rejecting<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (err) {
    return Promise.reject(err);
  }
}
