// WebLLM model ids → GGUF files. A `model_list` record whose `model` names a GGUF file loads
// that file. WebLLM's prebuilt ids (its `prebuiltAppConfig`, MLC-format weights tabllm cannot
// read) map to the official or well-known GGUF builds of the same model and instruct tuning:
// 4-bit ids (q4f16_1 / q4f32_1) to Q4_K_M, unquantized ids (q0f16 / q0f32) to Q8_0, each with
// the context WebLLM's record gives it (4096, TinyLlama 2048, the `-1k` ids 1024). The same
// table is offered as `prebuiltAppConfig`, for apps that list models from it.
import type { AppConfig, ChatOptions, ModelRecord } from './types';
import { ModelNotFoundError } from './errors';

const HF = 'https://huggingface.co';

interface GgufFile {
  repo: string;
  file: string;
  /** Approximate download size, for the records' vram_required_MB. */
  sizeMB: number;
}

/** What a KV cache entry costs: layers × KV heads × head size (from the model's config.json). */
interface KvShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

interface PrebuiltFamily {
  /** WebLLM id prefix: `<base>-q4f16_1-MLC` etc. */
  base: string;
  kv: KvShape;
  q4: GgufFile;
  /** For WebLLM's q0f16 / q0f32 ids (only where WebLLM has them). */
  q8?: GgufFile;
  /** WebLLM also ships `-1k` (1024-token context) variants of the 4-bit ids. */
  has1k?: boolean;
  /** The context WebLLM's records give this family (4096 unless stated). */
  contextWindow?: number;
}

// Architectures here are the ones tabllm runs (llama, qwen2, qwen3, phi3 with LongRoPE,
// gemma2, gemma3). Left out: vision ids (Phi-3.5-vision: no vision tower), gemma-4 (not a
// supported architecture). WebLLM ships no SmolLM3 id, so there is nothing to map it from.
const FAMILIES: PrebuiltFamily[] = [
  {
    base: 'Qwen2.5-0.5B-Instruct',
    kv: { layers: 24, kvHeads: 2, headDim: 64 },
    q4: { repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', file: 'qwen2.5-0.5b-instruct-q4_k_m.gguf', sizeMB: 491 },
    q8: { repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', file: 'qwen2.5-0.5b-instruct-q8_0.gguf', sizeMB: 676 },
  },
  {
    base: 'Qwen2.5-1.5B-Instruct',
    kv: { layers: 28, kvHeads: 2, headDim: 128 },
    q4: { repo: 'Qwen/Qwen2.5-1.5B-Instruct-GGUF', file: 'qwen2.5-1.5b-instruct-q4_k_m.gguf', sizeMB: 1118 },
  },
  {
    base: 'Qwen2.5-3B-Instruct',
    kv: { layers: 36, kvHeads: 2, headDim: 128 },
    q4: { repo: 'Qwen/Qwen2.5-3B-Instruct-GGUF', file: 'qwen2.5-3b-instruct-q4_k_m.gguf', sizeMB: 2105 },
  },
  {
    base: 'Qwen3-0.6B',
    kv: { layers: 28, kvHeads: 8, headDim: 128 },
    q4: { repo: 'unsloth/Qwen3-0.6B-GGUF', file: 'Qwen3-0.6B-Q4_K_M.gguf', sizeMB: 397 },
    q8: { repo: 'unsloth/Qwen3-0.6B-GGUF', file: 'Qwen3-0.6B-Q8_0.gguf', sizeMB: 639 },
  },
  {
    base: 'Qwen3-1.7B',
    kv: { layers: 28, kvHeads: 8, headDim: 128 },
    q4: { repo: 'unsloth/Qwen3-1.7B-GGUF', file: 'Qwen3-1.7B-Q4_K_M.gguf', sizeMB: 1107 },
  },
  {
    base: 'Llama-3.2-1B-Instruct',
    kv: { layers: 16, kvHeads: 8, headDim: 64 },
    q4: { repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF', file: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf', sizeMB: 808 },
    q8: { repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF', file: 'Llama-3.2-1B-Instruct-Q8_0.gguf', sizeMB: 1321 },
  },
  {
    base: 'Llama-3.2-3B-Instruct',
    kv: { layers: 28, kvHeads: 8, headDim: 128 },
    q4: { repo: 'bartowski/Llama-3.2-3B-Instruct-GGUF', file: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf', sizeMB: 2019 },
  },
  {
    base: 'Phi-3.5-mini-instruct',
    kv: { layers: 32, kvHeads: 32, headDim: 96 },
    q4: { repo: 'bartowski/Phi-3.5-mini-instruct-GGUF', file: 'Phi-3.5-mini-instruct-Q4_K_M.gguf', sizeMB: 2393 },
    has1k: true,
  },
  {
    // Phi-4-mini: phi3 with LongRoPE, partial rotary (3/4 of each head) and a tied head.
    base: 'Phi-4-mini-instruct',
    kv: { layers: 32, kvHeads: 8, headDim: 128 },
    q4: { repo: 'bartowski/microsoft_Phi-4-mini-instruct-GGUF', file: 'microsoft_Phi-4-mini-instruct-Q4_K_M.gguf', sizeMB: 2491 },
  },
  {
    base: 'gemma-2-2b-it',
    kv: { layers: 26, kvHeads: 4, headDim: 256 },
    q4: { repo: 'bartowski/gemma-2-2b-it-GGUF', file: 'gemma-2-2b-it-Q4_K_M.gguf', sizeMB: 1709 },
    has1k: true,
  },
  {
    base: 'gemma-2-9b-it',
    kv: { layers: 42, kvHeads: 8, headDim: 256 },
    q4: { repo: 'bartowski/gemma-2-9b-it-GGUF', file: 'gemma-2-9b-it-Q4_K_M.gguf', sizeMB: 5761 },
  },
  {
    // Google's own GGUF conversion of the 1B text model (ggml-org publishes it for llama.cpp).
    base: 'gemma3-1b-it',
    kv: { layers: 26, kvHeads: 1, headDim: 256 },
    q4: { repo: 'ggml-org/gemma-3-1b-it-GGUF', file: 'gemma-3-1b-it-Q4_K_M.gguf', sizeMB: 806 },
  },
  {
    base: 'SmolLM2-135M-Instruct',
    kv: { layers: 30, kvHeads: 3, headDim: 64 },
    // WebLLM ships this size unquantized only (q0f16 / q0f32).
    q4: { repo: 'bartowski/SmolLM2-135M-Instruct-GGUF', file: 'SmolLM2-135M-Instruct-Q4_K_M.gguf', sizeMB: 105 },
    q8: { repo: 'bartowski/SmolLM2-135M-Instruct-GGUF', file: 'SmolLM2-135M-Instruct-Q8_0.gguf', sizeMB: 145 },
  },
  {
    base: 'SmolLM2-360M-Instruct',
    kv: { layers: 32, kvHeads: 5, headDim: 64 },
    q4: { repo: 'bartowski/SmolLM2-360M-Instruct-GGUF', file: 'SmolLM2-360M-Instruct-Q4_K_M.gguf', sizeMB: 271 },
    q8: { repo: 'bartowski/SmolLM2-360M-Instruct-GGUF', file: 'SmolLM2-360M-Instruct-Q8_0.gguf', sizeMB: 386 },
  },
  {
    base: 'SmolLM2-1.7B-Instruct',
    kv: { layers: 24, kvHeads: 32, headDim: 64 },
    q4: { repo: 'bartowski/SmolLM2-1.7B-Instruct-GGUF', file: 'SmolLM2-1.7B-Instruct-Q4_K_M.gguf', sizeMB: 1056 },
  },
  {
    base: 'TinyLlama-1.1B-Chat-v1.0',
    kv: { layers: 22, kvHeads: 4, headDim: 64 },
    q4: { repo: 'TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF', file: 'tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf', sizeMB: 669 },
    has1k: true,
    contextWindow: 2048,
  },
];

/**
 * Ids WebLLM does not ship although the pattern would make them (SmolLM2-135M has no 4-bit
 * build in WebLLM; gemma3-1b-it only a q4f16_1 one).
 */
const NOT_IN_WEBLLM = new Set(['SmolLM2-135M-Instruct-q4f16_1-MLC', 'SmolLM2-135M-Instruct-q4f32_1-MLC', 'gemma3-1b-it-q4f32_1-MLC']);

/** WebLLM's usual context for its prebuilt records. */
const DEFAULT_CONTEXT = 4096;
/** `-1k` ids: WebLLM's reduced context for small devices. */
const CONTEXT_1K = 1024;
/**
 * A record is `low_resource_required` when its estimate fits 3 GiB: the line that, as in
 * WebLLM's own list, leaves full-context Phi-3.5-mini out (and gemma-2-9b here).
 */
const LOW_RESOURCE_MB = 3072;

export interface PrebuiltMapping {
  url: string;
  /** Chat options WebLLM's own record applies (its context window). */
  overrides: ChatOptions;
  /** Weights plus an f16 KV cache for the whole context window, in MiB (an estimate). */
  vramRequiredMB: number;
}

function url(f: GgufFile): string {
  return `${HF}/${f.repo}/resolve/main/${f.file}`;
}

/** K and V, f16, for every token of the context. */
function kvCacheMB(kv: KvShape, contextWindow: number): number {
  return (kv.layers * kv.kvHeads * kv.headDim * 2 * 2 * contextWindow) / (1 << 20);
}

function buildTable(): Map<string, PrebuiltMapping> {
  const table = new Map<string, PrebuiltMapping>();
  const add = (id: string, f: PrebuiltFamily, file: GgufFile, contextWindow: number) => {
    if (NOT_IN_WEBLLM.has(id)) return;
    const vramRequiredMB = Math.round(file.sizeMB + kvCacheMB(f.kv, contextWindow));
    table.set(id, { url: url(file), overrides: { context_window_size: contextWindow }, vramRequiredMB });
  };
  for (const f of FAMILIES) {
    const context = f.contextWindow ?? DEFAULT_CONTEXT;
    for (const q of ['q4f16_1', 'q4f32_1']) {
      add(`${f.base}-${q}-MLC`, f, f.q4, context);
      if (f.has1k) add(`${f.base}-${q}-MLC-1k`, f, f.q4, CONTEXT_1K);
    }
    if (f.q8) for (const q of ['q0f16', 'q0f32']) add(`${f.base}-${q}-MLC`, f, f.q8, context);
  }
  return table;
}

/** WebLLM prebuilt id → GGUF build. */
export const PREBUILT_GGUF: ReadonlyMap<string, PrebuiltMapping> = buildTable();

export function mappedPrebuiltIds(): string[] {
  return [...PREBUILT_GGUF.keys()];
}

/**
 * WebLLM's `modelVersion` / `modelLibURLPrefix`, which its examples join into a record's
 * `model_lib` URL. tabllm ships its own WGSL kernels and ignores `model_lib`, so both are
 * empty strings: records built with them still type-check and load.
 */
export const modelVersion = '';
export const modelLibURLPrefix = '';

/**
 * The mapped ids as an AppConfig, for model pickers built from `prebuiltAppConfig.model_list`.
 * Each record's `model` is its GGUF URL, so passing this config (or records from it) loads
 * exactly what the bare id loads.
 */
export const prebuiltAppConfig: AppConfig = {
  model_list: [...PREBUILT_GGUF].map(([id, m]): ModelRecord => ({
    model_id: id,
    model: m.url,
    model_lib: '',
    vram_required_MB: m.vramRequiredMB,
    low_resource_required: m.vramRequiredMB <= LOW_RESOURCE_MB,
    overrides: { ...m.overrides },
  })),
};

/** True when a record's `model` names a GGUF file (a URL, hf://org/repo/file or org/repo:file ending in .gguf). */
export function isGgufLocation(model: string): boolean {
  const path = model.split(/[?#]/)[0] ?? '';
  return /\.gguf$/i.test(path.trim());
}

export interface ResolvedModel {
  modelId: string;
  /** What tabllm's storage layer loads: an http(s) URL, `hf://…` or `org/repo:file`. */
  source: string;
  /** Record overrides, then the caller's chat options (later wins). */
  chatOptions: ChatOptions;
  /** How the id was resolved, for progress text and errors. */
  via: 'model_list' | 'prebuilt';
}

/**
 * Resolves a WebLLM model id. An appConfig record with a GGUF `model` wins; a record that
 * points at MLC weights (e.g. WebLLM's own prebuiltAppConfig spread into the app's config)
 * falls through to the prebuilt table; an id found nowhere is a ModelNotFoundError that
 * lists every mapped id.
 */
export function resolveWebLLMModel(modelId: string, appConfig: AppConfig | undefined, chatOpts?: ChatOptions): ResolvedModel {
  const record: ModelRecord | undefined = appConfig?.model_list?.find((r) => r.model_id === modelId);
  if (record && typeof record.model === 'string' && isGgufLocation(record.model)) {
    return { modelId, source: record.model, chatOptions: { ...record.overrides, ...chatOpts }, via: 'model_list' };
  }
  const mapped = PREBUILT_GGUF.get(modelId);
  if (mapped) {
    return { modelId, source: mapped.url, chatOptions: { ...mapped.overrides, ...record?.overrides, ...chatOpts }, via: 'prebuilt' };
  }
  throw new ModelNotFoundError(modelId, mappedPrebuiltIds());
}
