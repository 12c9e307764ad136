// createEngine: GGUF in, a loaded `Engine` out. Reads the header (never the whole file),
// builds the model config, tokenizer and chat template from the metadata, creates the
// model runner (WebGPU by default), and starts an EngineCore behind the OpenAI-shaped
// LocalEngine.
import { openSource, readGGUF, typeName, type SourceInput } from './model/gguf';
import type { GGUFFile } from './model/gguf/types';
import { modelConfigFromGGUF } from './model/config-parse';
import type { ModelConfig } from './model/config';
import { ChatTemplate } from './model/template';
import { IncrementalDetokenizer, Tokenizer } from './model/tokenizer';
import { EngineCore, type EngineCoreOptions } from './engine/core';
import { GrammarCompilerService } from './grammar/compiler';
import { grammarVocab } from './grammar/vocab';
import type { EngineInfo } from './openai/engine-api';
import { LocalEngine, type EngineTokenizer } from './openai/local-engine';
import type { GpuEntryPoint, LoadProgress, ModelRunner, RunnerFactoryArgs } from './engine/types';
import { ensureWebGpuGlobals } from './gpu/webgpu-globals';
import { modelIdFor } from './model-id';

export type { LoadProgress, RunnerFactoryArgs } from './engine/types';

export interface CreateEngineOptions extends EngineCoreOptions {
  /** A .gguf path (Node), URL, bytes, Blob/File, or ByteSource. */
  model: SourceInput;
  /** The WebGPU entry point: `navigator.gpu` by default; in Node `createNodeGPU()` or `create([])` from `webgpu`. */
  gpu?: GpuEntryPoint;
  /** The id requests name (`model` field); default the file's stem (`stories260K`), else `general.name` (model-id.ts). */
  modelId?: string;
  /** KV cache budget in bytes; default: a share of the device's memory limits. */
  kvCacheBytes?: number;
  /** 'auto' picks f16 when the adapter has shader-f16. */
  precision?: 'auto' | 'f32' | 'f16';
  /**
   * A URL model's HTTP requests must get their headers, and bodies their next bytes, within
   * this many milliseconds (default 30 s), else the load fails with `download_timeout`.
   */
  downloadIdleTimeoutMs?: number;
  /** A chat template that replaces (or supplies) the model's own. */
  chatTemplate?: string;
  onProgress?: (p: LoadProgress) => void;
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

export async function createEngine(options: CreateEngineOptions): Promise<LocalEngine> {
  const started = performance.now();
  const source = await openSource(options.model, { idleTimeoutMs: options.downloadIdleTimeoutMs });
  let runner: ModelRunner | undefined;
  try {
    const gguf = await readGGUF(source);
    options.onProgress?.({ stage: 'header', loaded: gguf.dataOffset, total: gguf.fileSize ?? gguf.dataOffset });
    const config = modelConfigFromGGUF(gguf);
    const tokenizer = Tokenizer.fromMetadata(gguf.metadata);
    const template = ChatTemplate.fromMetadata(gguf.metadata, { override: options.chatTemplate });
    const args: RunnerFactoryArgs = {
      gguf, source, config, gpu: options.gpu, kvCacheBytes: options.kvCacheBytes,
      precision: options.precision ?? 'auto', onProgress: options.onProgress,
    };
    if (!options.createRunner) ensureWebGpuGlobals();
    runner = options.createRunner ? await options.createRunner(args) : await (await import('./gpu/create-runner')).createWebGpuRunner(args);
    const tok = engineTokenizer(tokenizer);
    // Constrained decoding: XGrammar loads, and the vocabulary is walked, on the first constrained request.
    const grammar = new GrammarCompilerService(() => grammarVocab(tokenizer, config.vocabSize));
    const core = new EngineCore({ runner, createDetokenizer: tok.createDetokenizer, eogIds: tokenizer.eogIds, grammar, options });
    const info = { ...describeModel(gguf, config, modelIdFor(options, gguf.metadata['general.name']), template), loadMs: performance.now() - started };
    options.onProgress?.({ stage: 'ready', loaded: 1, total: 1 });
    const loaded = runner;
    return new LocalEngine({
      core, tokenizer: tok, template, info,
      destroy: async () => {
        loaded.destroy();
        await source.close?.();
      },
    });
  } catch (err) {
    runner?.destroy();
    await source.close?.();
    throw err;
  }
}
