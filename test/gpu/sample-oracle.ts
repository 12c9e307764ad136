// Float64 CPU oracle for GPU sampling (test/gpu/sample*.test.ts): the same semantics as
// src/kernels/sample*.wgsl, written the obvious way (sorting, explicit cumulative sums).
import type { PenaltyTokens, SamplingParams } from '../../src/engine/types';
import { GREEDY } from '../../src/engine/types';

export function params(over: Partial<SamplingParams>): SamplingParams {
  return { ...GREEDY, ...over };
}

/** Bias, then repetition (prompt ∪ output), then presence/frequency (output counts). */
export function processRow(raw: ArrayLike<number>, p: SamplingParams, pen?: PenaltyTokens): Float64Array {
  const l = Float64Array.from(raw as ArrayLike<number>, (x) => Math.fround(x));
  const bias = new Map<number, number>();
  for (const [id, b] of p.logitBias ?? []) {
    bias.set(id, Math.fround(b));
    l[id] = Math.fround(l[id] + Math.fround(b));
  }
  if (pen && (p.repetitionPenalty !== 1 || p.presencePenalty !== 0 || p.frequencyPenalty !== 0)) {
    const rep = Math.fround(p.repetitionPenalty);
    for (let i = 0; i < pen.tokenIds.length; i++) {
      const id = pen.tokenIds[i];
      const count = pen.outputCounts[i];
      let v = l[id];
      v = v > 0 ? v / rep : v * rep;
      v -= count * Math.fround(p.frequencyPenalty) + (count > 0 ? Math.fround(p.presencePenalty) : 0);
      l[id] = v;
    }
  }
  return l;
}

export function argmaxLowest(l: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < l.length; i++) if (l[i] > l[best]) best = i;
  return best;
}

export function logSoftmax(l: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < l.length; i++) m = Math.max(m, l[i]);
  let s = 0;
  for (let i = 0; i < l.length; i++) s += Math.exp(l[i] - m);
  const logZ = m + Math.log(s);
  return Float64Array.from(l as ArrayLike<number>, (x) => x - logZ);
}

/** Ids by logit descending, lowest id first on ties. */
export function rankDesc(l: ArrayLike<number>): number[] {
  return Array.from({ length: l.length }, (_, i) => i).sort((a, b) => l[b] - l[a] || a - b);
}

/**
 * The distribution the kernel draws from: weights exp((l - max) / T), then top-k (ties
 * with the k-th logit kept), top-p over the top-k survivors (the whole tie group at
 * the crossing kept), min-p (p >= min_p * p_max). Returns normalized probabilities
 * (0 for filtered tokens) and, for boundary checks, the cut margins.
 */
export function filteredProbs(l: ArrayLike<number>, p: SamplingParams): Float64Array {
  const n = l.length;
  const order = rankDesc(l);
  const m = l[order[0]];
  const w = Float64Array.from(l as ArrayLike<number>, (x) => Math.exp((x - m) / p.temperature));
  let cut = -Infinity; // keep l >= cut
  if (p.topK > 0 && p.topK < n) cut = Math.max(cut, l[order[p.topK - 1]]);
  if (p.topP < 1) {
    let total = 0;
    for (const i of order) if (l[i] >= cut) total += w[i];
    let acc = 0;
    for (const i of order) {
      if (l[i] < cut) break;
      acc += w[i];
      if (acc >= p.topP * total) {
        cut = Math.max(cut, l[i]);
        break;
      }
    }
  }
  if (p.minP > 0) cut = Math.max(cut, m + p.temperature * Math.log(p.minP));
  const probs = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) if (l[i] >= cut) s += (probs[i] = w[i]);
  for (let i = 0; i < n; i++) probs[i] /= s;
  return probs;
}

/** Inverse-CDF draw in token-id order; also how close u fell to a bucket edge. */
export function drawById(probs: Float64Array, u: number): { id: number; edgeDistance: number } {
  let acc = 0;
  let last = -1;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue;
    const before = acc;
    acc += probs[i];
    last = i;
    if (acc > u) return { id: i, edgeDistance: Math.min(u - before, acc - u) };
  }
  return { id: last, edgeDistance: 0 };
}

/** Random logits: normal-ish (sum of uniforms) times `scale`, as f32. */
export function randomLogits(rand: () => number, n: number, scale: number): Float32Array<ArrayBuffer> {
  return Float32Array.from({ length: n }, () => (rand() + rand() + rand() - 1.5) * scale);
}
