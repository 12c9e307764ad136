// Float64 causal attention reading K/V by position (not through the pool), shared by the
// f32 and f16 attention kernel tests: block-table mapping errors show up as wrong values.

export interface Seq { contextLength: number; queryLength: number; k: Float32Array; v: Float32Array; blockTable: Int32Array }

/** Soft-cap (score = cap · tanh(score / cap)) and sliding window (positions pos + 1 - window..pos). */
export interface AttentionFeatures { softcap?: number; window?: number }

/** Outputs of the last queryLength positions of each sequence, [tokens, numHeads, headDim] flattened. */
export function attentionRef(seqs: Seq[], qs: Float32Array[], numHeads: number, numKvHeads: number, headDim: number, f: AttentionFeatures = {}): Float64Array {
  const out: number[] = [];
  const group = numHeads / numKvHeads, kvDim = numKvHeads * headDim, scale = 1 / Math.sqrt(headDim);
  seqs.forEach((s, si) => {
    for (let qi = 0; qi < s.queryLength; qi++) {
      const pos = s.contextLength - s.queryLength + qi;
      for (let h = 0; h < numHeads; h++) {
        const kvh = Math.floor(h / group);
        const first = f.window ? Math.max(0, pos + 1 - f.window) : 0;
        const scores: number[] = [];
        for (let j = first; j <= pos; j++) {
          let dot = 0;
          for (let i = 0; i < headDim; i++) dot += qs[si][(qi * numHeads + h) * headDim + i] * s.k[j * kvDim + kvh * headDim + i];
          scores.push(f.softcap ? f.softcap * Math.tanh((dot * scale) / f.softcap) : dot * scale);
        }
        const m = Math.max(...scores);
        const e = scores.map((x) => Math.exp(x - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < headDim; i++) {
          let acc = 0;
          for (let j = first; j <= pos; j++) acc += (e[j - first] / z) * s.v[j * kvDim + kvh * headDim + i];
          out.push(acc);
        }
      }
    }
  });
  return Float64Array.from(out);
}
