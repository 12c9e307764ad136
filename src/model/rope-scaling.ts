// RoPE scaling read from GGUF metadata (`<arch>.rope.scaling.*`), and the per-pair
// frequencies and cos/sin magnitude it implies. The GPU loader turns the frequencies into
// its fixed-point turn table (kernels/rope.ts); the float64 reference (test/ref) has its
// own copy of the math, written per position like ggml's rope_yarn, so one checks the other.
//
// Semantics follow llama.cpp (llama-model.cpp load_hparams, llama-context.cpp, ggml-cpu
// rope_yarn), which is what a GGUF means in practice:
//   type      `rope.scaling.type`: none | linear | yarn | longrope; absent means linear,
//             so a bare `rope.scaling.factor` scales linearly (llama.cpp's default string);
//             longrope scales angles like linear (ggml: freq_scale, no YaRN ramp) — its
//             per-pair factor tables are tensors (phi3), chosen by `ropeFactorTensor`
//   factor    `rope.scaling.factor` (older files: `rope.scale_linear`); 0 or absent = 1
//   linear    angle = pos * freq_i / factor
//   yarn      angle = pos * freq_i * ((1 - mix_i) / factor + mix_i), where
//             mix_i = 1 - clamp((i - low) / max(0.001, high - low), 0, 1) on pair index i and
//             low/high = floor/ceil of ropeDim * ln(origCtx / (beta * 2 pi)) / (2 ln theta)
//             for beta = beta_fast / beta_slow, clamped to [0, ropeDim - 1];
//             cos and sin are multiplied by 1 + 0.1 ln(factor) (factor > 1)
//   attn_factor `rope.scaling.attn_factor` multiplies cos and sin for every type
// `original_context_length` defaults to `<arch>.context_length`; beta_fast/beta_slow
// default to 32 / 1 (read when a conversion wrote them from the HF config).
import { ModelConfigError } from './config-error';
import type { GGUFValue } from './gguf/types';

export type RopeScalingType = 'none' | 'linear' | 'yarn' | 'longrope';

export interface RopeScaling {
  type: RopeScalingType;
  /** Context extension factor (1 / llama.cpp's freq_scale); 1 = no scaling. */
  factor: number;
  /** `rope.scaling.attn_factor`: multiplies cos and sin (default 1). */
  attnFactor: number;
  /** YaRN: the context the model was trained at before extension. */
  originalContextLength: number;
  /** YaRN: rotations per original context above which pairs are extrapolated (32) / below which interpolated (1). */
  betaFast: number;
  betaSlow: number;
}

export const YARN_BETA_FAST = 32;
export const YARN_BETA_SLOW = 1;

/** What `parseRopeScaling` needs from the model config. */
export interface RopeBase {
  ropeTheta: number;
  ropeDim: number;
  ropeScaling?: RopeScaling;
}

/**
 * The scaling of a file, or undefined when it has none (no keys, type none with attn_factor 1,
 * or factor 1 linear / longrope). Throws ModelConfigError naming the key for an unknown type
 * or a bad number.
 */
export function parseRopeScaling(md: Record<string, GGUFValue>, arch: string, contextLength: number): RopeScaling | undefined {
  const key = (suffix: string) => `${arch}.rope.scaling.${suffix}`;
  const typeValue = md[key('type')] ?? 'linear';
  if (typeof typeValue !== 'string') throw new ModelConfigError('bad_model_config', `${key('type')} must be a string`, key('type'));
  if (typeValue !== 'none' && typeValue !== 'linear' && typeValue !== 'yarn' && typeValue !== 'longrope') {
    throw new ModelConfigError('unsupported_architecture', `RoPE scaling type '${typeValue}' (${key('type')}) is not supported (supported: none, linear, yarn, longrope)`, key('type'));
  }
  const factorKey = md[key('factor')] !== undefined ? key('factor') : `${arch}.rope.scale_linear`;
  const rawFactor = nonNegative(md, factorKey, 0);
  const factor = typeValue === 'none' || rawFactor === 0 ? 1 : rawFactor;
  const scaling: RopeScaling = {
    type: typeValue,
    factor,
    attnFactor: positive(md, key('attn_factor'), 1),
    originalContextLength: positiveInteger(md, key('original_context_length'), contextLength),
    betaFast: positive(md, key('yarn_beta_fast'), YARN_BETA_FAST),
    betaSlow: positive(md, key('yarn_beta_slow'), YARN_BETA_SLOW),
  };
  const scalesAngles = scaling.type === 'yarn' || (isLinear(scaling) && factor !== 1);
  if (!scalesAngles && scaling.attnFactor === 1) return undefined;
  return scaling;
}

/**
 * Radians per position of each rotated pair i < ropeDim / 2: theta^(-2i/ropeDim), divided
 * by `freqFactors[i]` (Llama 3 rope_freqs) and then scaled as the config's RoPE scaling says.
 */
export function ropePairFrequencies(c: RopeBase, freqFactors?: ArrayLike<number>): Float64Array {
  const half = c.ropeDim / 2;
  const s = c.ropeScaling;
  const [low, high] = s?.type === 'yarn' ? yarnCorrectionDims(c.ropeDim, s.originalContextLength, c.ropeTheta, s.betaFast, s.betaSlow) : [0, 0];
  const out = new Float64Array(half); // [ropeDim / 2] rad per position
  for (let i = 0; i < half; i++) {
    const freq = Math.pow(c.ropeTheta, (-2 * i) / c.ropeDim) / (freqFactors ? freqFactors[i] : 1);
    let scale = 1;
    if (s && isLinear(s)) scale = 1 / s.factor;
    if (s?.type === 'yarn') {
      const mix = 1 - Math.min(1, Math.max(0, (i - low) / Math.max(0.001, high - low))); // 1: extrapolate (fast pairs)
      scale = (1 - mix) / s.factor + mix;
    }
    out[i] = freq * scale;
  }
  return out;
}

/** linear and longrope scale every angle by 1 / factor (ggml's freq_scale without the YaRN ramp). */
function isLinear(s: RopeScaling): boolean {
  return s.type === 'linear' || s.type === 'longrope';
}

/**
 * The tensor whose values divide each rotated pair's frequency (ggml_rope_ext's
 * freq_factors), or undefined when the file has none. llama.cpp's get_rope_factors:
 * Llama 3's `rope_freqs.weight` when present; else phi3 LongRoPE's long table when the
 * context per sequence exceeds the original context, the short table otherwise.
 * tabllm serves each sequence up to `contextLength`, so that is the context compared
 * (llama.cpp's n_ctx defaults to the trained context too).
 */
export function ropeFactorTensor(c: { ropeFreqFactors?: boolean; longRope?: { originalContextLength: number }; contextLength: number }): string | undefined {
  if (c.ropeFreqFactors) return 'rope_freqs.weight';
  if (!c.longRope) return undefined;
  return c.contextLength > c.longRope.originalContextLength ? 'rope_factors_long.weight' : 'rope_factors_short.weight';
}

/** The factor RoPE multiplies cos and sin by (so q·k by its square): YaRN's mscale times attn_factor. */
export function ropeMagnitude(c: RopeBase): number {
  const s = c.ropeScaling;
  if (!s) return 1;
  const mscale = s.type === 'yarn' && s.factor > 1 ? 1 + 0.1 * Math.log(s.factor) : 1;
  return mscale * s.attnFactor;
}

/** ggml_rope_yarn_corr_dims: the pair-index range over which YaRN blends. */
export function yarnCorrectionDims(ropeDim: number, originalContextLength: number, theta: number, betaFast: number, betaSlow: number): [number, number] {
  const corrDim = (rotations: number) => (ropeDim * Math.log(originalContextLength / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
  return [Math.max(0, Math.floor(corrDim(betaFast))), Math.min(ropeDim - 1, Math.ceil(corrDim(betaSlow)))];
}

function number(md: Record<string, GGUFValue>, key: string, fallback: number): number {
  const value = md[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ModelConfigError('bad_model_config', `${key} must be a finite number (got ${JSON.stringify(String(value))})`, key);
  }
  return value;
}

function positive(md: Record<string, GGUFValue>, key: string, fallback: number): number {
  const value = number(md, key, fallback);
  if (value <= 0) throw new ModelConfigError('bad_model_config', `${key} must be positive (got ${value})`, key);
  return value;
}

function nonNegative(md: Record<string, GGUFValue>, key: string, fallback: number): number {
  const value = number(md, key, fallback);
  if (value < 0) throw new ModelConfigError('bad_model_config', `${key} must not be negative (got ${value})`, key);
  return value;
}

function positiveInteger(md: Record<string, GGUFValue>, key: string, fallback: number): number {
  const value = number(md, key, fallback);
  if (!Number.isInteger(value) || value <= 0) throw new ModelConfigError('bad_model_config', `${key} must be a positive integer (got ${value})`, key);
  return value;
}

/**
 * The RoPE base of a sliding-window model's local layers: their own theta, and no scaling
 * unless `ropeScaled` (gemma3 scales global layers only). `c` itself when they rotate
 * like the global layers (no window, or the same theta and scaling).
 */
export function localRopeConfig<C extends RopeBase & { slidingWindow?: { ropeTheta: number; ropeScaled: boolean } }>(c: C): RopeBase {
  const w = c.slidingWindow;
  if (!w || (w.ropeTheta === c.ropeTheta && (w.ropeScaled || !c.ropeScaling))) return c;
  return { ropeTheta: w.ropeTheta, ropeDim: c.ropeDim, ...(w.ropeScaled && c.ropeScaling ? { ropeScaling: c.ropeScaling } : {}) };
}
