// llama.cpp (node-llama-cpp's prebuilt CPU binary) as the embeddings oracle: load GGUF bytes
// into an embedding context and read the pooled vector of a token sequence.
//
// What node-llama-cpp gives back: llama_get_embeddings_seq of the one sequence, i.e. the
// model's pooling (mean / cls / last) of the final hidden rows, NOT normalised (normalising
// is left to callers in llama.cpp too), so it compares directly with ModelRunner.embed.
// getEmbeddingFor prepends the vocabulary's BOS ([CLS] for WordPiece) and appends [SEP]
// (WordPiece) or EOS (when add_eos) when the ids lack them: give it ids that already have them.
import type { Token } from 'node-llama-cpp';
import { loadIntoLlamaCpp } from './llama-cpp-oracle';

export interface LlamaCppEmbedder {
  /** The pooled, unnormalised vector of `ids` (one sequence, evaluated alone). */
  embed(ids: readonly number[]): Promise<Float64Array>;
  /** llama.cpp's tokenization of `text` without special tokens. */
  tokenize(text: string): number[];
  dispose(): Promise<void>;
}

export async function openLlamaCppEmbedder(ggufBytes: Uint8Array, contextSize = 128): Promise<LlamaCppEmbedder> {
  const loaded = await loadIntoLlamaCpp(ggufBytes, (model) => model.createEmbeddingContext({ contextSize, batchSize: contextSize, threads: 1 }));
  const m = loaded.model;
  const ctx = loaded.context;
  return {
    async embed(ids) {
      const out = await ctx.getEmbeddingFor(ids.slice() as Token[]);
      return Float64Array.from(out.vector);
    },
    tokenize(text) {
      return m.tokenize(text, false).map(Number);
    },
    dispose: loaded.dispose,
  };
}

/** cos(a, b) in float64. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`cosine of vectors of ${a.length} and ${b.length}`);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb);
}
