// What becomes of a pooled vector before it leaves the engine: `dimensions` (Matryoshka
// truncation) and L2 normalisation, as OpenAI and Ollama's /api/embed return unit vectors
// (Ollama's legacy /api/embeddings returns the raw pooled vector: normalize = false).
//
// The `dimensions` rule: any integer 1 ≤ d ≤ the model's native size is allowed on any
// embedding model; the vector is cut to its first d components and renormalised (what
// OpenAI's text-embedding-3 and Ollama do). GGUF carries no "trained Matryoshka" flag, so
// tabllm cannot refuse non-Matryoshka models; on those a cut vector is valid but worse.

/** v / ‖v‖₂ in float64 sums; a zero vector stays zero (nothing to point it at). */
export function l2Normalize(v: Float32Array): Float32Array {
  let sumSq = 0;
  for (let i = 0; i < v.length; i++) sumSq += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (sumSq === 0) return out;
  const inv = 1 / Math.sqrt(sumSq);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * inv;
  return out;
}

/** The first `dimensions` components (all when undefined), renormalised unless `normalize` is false. */
export function finishEmbedding(pooled: Float32Array, dimensions?: number, normalize = true): Float32Array {
  const kept = dimensions === undefined || dimensions >= pooled.length ? pooled : pooled.subarray(0, dimensions);
  return normalize ? l2Normalize(kept) : kept.slice();
}
