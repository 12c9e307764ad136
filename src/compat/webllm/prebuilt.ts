// WebLLM model ids → GGUF files. A `model_list` record whose `model` names a GGUF file loads
// that file. WebLLM's prebuilt ids (its `prebuiltAppConfig`, MLC-format weights tabllm cannot
// read) map to the official or well-known GGUF builds of the same model and instruct tuning:
// 4-bit ids (q4f16_1 / q4f32_1) to Q4_K_M, unquantized ids (q0f16 / q0f32) to Q8_0, and the
// `-1k` ids to the same file with a 1024-token context, as WebLLM's overrides do.
import type { AppConfig, ChatOptions, ModelRecord } from '@mlc-ai/web-llm';
import { ModelNotFoundError } from './errors';

const HF = 'https://huggingface.co';

interface GgufFile {
  repo: string;
  file: string;
}

interface PrebuiltFamily {
  /** WebLLM id prefix: `<base>-q4f16_1-MLC` etc. */
  base: string;
  q4: GgufFile;
  /** For WebLLM's q0f16 / q0f32 ids (only where WebLLM has them). */
  q8?: GgufFile;
  /** WebLLM also ships `-1k` (1024-token context) variants of the 4-bit ids. */
  has1k?: boolean;
}

// Architectures here are the ones tabllm runs (llama, qwen2, qwen3, phi3). Gemma-2 ids are
// left out on purpose: the gemma2 architecture (soft-capping, sliding window) is not supported.
const FAMILIES: PrebuiltFamily[] = [
  {
    base: 'Qwen2.5-0.5B-Instruct',
    q4: { repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', file: 'qwen2.5-0.5b-instruct-q4_k_m.gguf' },
    q8: { repo: 'Qwen/Qwen2.5-0.5B-Instruct-GGUF', file: 'qwen2.5-0.5b-instruct-q8_0.gguf' },
  },
  { base: 'Qwen2.5-1.5B-Instruct', q4: { repo: 'Qwen/Qwen2.5-1.5B-Instruct-GGUF', file: 'qwen2.5-1.5b-instruct-q4_k_m.gguf' } },
  { base: 'Qwen2.5-3B-Instruct', q4: { repo: 'Qwen/Qwen2.5-3B-Instruct-GGUF', file: 'qwen2.5-3b-instruct-q4_k_m.gguf' } },
  {
    base: 'Qwen3-0.6B',
    q4: { repo: 'unsloth/Qwen3-0.6B-GGUF', file: 'Qwen3-0.6B-Q4_K_M.gguf' },
    q8: { repo: 'unsloth/Qwen3-0.6B-GGUF', file: 'Qwen3-0.6B-Q8_0.gguf' },
  },
  { base: 'Qwen3-1.7B', q4: { repo: 'unsloth/Qwen3-1.7B-GGUF', file: 'Qwen3-1.7B-Q4_K_M.gguf' } },
  {
    base: 'Llama-3.2-1B-Instruct',
    q4: { repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF', file: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf' },
    q8: { repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF', file: 'Llama-3.2-1B-Instruct-Q8_0.gguf' },
  },
  { base: 'Llama-3.2-3B-Instruct', q4: { repo: 'bartowski/Llama-3.2-3B-Instruct-GGUF', file: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf' } },
  { base: 'Phi-3.5-mini-instruct', q4: { repo: 'bartowski/Phi-3.5-mini-instruct-GGUF', file: 'Phi-3.5-mini-instruct-Q4_K_M.gguf' }, has1k: true },
  {
    base: 'SmolLM2-135M-Instruct',
    // WebLLM ships this size unquantized only (q0f16 / q0f32).
    q4: { repo: 'bartowski/SmolLM2-135M-Instruct-GGUF', file: 'SmolLM2-135M-Instruct-Q4_K_M.gguf' },
    q8: { repo: 'bartowski/SmolLM2-135M-Instruct-GGUF', file: 'SmolLM2-135M-Instruct-Q8_0.gguf' },
  },
  {
    base: 'SmolLM2-360M-Instruct',
    q4: { repo: 'bartowski/SmolLM2-360M-Instruct-GGUF', file: 'SmolLM2-360M-Instruct-Q4_K_M.gguf' },
    q8: { repo: 'bartowski/SmolLM2-360M-Instruct-GGUF', file: 'SmolLM2-360M-Instruct-Q8_0.gguf' },
  },
  { base: 'SmolLM2-1.7B-Instruct', q4: { repo: 'bartowski/SmolLM2-1.7B-Instruct-GGUF', file: 'SmolLM2-1.7B-Instruct-Q4_K_M.gguf' } },
  { base: 'TinyLlama-1.1B-Chat-v1.0', q4: { repo: 'TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF', file: 'tinyllama-1.1b-chat-v1.0.Q4_K_M.gguf' }, has1k: true },
];

/** Ids WebLLM does not ship although the pattern would make them (SmolLM2-135M has no 4-bit build in WebLLM). */
const NOT_IN_WEBLLM = new Set(['SmolLM2-135M-Instruct-q4f16_1-MLC', 'SmolLM2-135M-Instruct-q4f32_1-MLC']);

export interface PrebuiltMapping {
  url: string;
  /** Chat options WebLLM's own record applies (the `-1k` context). */
  overrides?: ChatOptions;
}

function url(f: GgufFile): string {
  return `${HF}/${f.repo}/resolve/main/${f.file}`;
}

function buildTable(): Map<string, PrebuiltMapping> {
  const table = new Map<string, PrebuiltMapping>();
  const add = (id: string, m: PrebuiltMapping) => {
    if (!NOT_IN_WEBLLM.has(id)) table.set(id, m);
  };
  for (const f of FAMILIES) {
    for (const q of ['q4f16_1', 'q4f32_1']) {
      add(`${f.base}-${q}-MLC`, { url: url(f.q4) });
      if (f.has1k) add(`${f.base}-${q}-MLC-1k`, { url: url(f.q4), overrides: { context_window_size: 1024 } });
    }
    if (f.q8) for (const q of ['q0f16', 'q0f32']) add(`${f.base}-${q}-MLC`, { url: url(f.q8) });
  }
  return table;
}

/** WebLLM prebuilt id → GGUF build. */
export const PREBUILT_GGUF: ReadonlyMap<string, PrebuiltMapping> = buildTable();

export function mappedPrebuiltIds(): string[] {
  return [...PREBUILT_GGUF.keys()];
}

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
