// Typed reads of GGUF metadata values for the config parsers, each failure a
// ModelConfigError naming the key.
import { ModelConfigError } from './config-error';
import type { GGUFValue } from './gguf/types';

export function bad(key: string, problem: string): ModelConfigError {
  return new ModelConfigError('bad_model_config', `${key} ${problem}`, key);
}

/**
 * A positive integer key; `fallback` when absent. llama.cpp allows per-layer arrays for
 * head counts; we accept them only when all layers agree (no per-layer variation supported).
 */
export function positiveInt(md: Record<string, GGUFValue>, key: string, fallback?: number): number {
  let value: GGUFValue | undefined = md[key];
  if (value === undefined) {
    if (fallback === undefined) throw bad(key, 'is missing');
    value = fallback;
  }
  if (Array.isArray(value) || ArrayBuffer.isView(value)) {
    const items = Array.from(value as ArrayLike<GGUFValue>);
    if (items.length === 0 || items.some((v) => v !== items[0])) throw bad(key, 'varies per layer, which is not supported');
    value = items[0];
  }
  if (typeof value === 'bigint') throw bad(key, `is too large (${value})`);
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw bad(key, `must be a positive integer (got ${JSON.stringify(String(value))})`);
  }
  return value;
}

export function positiveFloat(md: Record<string, GGUFValue>, key: string, fallback?: number): number {
  const value = md[key] ?? fallback;
  if (value === undefined) throw bad(key, 'is missing');
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw bad(key, `must be a positive number (got ${JSON.stringify(String(value))})`);
  }
  return value;
}
