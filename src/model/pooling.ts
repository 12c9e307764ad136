// Embedding models' pooling, read as llama.cpp reads `<arch>.pooling_type` (enum
// llama_pooling_type: 0 none, 1 mean, 2 cls, 3 last, 4 rank) and `<arch>.attention.causal`.
//
//   mean  the average of the sequence's final hidden rows  (bge, nomic-embed, MiniLM)
//   cls   the first row ([CLS])                            (bge's own pooling)
//   last  the last row, after the final norm               (Qwen3-Embedding, gte-Qwen2)
//
// No key on a decoder: a generative model (no pooling). An encoder (bert, nomic-bert) has
// no LM head, so "none" (per-token vectors) is refused; so is rank (a reranker's
// classification head, not supported).
import type { Arch } from './config';
import { ModelConfigError } from './config-error';
import type { GGUFValue } from './gguf/types';
import { bad } from './metadata-values';

export type Pooling = 'mean' | 'cls' | 'last';

/** llama.cpp's llama_pooling_type values, in enum order. */
const POOLING_TYPES = ['none', 'mean', 'cls', 'last', 'rank'] as const;

export const ENCODER_ARCHS: readonly Arch[] = ['bert', 'nomic-bert'];

export function isEncoderArch(arch: Arch): boolean {
  return ENCODER_ARCHS.includes(arch);
}

/** The model's pooling, or undefined for a generative model. */
export function parsePooling(md: Record<string, GGUFValue>, arch: Arch): Pooling | undefined {
  const key = `${arch}.pooling_type`;
  const value = md[key];
  const encoder = isEncoderArch(arch);
  if (value === undefined) {
    if (encoder) throw bad(key, `is missing; an ${arch} model is an embedding model and needs mean, cls or last pooling`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= POOLING_TYPES.length) {
    throw bad(key, `must be one of llama.cpp's pooling types 0..4 (none, mean, cls, last, rank), got ${JSON.stringify(String(value))}`);
  }
  const type = POOLING_TYPES[value];
  if (type === 'rank') throw new ModelConfigError('unsupported_architecture', `${key} = 4 (rank: a reranker head) is not supported`, key);
  if (type === 'none') {
    if (encoder) throw bad(key, `is 0 (none): per-token vectors are not supported; an ${arch} model needs mean, cls or last pooling`);
    return undefined;
  }
  return type;
}

/** `<arch>.attention.causal`: llama.cpp's default is causal (true) for every architecture. */
export function parseCausal(md: Record<string, GGUFValue>, arch: Arch): boolean {
  const key = `${arch}.attention.causal`;
  const value = md[key];
  if (value === undefined) return true;
  if (typeof value !== 'boolean') throw bad(key, 'must be a boolean');
  return value;
}
