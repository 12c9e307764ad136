// The user-facing range of every bounded numeric sampling parameter, written once. The
// OpenAI and Ollama tables (params.ts, validate.ts's logit_bias) and the WebLLM layer's
// checks (src/compat/webllm/request.ts) read them from here; the engine core below only
// asserts what its sampler can run (src/engine/request.ts).
import { MAX_CHOICES } from '../engine/request';
import { MAX_TOP_LOGPROBS } from '../engine/types';

export interface Range {
  min: number;
  max: number;
  /** The bound itself is outside (top_p 0 would keep no token). */
  minExclusive?: boolean;
}

export const RANGES = {
  n: { min: 1, max: MAX_CHOICES },
  temperature: { min: 0, max: 2 },
  top_p: { min: 0, max: 1, minExclusive: true },
  min_p: { min: 0, max: 1 },
  presence_penalty: { min: -2, max: 2 },
  frequency_penalty: { min: -2, max: 2 },
  repetition_penalty: { min: 0, max: 2, minExclusive: true },
  /** Also completions' `logprobs` (a count there). */
  top_logprobs: { min: 0, max: MAX_TOP_LOGPROBS },
  /** Each value of `logit_bias`. */
  logit_bias: { min: -100, max: 100 },
} as const satisfies Record<string, Range>;

/** `max_tokens`-like counts: bounded so a sum with the prompt stays a safe integer. */
export const MAX_TOKENS = 1 << 30;

/** Whether `v` (a number) lies in `r`; NaN lies in none. */
export function inRange(v: number, r: Range): boolean {
  return (r.minExclusive ? v > r.min : v >= r.min) && v <= r.max;
}
