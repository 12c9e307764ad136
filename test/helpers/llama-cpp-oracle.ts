// llama.cpp (through node-llama-cpp's prebuilt CPU binary) as a test oracle: load GGUF
// bytes, run greedy decoding from prompt token ids, tokenize a string. Tests compare
// tabllm's ids against these; the per-step top-2 margin lets a test accept a flip where
// llama.cpp itself was nearly tied.
//
// Deterministic by construction: CPU only, one thread, one sequence, f32 KV cache (the
// default f16 cache would add rounding tabllm's f32 pool does not have), greedy sampling
// (temperature 0, no penalties). Nothing downloads: `build: 'never'` uses the prebuilt
// binary from the @node-llama-cpp/<platform> optional package or fails.
//
// What llama.cpp's loader needs from a generated model (test-model.ts): byte tokens in the
// vocabulary (vocab >= 259; without <0x0A> its SPM loader aborts the whole process), and a
// `general.name` without "phi3" (it then looks up phi3's real special tokens and throws).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dequantize } from '../../src/model/gguf/dequant';
import { readGGUF, readTensorBytes } from '../../src/model/gguf/reader';
import { GGMLType, GGUFValueType } from '../../src/model/gguf/types';
import { writeGGUF, type TensorInput } from '../../src/model/gguf/writer';
import { getLlama, LlamaLogLevel, type Llama, type LlamaContext, type LlamaModel, type Token } from 'node-llama-cpp';

export interface LlamaCppGreedy {
  /** Greedy ids after the prompt, `numNew` of them. */
  ids: number[];
  /** Per step: logit(top-1) - logit(top-2) of llama.cpp's own distribution (Infinity with one candidate). */
  margins: number[];
}

export interface LlamaCppModel {
  /** Greedy decode from `promptIds` (fed as ids, no BOS added, no chat template). */
  greedy(promptIds: readonly number[], numNew: number): Promise<LlamaCppGreedy>;
  /** llama.cpp's tokenization of `text` (no BOS; `special` parses control-token text). */
  tokenize(text: string, special?: boolean): number[];
  dispose(): Promise<void>;
}

let llamaPromise: Promise<Llama> | undefined;
function sharedLlama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, maxThreads: 1 });
  return llamaPromise;
}

/** A model loaded into llama.cpp from bytes, with its context; dispose() frees both and removes the temporary file. */
export interface LoadedLlamaCpp<C> {
  model: LlamaModel;
  context: C;
  dispose(): Promise<void>;
}

/** Writes `ggufBytes` to a temporary file, loads it on the CPU and opens a context with `open`. */
export async function loadIntoLlamaCpp<C extends { dispose(): Promise<void> }>(ggufBytes: Uint8Array, open: (model: LlamaModel) => Promise<C>): Promise<LoadedLlamaCpp<C>> {
  const dir = await mkdtemp(join(tmpdir(), 'tabllm-llama-cpp-'));
  const path = join(dir, 'model.gguf');
  let model: LlamaModel | undefined;
  let context: C | undefined;
  try {
    await writeFile(path, ggufBytes);
    const llama = await sharedLlama();
    model = await llama.loadModel({ modelPath: path, gpuLayers: 0, useMmap: false });
    context = await open(model);
  } catch (e) {
    await context?.dispose();
    await model?.dispose();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  const m = model;
  const ctx = context;
  return {
    model: m,
    context: ctx,
    async dispose() {
      await ctx.dispose();
      await m.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Loads `ggufBytes` into llama.cpp (through a temporary file, removed on dispose). */
export async function openLlamaCpp(ggufBytes: Uint8Array, contextSize = 256): Promise<LlamaCppModel> {
  const loaded = await loadIntoLlamaCpp(ggufBytes, (model) =>
    model.createContext({
      contextSize, batchSize: contextSize, sequences: 1, threads: 1, flashAttention: false,
      experimentalKvCacheKeyType: 'F32', experimentalKvCacheValueType: 'F32',
    }),
  );
  const m = loaded.model;
  const ctx = loaded.context;
  const sequence = ctx.getSequence();
  return {
    async greedy(promptIds, numNew) {
      if (promptIds.length === 0) throw new RangeError('greedy: promptIds is empty');
      await sequence.clearHistory(); // every call starts a fresh sequence at position 0
      const ids: number[] = [];
        const margins: number[] = [];
        let feed = promptIds.slice() as Token[];
        while (ids.length < numNew) {
          // Only the last fed token asks for a next token (with its full distribution).
          const input = feed.map((t, i) =>
            i === feed.length - 1 ? ([t, { generateNext: { token: true, probabilities: true, options: { temperature: 0 } } }] as const) : t,
          );
          const out = await sequence.controlledEvaluate(input as never);
          const next = out[feed.length - 1]?.next;
          if (next?.token == null || !next.probabilities) throw new Error(`llama.cpp gave no token at step ${ids.length}`);
          ids.push(next.token);
          margins.push(topTwoMargin(next.probabilities));
          feed = [next.token];
        }
        return { ids, margins };
    },
    tokenize(text, special = false) {
      return m.tokenize(text, special).map(Number);
    },
    dispose: loaded.dispose,
  };
}

/**
 * The same model with every tensor dequantized to F32 (values bit-equal to what tabllm's
 * dequantizer gives). Compare a quantized file against llama.cpp on this copy: ggml rounds
 * activations to Q8 before quantized matmuls, tabllm keeps them f32, so llama.cpp on the
 * quantized file itself differs by more than rounding.
 */
export async function dequantizedF32Copy(ggufBytes: Uint8Array): Promise<Uint8Array> {
  const file = await readGGUF(ggufBytes);
  const tensors: TensorInput[] = [];
  for (const t of file.tensors) {
    const values = dequantize(t.type, await readTensorBytes(ggufBytes, t));
    tensors.push({ name: t.name, type: GGMLType.F32, shape: t.shape, data: values });
  }
  const metadata = { ...file.metadata, 'general.file_type': 0 };
  const metadataTypes = { ...file.metadataTypes, 'general.file_type': { type: GGUFValueType.UINT32 } };
  return writeGGUF({ metadata, metadataTypes, tensors });
}

/** ln(p1 / p2) = logit1 - logit2 (the softmax normalizer cancels). */
function topTwoMargin(probabilities: Map<Token, number>): number {
  const [p1, p2] = [...probabilities.values()].sort((a, b) => b - a);
  if (p2 === undefined || p2 === 0) return Infinity;
  return Math.log(p1 / p2);
}
