// Float64 oracles of RMSNorm and RoPE (+ per-head norm), shared by the rmsnorm/rope tests and the fused kernels' tests.

export function rmsNormRef(x: Float32Array, w: Float32Array, rows: number, n: number, eps: number): Float64Array {
  const out = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < n; i++) ss += x[r * n + i] ** 2;
    const inv = 1 / Math.sqrt(ss / n + eps);
    for (let i = 0; i < n; i++) out[r * n + i] = x[r * n + i] * inv * w[i];
  }
  return out;
}

export interface RopeCase { numTokens: number; numHeads: number; headDim: number; ropeDim: number; neox: boolean; theta: number; rowStride: number; colOffset: number; norm?: Float32Array; eps: number }

export function ropeRef(x: Float32Array, pos: Int32Array, c: RopeCase): Float64Array {
  const out = Float64Array.from(x);
  for (let t = 0; t < c.numTokens; t++) {
    for (let h = 0; h < c.numHeads; h++) {
      const base = t * c.rowStride + c.colOffset + h * c.headDim;
      if (c.norm) {
        let ss = 0;
        for (let j = 0; j < c.headDim; j++) ss += out[base + j] ** 2;
        const inv = 1 / Math.sqrt(ss / c.headDim + c.eps);
        for (let j = 0; j < c.headDim; j++) out[base + j] = out[base + j] * inv * c.norm[j];
      }
      const half = c.ropeDim / 2;
      for (let i = 0; i < half; i++) {
        const ang = pos[t] * Math.pow(c.theta, (-2 * i) / c.ropeDim);
        const [i0, i1] = c.neox ? [base + i, base + i + half] : [base + 2 * i, base + 2 * i + 1];
        const x0 = out[i0], x1 = out[i1];
        out[i0] = x0 * Math.cos(ang) - x1 * Math.sin(ang);
        out[i1] = x0 * Math.sin(ang) + x1 * Math.cos(ang);
      }
    }
  }
  return out;
}
