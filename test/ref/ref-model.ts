// The float64 CPU reference model: the oracle for every GPU kernel and for the runner.
// Written like llama2.c's forward(): one operation per line, a shape comment on each
// buffer, a plain contiguous KV cache. It shares no code with the GPU path: only the GGUF
// reader and the CPU dequantizer feed it.
//
// Architectures: llama (adjacent RoPE), qwen2 (q/k/v biases), qwen3 (per-head q/k RMSNorm
// before RoPE), phi3 (fused qkv and gate/up), all NeoX RoPE except llama; partial RoPE
// (ropeDim < headDim) rotates only the leading ropeDim dims of each head.
// gemma (v1: embedding scale, GeGLU only), gemma2 / gemma3 (llama.cpp's graphs): embedding · sqrt(dim), q/k head norms (gemma3),
// q scale from the config, attention logit soft-cap (gemma2), sliding-window local layers
// with their own RoPE base, post-norms on both sub-block outputs, GeGLU (gelu, tanh form),
// final logit soft-cap. smollm3: llama's layout, q and k unrotated on the layers config.noRopeLayers marks.

import type { ModelConfig, RopeScaling } from '../../src/model/config';
import { f16ToF32, f32ToF16 } from '../../src/model/gguf';
import type { SourceInput } from '../../src/model/gguf/source';
import { loadRefWeights, type RefWeights } from './weights';

export interface RefModelOptions {
  /**
   * Element type of the KV cache: 'f64' (default) keeps K/V exact; 'f16' rounds each new
   * K/V value to f32 and then to f16 (round-to-nearest-even) as it is stored, like the
   * GPU's f16 KV pool — the oracle for the f16 path.
   */
  kvCache?: 'f64' | 'f16';
}

export class RefModel {
  readonly config: ModelConfig;
  private readonly w: RefWeights;
  private readonly maxPositions: number;
  // Scratch buffers, as llama2.c's RunState.
  private readonly x: Float64Array; // [dim] residual stream
  private readonly xb: Float64Array; // [dim] normed input of a sub-block
  private readonly attnOut: Float64Array; // [numHeads * headDim]
  private readonly att: Float64Array; // [maxPositions] scores of one head
  private readonly hb: Float64Array; // [ffnDim]
  // KV cache: one contiguous buffer per layer, position-major.
  private readonly keyCache: Float64Array[]; // numLayers x [maxPositions, numKvHeads * headDim]
  private readonly valueCache: Float64Array[]; // numLayers x [maxPositions, numKvHeads * headDim]
  private readonly kvF16: boolean;

  constructor(config: ModelConfig, weights: RefWeights, maxPositions = Math.min(config.contextLength, 4096), options: RefModelOptions = {}) {
    this.config = config;
    this.w = weights;
    this.maxPositions = maxPositions;
    this.kvF16 = options.kvCache === 'f16';
    const kvDim = config.numKvHeads * config.headDim;
    this.x = new Float64Array(config.dim);
    this.xb = new Float64Array(config.dim);
    this.attnOut = new Float64Array(config.numHeads * config.headDim);
    this.att = new Float64Array(maxPositions);
    this.hb = new Float64Array(config.ffnDim);
    this.keyCache = Array.from({ length: config.numLayers }, () => new Float64Array(maxPositions * kvDim));
    this.valueCache = Array.from({ length: config.numLayers }, () => new Float64Array(maxPositions * kvDim));
  }

  /** Loads a GGUF (path, URL, bytes, ByteSource) and dequantizes all weights to float64. */
  static async fromGGUF(input: SourceInput, maxPositions?: number, options?: RefModelOptions): Promise<RefModel> {
    const { config, weights } = await loadRefWeights(input);
    return new RefModel(config, weights, maxPositions, options);
  }

  /**
   * Runs one token at `pos` (positions must be fed in order 0, 1, 2, … for one sequence;
   * feeding pos 0 starts a new sequence). Returns a fresh logits array, [vocabSize].
   */
  forward(token: number, pos: number): Float64Array {
    const c = this.config;
    const w = this.w;
    if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) throw new RangeError(`token ${token} out of [0, ${c.vocabSize})`);
    if (!Number.isInteger(pos) || pos < 0 || pos >= this.maxPositions) throw new RangeError(`pos ${pos} out of [0, ${this.maxPositions})`);
    const dim = c.dim;
    const headDim = c.headDim;
    const qDim = c.numHeads * headDim;
    const kvDim = c.numKvHeads * headDim;
    const headsPerKv = c.numHeads / c.numKvHeads;
    const x = this.x;
    const xb = this.xb;

    // x = token_embd[token]
    x.set(w.tokenEmbedding.subarray(token * dim, (token + 1) * dim)); // [dim]
    if (c.embedScale !== undefined) for (let i = 0; i < dim; i++) x[i] *= c.embedScale; // gemma: · sqrt(dim)

    for (let l = 0; l < c.numLayers; l++) {
      const lw = w.layers[l];
      const keyCache = this.keyCache[l]; // [maxPositions, kvDim]
      const valueCache = this.valueCache[l]; // [maxPositions, kvDim]
      const sw = c.slidingWindow;
      const local = sw?.localLayers[l] ?? false;
      const theta = local ? sw!.ropeTheta : c.ropeTheta;
      const scaling = local && !sw!.ropeScaled ? undefined : c.ropeScaling;
      const firstPos = local ? Math.max(0, pos + 1 - sw!.size) : 0; // the window: positions firstPos..pos

      // ---- attention ----
      rmsnorm(xb, x, lw.attnNorm, c.rmsEps); // [dim]
      let q: Float64Array; // [qDim]
      let k: Float64Array; // [kvDim]
      let v: Float64Array; // [kvDim]
      if (lw.wqkv) {
        const qkv = matmul(lw.wqkv, xb, qDim + 2 * kvDim, dim); // [qDim + 2 kvDim]: q rows, then k, then v
        if (lw.bqkv) addInPlace(qkv, lw.bqkv);
        q = qkv.slice(0, qDim);
        k = qkv.slice(qDim, qDim + kvDim);
        v = qkv.slice(qDim + kvDim, qDim + 2 * kvDim);
      } else {
        q = matmul(lw.wq!, xb, qDim, dim);
        k = matmul(lw.wk!, xb, kvDim, dim);
        v = matmul(lw.wv!, xb, kvDim, dim);
      }
      if (lw.bq) addInPlace(q, lw.bq); // qwen2
      if (lw.bk) addInPlace(k, lw.bk);
      if (lw.bv) addInPlace(v, lw.bv);
      if (lw.qNorm) headwiseRmsnorm(q, c.numHeads, headDim, lw.qNorm, c.rmsEps); // qwen3, before RoPE
      if (lw.kNorm) headwiseRmsnorm(k, c.numKvHeads, headDim, lw.kNorm, c.rmsEps);
      if (!c.noRopeLayers?.[l]) {
        rope(q, c.numHeads, headDim, c.ropeDim, pos, theta, c.ropeStyle, w.ropeFreqFactors, scaling);
        rope(k, c.numKvHeads, headDim, c.ropeDim, pos, theta, c.ropeStyle, w.ropeFreqFactors, scaling);
      }
      if (this.kvF16) {
        roundToF16(k);
        roundToF16(v);
      }
      keyCache.set(k, pos * kvDim);
      valueCache.set(v, pos * kvDim);

      const scale = c.attnScale ?? 1 / Math.sqrt(headDim);
      for (let h = 0; h < c.numHeads; h++) {
        const kvHead = Math.floor(h / headsPerKv); // GQA: consecutive query heads share a KV head
        const qHead = q.subarray(h * headDim, (h + 1) * headDim); // [headDim]
        const att = this.att.subarray(0, pos + 1 - firstPos); // [window length]
        for (let t = firstPos; t <= pos; t++) {
          const kHead = keyCache.subarray(t * kvDim + kvHead * headDim, t * kvDim + (kvHead + 1) * headDim);
          const score = dot(qHead, kHead) * scale;
          att[t - firstPos] = c.attnSoftcap !== undefined ? softcap(score, c.attnSoftcap) : score;
        }
        softmax(att);
        const outHead = this.attnOut.subarray(h * headDim, (h + 1) * headDim); // [headDim]
        outHead.fill(0);
        for (let t = firstPos; t <= pos; t++) {
          const vHead = valueCache.subarray(t * kvDim + kvHead * headDim, t * kvDim + (kvHead + 1) * headDim);
          for (let i = 0; i < headDim; i++) outHead[i] += att[t - firstPos] * vHead[i];
        }
      }
      const attnProj = matmul(lw.wo, this.attnOut, dim, qDim); // [dim]
      if (lw.attnPostNorm) rmsnorm(attnProj, attnProj, lw.attnPostNorm, c.rmsEps); // gemma
      addInPlace(x, attnProj); // residual

      // ---- feed-forward (SwiGLU) ----
      rmsnorm(xb, x, lw.ffnNorm, c.rmsEps); // [dim]
      let gate: Float64Array; // [ffnDim]
      let up: Float64Array; // [ffnDim]
      if (lw.wGate) {
        gate = matmul(lw.wGate, xb, c.ffnDim, dim);
        up = matmul(lw.wUp, xb, c.ffnDim, dim);
      } else {
        const gateUp = matmul(lw.wUp, xb, 2 * c.ffnDim, dim); // [2 ffnDim]: gate rows, then up rows (phi3)
        gate = gateUp.subarray(0, c.ffnDim);
        up = gateUp.subarray(c.ffnDim);
      }
      const act = c.ffnAct === 'gelu' ? geluTanh : silu;
      for (let i = 0; i < c.ffnDim; i++) this.hb[i] = act(gate[i]) * up[i]; // [ffnDim]
      const ffnOut = matmul(lw.wDown, this.hb, dim, c.ffnDim); // [dim]
      if (lw.ffnPostNorm) rmsnorm(ffnOut, ffnOut, lw.ffnPostNorm, c.rmsEps); // gemma
      addInPlace(x, ffnOut); // residual
    }

    rmsnorm(xb, x, w.outputNorm, c.rmsEps); // [dim]
    const logits = matmul(w.output, xb, c.vocabSize, dim); // [vocabSize]
    if (c.finalSoftcap !== undefined) for (let i = 0; i < logits.length; i++) logits[i] = softcap(logits[i], c.finalSoftcap);
    return logits;
  }

  /**
   * Feeds `tokenIds` at positions startPos, startPos + 1, … (a prefill chunk, token by token);
   * positions before startPos must already be in the cache. Returns each position's logits.
   */
  forwardMany(tokenIds: readonly number[], startPos = 0): Float64Array[] {
    return tokenIds.map((token, i) => this.forward(token, startPos + i)); // [numTokens][vocabSize]
  }

  /**
   * Feeds `promptIds` from position 0, then appends `numNewTokens` argmax tokens.
   * Returns only the new ids (llama2.c's greedy loop, without stopping on EOS).
   */
  greedy(promptIds: readonly number[], numNewTokens: number): number[] {
    if (promptIds.length === 0) throw new RangeError('greedy: promptIds is empty');
    const out: number[] = [];
    let logits: Float64Array = new Float64Array(0);
    for (let pos = 0; pos < promptIds.length; pos++) logits = this.forward(promptIds[pos], pos);
    for (let i = 0; i < numNewTokens; i++) {
      const next = argmax(logits);
      out.push(next);
      if (i + 1 < numNewTokens) logits = this.forward(next, promptIds.length + i);
    }
    return out;
  }
}

// ---- the ops, each as plain as llama2.c's ----

/** o = x / sqrt(mean(x²) + eps) * weight. */
export function rmsnorm(o: Float64Array, x: Float64Array, weight: Float64Array, eps: number): void {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss += x[i] * x[i];
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  for (let i = 0; i < x.length; i++) o[i] = x[i] * inv * weight[i];
}

/** RMSNorm of each head's slice of `v` ([numHeads, headDim]) with one shared weight [headDim]. */
export function headwiseRmsnorm(v: Float64Array, numHeads: number, headDim: number, weight: Float64Array, eps: number): void {
  for (let h = 0; h < numHeads; h++) {
    const head = v.subarray(h * headDim, (h + 1) * headDim);
    rmsnorm(head, head, weight, eps);
  }
}

/** y = W x with W [outDim, inDim] row-major (ggml [ne0 = in, ne1 = out]). */
export function matmul(weight: Float64Array, x: Float64Array, outDim: number, inDim: number): Float64Array {
  if (weight.length !== outDim * inDim) throw new Error(`matmul: weight has ${weight.length} values, expected ${outDim}x${inDim}`);
  const y = new Float64Array(outDim);
  for (let i = 0; i < outDim; i++) {
    let sum = 0;
    const row = i * inDim;
    for (let j = 0; j < inDim; j++) sum += weight[row + j] * x[j];
    y[i] = sum;
  }
  return y;
}

/**
 * Rotates the first `ropeDim` dims of each head in place by angle
 * pos * theta^(-2i/ropeDim) / freqFactors[i] (factors: Llama 3 rope_freqs, default 1),
 * then scaled as `scaling` says (ggml's rope_yarn, per position, in float64):
 *   linear: angle / factor
 *   yarn:   interp = angle / factor blended towards the unscaled angle by
 *           mix_i = 1 - clamp((i - low) / max(0.001, high - low), 0, 1),
 *           cos and sin times 1 + 0.1 ln(factor)
 *   both:   cos and sin times attnFactor
 *   adjacent (llama): pairs (2i, 2i+1)              for i in [0, ropeDim/2)
 *   neox (qwen, phi3): pairs (i, i + ropeDim/2)     for i in [0, ropeDim/2)
 */
export function rope(
  v: Float64Array, numHeads: number, headDim: number, ropeDim: number, pos: number, theta: number,
  style: 'adjacent' | 'neox', freqFactors?: Float64Array, scaling?: RopeScaling,
): void {
  const half = ropeDim / 2;
  const factor = scaling && scaling.type !== 'none' ? scaling.factor : 1;
  let mscale = scaling?.attnFactor ?? 1;
  let low = 0;
  let high = 0;
  if (scaling?.type === 'yarn') {
    // ggml_rope_yarn_corr_dims: the pair range between beta_fast and beta_slow rotations per original context.
    const corrDim = (rotations: number) => (ropeDim * Math.log(scaling.originalContextLength / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
    low = Math.max(0, Math.floor(corrDim(scaling.betaFast)));
    high = Math.min(ropeDim - 1, Math.ceil(corrDim(scaling.betaSlow)));
    if (factor > 1) mscale *= 1 + 0.1 * Math.log(factor);
  }
  for (let h = 0; h < numHeads; h++) {
    const base = h * headDim;
    for (let i = 0; i < half; i++) {
      const freq = Math.pow(theta, (-2 * i) / ropeDim) / (freqFactors ? freqFactors[i] : 1);
      const angleExtrap = pos * freq;
      const angleInterp = angleExtrap / factor;
      let angle = angleInterp;
      if (scaling?.type === 'yarn') {
        const ramp = 1 - Math.min(1, Math.max(0, (i - low) / Math.max(0.001, high - low)));
        angle = angleInterp * (1 - ramp) + angleExtrap * ramp;
      }
      const cos = Math.cos(angle) * mscale;
      const sin = Math.sin(angle) * mscale;
      const a = style === 'adjacent' ? base + 2 * i : base + i;
      const b = style === 'adjacent' ? base + 2 * i + 1 : base + i + half;
      const x0 = v[a];
      const x1 = v[b];
      v[a] = x0 * cos - x1 * sin;
      v[b] = x0 * sin + x1 * cos;
    }
  }
}

export function softmax(x: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] > max) max = x[i];
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.exp(x[i] - max);
    sum += x[i];
  }
  for (let i = 0; i < x.length; i++) x[i] /= sum;
}

export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}

/** GELU, tanh approximation (ggml_gelu): 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}

/** Logit soft-cap: cap · tanh(x / cap). */
export function softcap(x: number, cap: number): number {
  return cap * Math.tanh(x / cap);
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function addInPlace(target: Float64Array, addend: Float64Array): void {
  for (let i = 0; i < target.length; i++) target[i] += addend[i];
}

/** Index of the largest value; the lowest index wins ties (as llama2.c's argmax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Rounds every value to f32, then to f16 (round-to-nearest-even), in place. */
function roundToF16(x: Float64Array): void {
  for (let i = 0; i < x.length; i++) x[i] = f16ToF32(f32ToF16(x[i]));
}
