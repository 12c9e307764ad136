// createEngine: GGUF in, a loaded `Engine` out. For each model it reads the header (never the
// whole file), builds the model config, tokenizer and chat template from the metadata,
// creates the model runner (WebGPU by default), and starts an EngineCore (chat models) or an
// EmbedQueue (embedding models: the runner has `embed`) behind the OpenAI-shaped
// LocalEngine; a MultiEngine routes requests between the models by `model` (#17).
//
// GPU memory budget (`gpuMemoryBytes`): every model costs its weights (the tensors' bytes)
// plus its KV pool. The models given to createEngine split what the weights leave equally
// between the chat models' KV pools; a model loaded later (`loadModel`) gets its own
// `kvCacheBytes`, else half of what is left after its weights. A model that does not fit
// fails with `model_does_not_fit` before anything is uploaded, and the others keep serving.
import { openSource, readGGUF, typeName, type SourceInput } from './model/gguf';
import type { ByteSource, GGUFFile } from './model/gguf/types';
import { modelConfigFromGGUF } from './model/config-parse';
import type { ModelConfig } from './model/config';
import { ChatTemplate } from './model/template';
import { IncrementalDetokenizer, Tokenizer } from './model/tokenizer';
import { checkEngineCoreOptions, EngineCore, type EngineCoreOptions } from './engine/core';
import { createGrammarService, type GrammarWorkerOption } from './grammar/service';
import { EmbedQueue } from './engine/embed-queue';
import { EngineError } from './engine/errors';
import type { EngineInfo } from './openai/engine-api';
import type { SharedGpuDevice } from './gpu/create-runner';
import { MultiEngine, type LoadedModel, type ModelSourceOptions, type ModelSpec } from './openai/multi-engine';

export type { ModelSourceOptions, ModelSpec } from './openai/multi-engine';
import { LocalEngine, type EngineTokenizer } from './openai/local-engine';
import { DEFAULT_SCHEDULER_OPTIONS } from './engine/sched/scheduler';
import { KV_BLOCK_SIZE, type GpuEntryPoint, type LoadProgress, type ModelRunner, type RunnerFactoryArgs } from './engine/types';
import { ensureWebGpuGlobals } from './gpu/webgpu-globals';
import { modelIdFor } from './model-id';

export type { LoadProgress, RunnerFactoryArgs } from './engine/types';

export interface CreateEngineOptions extends EngineCoreOptions {
  /** One model: a .gguf path (Node), URL, bytes, Blob/File, or ByteSource. Give this or `models`. */
  model?: SourceInput;
  /** Several models in one engine (a chat model and an embedding model, …); each request picks one by `model`. */
  models?: ReadonlyArray<SourceInput | ModelSourceOptions>;
  /** GPU bytes all models' weights and KV pools may take together; default: no budget (each runner sizes its own KV pool). */
  gpuMemoryBytes?: number;
  /** Tokens per embedding batch (embedding models); default 4096 (src/engine/embed-queue.ts). */
  maxEmbedBatchTokens?: number;
  /** The WebGPU entry point: `navigator.gpu` by default; in Node `createNodeGPU()` or `create([])` from `webgpu`. */
  gpu?: GpuEntryPoint;
  /** The id requests name (`model` field); default the file's stem (`stories260K`), else `general.name` (model-id.ts). One-model form only. */
  modelId?: string;
  /** KV cache budget in bytes; default: a share of the device's memory limits. With `models`, each model's own, unless it sets one. */
  kvCacheBytes?: number;
  /** 'auto' picks f16 when the adapter has shader-f16. */
  precision?: 'auto' | 'f32' | 'f16';
  /**
   * A URL model's HTTP requests must get their headers, and bodies their next bytes, within
   * this many milliseconds (default 30 s), else the load fails with `download_timeout`.
   */
  downloadIdleTimeoutMs?: number;
  /** A chat template that replaces (or supplies) the model's own. One-model form only. */
  chatTemplate?: string;
  onProgress?: (p: LoadProgress) => void;
  /**
   * Where constrained decoding's grammars are compiled and matched (src/grammar/service.ts):
   * 'auto' (default) a grammar worker where one can be started, else in-thread; 'off' in-thread
   * (a compile then stalls every running request's steps); or a function that starts your own.
   */
  grammarWorker?: GrammarWorkerOption;
  /** Replaces the WebGPU runner (tests run the engine on a fake runner). */
  createRunner?: (args: RunnerFactoryArgs) => Promise<ModelRunner>;
}

/** Ollama-style quantization name from `general.file_type` (llama.cpp's llama_ftype). */
const FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S', 12: 'Q3_K_M',
  13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 25: 'IQ4_NL', 30: 'IQ4_XS', 32: 'BF16',
};

export function describeModel(gguf: GGUFFile, config: ModelConfig, id: string, template: ChatTemplate | null): EngineInfo {
  const ftype = gguf.metadata['general.file_type'];
  let parameterCount = 0;
  let tensorBytes = 0;
  for (const t of gguf.tensors) {
    parameterCount += t.shape.reduce((a, b) => a * b, 1);
    tensorBytes += t.byteLength;
  }
  return {
    id,
    contextLength: config.contextLength,
    hasChatTemplate: template !== null,
    chatTemplate: template?.source,
    created: Math.floor(Date.now() / 1000),
    arch: config.arch,
    quant: typeof ftype === 'number' ? (FILE_TYPES[ftype] ?? `ftype ${ftype}`) : dominantType(gguf),
    parameterCount,
    sizeBytes: gguf.fileSize ?? gguf.dataOffset + tensorBytes,
  };
}

/** Without `general.file_type`: the tensor type holding the most bytes. */
function dominantType(gguf: GGUFFile): string {
  const bytes = new Map<number, number>();
  for (const t of gguf.tensors) bytes.set(t.type, (bytes.get(t.type) ?? 0) + t.byteLength);
  const top = [...bytes.entries()].sort((a, b) => b[1] - a[1])[0];
  return top ? typeName(top[0]) : 'unknown';
}

/** The engine's view of a tokenizer. */
export function engineTokenizer(t: Tokenizer): EngineTokenizer {
  const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });
  return {
    vocabSize: t.vocabSize,
    bos: t.bos,
    encode: (text, o) => t.encode(text, o),
    decode: (ids, o) => t.decode(ids, o),
    // llama2.c's rule: a SentencePiece leading space is dropped only right after BOS (or another control token).
    createDetokenizer: (promptIds: readonly number[] = []) =>
      new IncrementalDetokenizer(t, { sequenceStart: promptIds.length === 0 || t.isControlLike(promptIds[promptIds.length - 1]!) }),
    tokenText: (id) => {
      const bytes = t.tokenBytes(id);
      return { text: utf8.decode(bytes), bytes: Array.from(bytes) };
    },
  };
}

/** Architectures llama.cpp runs as encoders (their GGUFs are embedding models). */
const ENCODER_ARCHES = new Set(['bert', 'nomic-bert', 'jina-bert-v2', 'nomic-bert-moe']);

/** Whether a GGUF is an embedding model, from its header alone (before any runner exists). */
export function isEmbeddingGGUF(gguf: GGUFFile): boolean {
  const arch = gguf.metadata['general.architecture'];
  if (typeof arch !== 'string') return false;
  const pooling = gguf.metadata[`${arch}.pooling_type`];
  return ENCODER_ARCHES.has(arch) || (typeof pooling === 'number' && pooling > 0);
}

/** An embedding model's KV budget when there is a memory budget: a token amount (it pools without the KV pool). */
const EMBEDDING_KV_BYTES = 1024 * 1024;

function isModelSourceOptions(x: SourceInput | ModelSourceOptions): x is ModelSourceOptions {
  return typeof x === 'object' && x !== null && 'model' in x && !('read' in x) && !(x instanceof Uint8Array) && !(x instanceof ArrayBuffer);
}

/** The models an options object names, each with its own settings. */
function modelSpecs(options: CreateEngineOptions): ModelSourceOptions[] {
  if (options.models !== undefined && options.model !== undefined) throw new EngineError('invalid_request', 'give createEngine `model` or `models`, not both', 'models');
  if (options.models !== undefined) {
    if (options.models.length === 0) throw new EngineError('invalid_request', '`models` must name at least one model', 'models');
    // The engine-wide kvCacheBytes is each model's default.
    return options.models.map((m) => ({ kvCacheBytes: options.kvCacheBytes, ...(isModelSourceOptions(m) ? m : { model: m }) }));
  }
  if (options.model === undefined) throw new EngineError('invalid_request', 'createEngine needs `model` (or `models`)', 'model');
  return [{ model: options.model, modelId: options.modelId, kvCacheBytes: options.kvCacheBytes, chatTemplate: options.chatTemplate }];
}

interface OpenedModel {
  spec: ModelSourceOptions;
  source: ByteSource;
  gguf: GGUFFile;
  weightsBytes: number;
  embedding: boolean;
}

async function openModel(spec: ModelSourceOptions, options: CreateEngineOptions): Promise<OpenedModel> {
  const source = await openSource(spec.model, { idleTimeoutMs: options.downloadIdleTimeoutMs });
  try {
    const gguf = await readGGUF(source);
    options.onProgress?.({ stage: 'header', loaded: gguf.dataOffset, total: gguf.fileSize ?? gguf.dataOffset });
    const weightsBytes = gguf.tensors.reduce((s, t) => s + t.byteLength, 0);
    return { spec, source, gguf, weightsBytes, embedding: isEmbeddingGGUF(gguf) };
  } catch (err) {
    await source.close?.();
    throw err;
  }
}

function doesNotFit(what: string, needBytes: number, leftBytes: number, budgetBytes: number): EngineError {
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  return new EngineError('model_does_not_fit', `${what} needs ${mib(needBytes)} of GPU memory; ${mib(Math.max(0, leftBytes))} of the engine's ${mib(budgetBytes)} budget is left (unload a model, or raise gpuMemoryBytes)`, 'model');
}

/** Builds the runner and engine of an opened model; closes its source on failure. */
/** The engine's one GPU device (WebGPU runners only), created with the first model. */
type DeviceProvider = () => Promise<SharedGpuDevice>;

/** What one step can bring under the scheduler's limits (checked by createEngine): the runner's step buffers are sized to it at load (#18). */
function stepCapacityFor(o: CreateEngineOptions): NonNullable<RunnerFactoryArgs['stepCapacity']> {
  const tokens = o.maxBatchTokens ?? DEFAULT_SCHEDULER_OPTIONS.maxBatchTokens;
  const sequences = o.maxRunningSequences ?? DEFAULT_SCHEDULER_OPTIONS.maxRunningSequences;
  return { tokens, sampledRows: Math.min(tokens, sequences) };
}

async function startModel(opened: OpenedModel, kvCacheBytes: number | undefined, options: CreateEngineOptions, device: DeviceProvider): Promise<LoadedModel> {
  const started = performance.now();
  const { gguf, source, spec } = opened;
  let runner: ModelRunner | undefined;
  try {
    const config = modelConfigFromGGUF(gguf);
    const tokenizer = Tokenizer.fromMetadata(gguf.metadata);
    const template = ChatTemplate.fromMetadata(gguf.metadata, { override: spec.chatTemplate });
    const id = modelIdFor(spec, gguf.metadata['general.name']);
    // The runner serves sequences up to maxModelLength: what it loads may depend on that
    // (phi3 LongRoPE picks its factor table by the context, as llama.cpp does by n_ctx).
    const maxLen = options.maxModelLength;
    const servedConfig = maxLen !== undefined && maxLen > 0 && maxLen < config.contextLength ? { ...config, contextLength: maxLen } : config;
    const args: RunnerFactoryArgs = {
      gguf, modelId: id, source, config: servedConfig, gpu: options.gpu, kvCacheBytes,
      precision: options.precision ?? 'auto', onProgress: options.onProgress, stepCapacity: stepCapacityFor(options),
    };
    if (!options.createRunner) ensureWebGpuGlobals();
    runner = options.createRunner ? await options.createRunner(args) : await (await import('./gpu/create-runner')).createWebGpuRunner(args, await device());
    const tok = engineTokenizer(tokenizer);
    const embedContext = Math.min(runner.config.contextLength, options.maxModelLength ?? Infinity);
    const embedder = runner.embed ? new EmbedQueue(runner as Required<Pick<ModelRunner, 'embed'>>, embedContext, { maxBatchTokens: options.maxEmbedBatchTokens }) : undefined;
    // Constrained decoding: XGrammar loads, and the vocabulary is walked, on the first constrained request.
    const grammar = embedder ? undefined : await createGrammarService(tokenizer, config.vocabSize, options.grammarWorker);
    const core = embedder ? null : new EngineCore({ runner, createDetokenizer: tok.createDetokenizer, eogIds: tokenizer.eogIds, grammar, options });
    const info: EngineInfo = { ...describeModel(gguf, config, id, template), loadMs: performance.now() - started };
    // Without a budget the runner sized its own pool: count its blocks at f32 (an upper bound).
    const kvBytes = embedder ? 0 : kvCacheBytes ?? runner.numKvBlocks * 2 * config.numLayers * KV_BLOCK_SIZE * config.numKvHeads * config.headDim * 4;
    info.gpuBytes = opened.weightsBytes + kvBytes;
    if (embedder) {
      info.task = 'embed';
      info.embeddingDim = runner.config.dim;
      info.contextLength = embedContext;
    }
    const loaded = runner;
    const engine = new LocalEngine({
      core, embedder, tokenizer: tok, template, info,
      destroy: async () => {
        grammar?.close?.();
        loaded.destroy();
        await source.close?.();
      },
    });
    return { engine, info, weightsBytes: opened.weightsBytes, kvCacheBytes: kvBytes };
  } catch (err) {
    runner?.destroy();
    await source.close?.();
    throw err;
  }
}

/** Loads the models (all or none) and returns the engine that serves them. */
export async function createEngine(options: CreateEngineOptions): Promise<MultiEngine> {
  checkEngineCoreOptions(options); // before any model is fetched
  const specs = modelSpecs(options);
  const budget = options.gpuMemoryBytes;
  // One worker, one device: every WebGPU runner of this engine shares it.
  let shared: SharedGpuDevice | undefined;
  const device: DeviceProvider = async () => (shared ??= new (await import('./gpu/create-runner')).SharedGpuDevice({ gpu: options.gpu, precision: options.precision ?? 'auto' }));
  const opened: OpenedModel[] = [];
  const loaded: LoadedModel[] = [];
  try {
    for (const spec of specs) opened.push(await openModel(spec, options));
    let kvShares: (number | undefined)[] = opened.map((m) => m.spec.kvCacheBytes);
    if (budget !== undefined) {
      // Weights first, then the fixed KV pools; the rest is split between the chat models without one.
      const fixed = opened.reduce((s, m) => s + m.weightsBytes + (m.embedding ? EMBEDDING_KV_BYTES : m.spec.kvCacheBytes ?? 0), 0);
      const open = opened.filter((m) => !m.embedding && m.spec.kvCacheBytes === undefined).length;
      const share = open > 0 ? Math.floor((budget - fixed) / open) : 0;
      if (fixed > budget || (open > 0 && share <= 0)) throw doesNotFit(`the ${opened.length} model(s)`, fixed, budget, budget);
      kvShares = opened.map((m) => (m.embedding ? EMBEDDING_KV_BYTES : m.spec.kvCacheBytes ?? share));
    }
    for (const [i, m] of opened.entries()) loaded.push(await startModel(m, kvShares[i], options, device));
  } catch (err) {
    for (const m of loaded) await m.engine.destroy();
    for (const m of opened.slice(loaded.length)) await m.source.close?.();
    await shared?.destroy();
    throw err;
  }
  options.onProgress?.({ stage: 'ready', loaded: 1, total: 1 });
  const load = async (input: ModelSpec, leftBytes: number | undefined): Promise<LoadedModel> => {
    const spec: ModelSourceOptions = isModelSourceOptions(input as SourceInput | ModelSourceOptions) ? (input as ModelSourceOptions) : { model: input as SourceInput };
    const m = await openModel(spec, options);
    let kv = spec.kvCacheBytes;
    if (leftBytes !== undefined && budget !== undefined) {
      const afterWeights = leftBytes - m.weightsBytes;
      kv = m.embedding ? EMBEDDING_KV_BYTES : kv ?? Math.floor(afterWeights / 2);
      if (afterWeights - kv < 0 || kv <= 0) {
        await m.source.close?.();
        throw doesNotFit(`the model ${modelIdFor(spec, m.gguf.metadata['general.name'])}`, m.weightsBytes + Math.max(kv, 0), leftBytes, budget);
      }
    }
    return startModel(m, kv, options, device);
  };
  try {
    return new MultiEngine(loaded, load, budget, async () => shared?.destroy());
  } catch (err) {
    // Two models under one id: free what was loaded.
    for (const m of loaded) await m.engine.destroy();
    await shared?.destroy();
    throw err;
  }
}
