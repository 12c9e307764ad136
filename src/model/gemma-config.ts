// The gemma / gemma2 / gemma3 parts of a ModelConfig, read as llama.cpp reads them
// (src/models/gemma.cpp, gemma2.cpp, gemma3.cpp, llama-hparams.cpp in its sources).
// gemma (v1) has only the embedding scale, GeGLU and the tied head; gemma2/3 all of:
//
//   embedding      x = token_embd[id] · sqrt(dim)
//   norms          RMSNorm weights are used as stored: the converter already added Gemma's +1
//   post-norms     post_attention_norm, post_ffw_norm on each sub-block's output, before the add
//   FFN            GeGLU: gelu_tanh(x·Wgate) · (x·Wup)
//   q scale        1/sqrt(headDim); the 27B sizes (gemma2: 46 layers, gemma3: 62) use
//                  1/sqrt(dim / heads) — llama.cpp picks by layer count and ignores
//                  query_pre_attn_scalar, so we do too
//   soft-caps      gemma2: attention logits (attn_logit_softcapping, default 50) and final
//                  logits (final_logit_softcapping, default 30); gemma3: final only, when given
//   sliding window attention.sliding_window (gemma2 default 4096; gemma3: no key, no window)
//                  on the layers il % pattern < pattern - 1, pattern from
//                  attention.sliding_window_pattern (gemma2 default 2, gemma3 6; 0: every
//                  layer, as llama.cpp's set_swa_pattern reads it) or a per-layer bool
//                  array; local layers rotate with rope.freq_base_swa
//                  (gemma2: default rope.freq_base, scaled like global layers; gemma3:
//                  default 10000, unscaled — RoPE scaling is for global layers only)
import type { Arch, ModelConfig, SlidingWindow } from './config';
import { bad, positiveFloat, positiveInt } from './metadata-values';
import type { GGUFValue } from './gguf/types';

/** Layer counts of the 27B models, whose q scale is 1/sqrt(dim / heads) in llama.cpp. */
const Q_SCALE_BY_DIM_LAYERS: Partial<Record<Arch, number>> = { gemma2: 46, gemma3: 62 };
const DEFAULT_PATTERN: Partial<Record<Arch, number>> = { gemma2: 2, gemma3: 6 };

export type GemmaFeatures = Pick<
  ModelConfig,
  'embedScale' | 'attnScale' | 'attnSoftcap' | 'finalSoftcap' | 'ffnAct' | 'postNorms' | 'slidingWindow'
>;

export interface GemmaShape {
  numLayers: number;
  dim: number;
  numHeads: number;
  headDim: number;
  ropeTheta: number;
}

/** The gemma features of `arch`, or {} for the other architectures. */
export function gemmaFeatures(md: Record<string, GGUFValue>, arch: Arch, s: GemmaShape): GemmaFeatures {
  if (arch === 'gemma') return { embedScale: Math.fround(Math.sqrt(s.dim)), ffnAct: 'gelu' };
  if (arch !== 'gemma2' && arch !== 'gemma3') return {};
  const key = (suffix: string) => `${arch}.${suffix}`;
  const byDim = s.numLayers === Q_SCALE_BY_DIM_LAYERS[arch];
  const attnScale = Math.fround(1 / Math.sqrt(byDim ? s.dim / s.numHeads : s.headDim));
  const features: GemmaFeatures = {
    embedScale: Math.fround(Math.sqrt(s.dim)),
    attnScale,
    ffnAct: 'gelu',
    postNorms: true,
  };
  if (arch === 'gemma2') {
    features.attnSoftcap = positiveFloat(md, key('attn_logit_softcapping'), 50);
    features.finalSoftcap = positiveFloat(md, key('final_logit_softcapping'), 30);
  } else if (md[key('final_logit_softcapping')] !== undefined && md[key('final_logit_softcapping')] !== 0) {
    features.finalSoftcap = positiveFloat(md, key('final_logit_softcapping'));
  }
  const windowKey = key('attention.sliding_window');
  if (arch === 'gemma3' && md[windowKey] === undefined) return features;
  const size = positiveInt(md, windowKey, 4096);
  const localLayers = localLayersOf(md, key('attention.sliding_window_pattern'), DEFAULT_PATTERN[arch]!, s.numLayers);
  const swaTheta = key('rope.freq_base_swa');
  const slidingWindow: SlidingWindow = {
    size,
    localLayers,
    ropeTheta: positiveFloat(md, swaTheta, arch === 'gemma2' ? s.ropeTheta : 10000),
    ropeScaled: arch === 'gemma2',
  };
  features.slidingWindow = slidingWindow;
  return features;
}

/** Per layer: local (true) or global. A period p makes layers il % p < p - 1 local; 0 makes all local. */
function localLayersOf(md: Record<string, GGUFValue>, patternKey: string, defaultPeriod: number, numLayers: number): boolean[] {
  const value = md[patternKey];
  if (Array.isArray(value)) {
    if (value.length !== numLayers || value.some((v) => typeof v !== 'boolean')) {
      throw bad(patternKey, `must be a period or one bool per layer (${numLayers}); got an array of ${value.length}`);
    }
    return value as boolean[];
  }
  if (value === 0) return Array.from({ length: numLayers }, () => true);
  const period = positiveInt(md, patternKey, defaultPeriod);
  return Array.from({ length: numLayers }, (_, il) => il % period < period - 1);
}
