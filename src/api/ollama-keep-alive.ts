// Ollama's `keep_alive`: how long a model stays loaded after a request. tabllm keeps models
// until they are unloaded, so the one value that acts is zero ("unload now"); any other
// duration is checked for its form and otherwise has no effect.

import type { Engine } from '../openai/engine-api';
import { invalid, type Check } from '../openai/validate';

/** Go's duration syntax as Ollama reads it ("5m", "1h30m", "-1", "0"), or a number of seconds. */
const DURATION = /^-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h)?)+$/;

export const keepAlive: Check = (v, p) => {
  if (typeof v === 'number' && Number.isFinite(v)) return;
  if (typeof v === 'string' && DURATION.test(v.trim())) return;
  throw invalid(p, `'${p}' must be a number of seconds or a duration like '5m', got ${JSON.stringify(v)}.`);
};

/** `keep_alive: 0` (or "0", "0s", "0m"): unload the model once this request is answered. */
export function keepAliveIsZero(v: unknown): boolean {
  if (typeof v === 'number') return v === 0;
  return typeof v === 'string' && /^0+(\.0+)?(ns|us|µs|ms|s|m|h)?$/.test(v.trim());
}

/** Unloads `model` where the engine can (a multi-model engine); true when it did. */
export async function unloadForKeepAlive(engine: Engine, model: string): Promise<boolean> {
  if (!engine.unloadModel) return false;
  await engine.unloadModel(model);
  return true;
}
