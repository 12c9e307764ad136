// Engine errors: one class with a string `code`, shared by the in-thread engine, the worker
// client and the HTTP router. The code (not the message) decides the HTTP status, and it
// survives postMessage through `toJSON()` / `EngineError.fromJSON()`.

export type EngineErrorCode =
  | 'invalid_request'
  /** A request field no table knows (OpenAI: "Unrecognized request argument"). */
  | 'unknown_parameter'
  /** A field tabllm knows but does not support with this value (`tools`, `response_format`). */
  | 'unsupported_parameter'
  | 'context_length_exceeded'
  | 'queue_full'
  | 'model_not_found'
  | 'model_has_no_chat_template'
  /** An embeddings request for a model without pooling (a chat model) (#17). */
  | 'model_cannot_embed'
  /** A chat/completions request for an embedding model (#17). */
  | 'model_cannot_generate'
  /** A model whose weights and KV pool do not fit what is left of the engine's GPU memory budget (#17). */
  | 'model_does_not_fit'
  | 'unsupported'
  /** `tools` offered to a model whose chat template does not render them (or writes calls in an unknown format). */
  | 'tools_not_supported_by_template'
  | 'device_lost'
  /** WebGPU refused what a step recorded (the runner's own code, src/gpu/runner-errors.ts): a tabllm bug. */
  | 'gpu_rejected'
  /** The KV cache budget buys not one block (the runner's own code, at load). */
  | 'kv_cache_too_small'
  | 'engine_not_loaded'
  /** A worker hosting the engine did not start (script missing or not JS, threw, never answered). */
  | 'worker_failed'
  | 'aborted'
  | 'internal_error';

export interface EngineErrorJSON {
  code: EngineErrorCode;
  message: string;
  param?: string;
}

export class EngineError extends Error {
  readonly code: EngineErrorCode;
  /** The request parameter at fault, when there is one (`messages[2].content`, `temperature`). */
  readonly param: string | undefined;

  constructor(code: EngineErrorCode, message: string, param?: string) {
    super(message);
    this.code = code;
    this.param = param;
    // Named like fetch's abort so `err.name === 'AbortError'` checks work across the stack.
    this.name = code === 'aborted' ? 'AbortError' : 'EngineError';
  }

  toJSON(): EngineErrorJSON {
    return this.param === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, param: this.param };
  }

  static fromJSON(json: EngineErrorJSON): EngineError {
    return new EngineError(json.code, json.message, json.param);
  }
}

export function isEngineError(value: unknown): value is EngineError {
  return value instanceof EngineError;
}

/** True for an EngineError `aborted` and for DOM/fetch AbortErrors. */
export function isAbortError(value: unknown): boolean {
  return (
    (value instanceof EngineError && value.code === 'aborted') ||
    (typeof value === 'object' && value !== null && (value as { name?: unknown }).name === 'AbortError')
  );
}

/**
 * A chat template's error as the engine's: both template codes are the request's fault (HF
 * templates raise on roles they do not accept, e.g. gemma-2 on a system message), so both
 * become `invalid_request` (HTTP 400), keeping the parameter at fault.
 */
export function fromTemplateError(err: { message: string; param?: string }): EngineError {
  return new EngineError('invalid_request', err.message, err.param ?? 'messages');
}

/**
 * The error raised when a chat request reaches a model without a chat template (none in the
 * GGUF and no override configured).
 */
export function modelHasNoChatTemplateError(modelName?: string): EngineError {
  const who = modelName ? `model '${modelName}'` : 'this model';
  return new EngineError(
    'model_has_no_chat_template',
    `${who} has no chat template (no tokenizer.chat_template in its GGUF); ` +
      'use the completions API, or load it with a chatTemplate override',
    'messages',
  );
}

/**
 * The codes a model runner's own errors carry (src/gpu/runner-errors.ts, GpuError) that reach
 * the caller as they are: the runner is below the engine and defines its own error classes;
 * this is the one place their codes become engine (and so HTTP) codes. Any other runner
 * failure is `internal_error`.
 */
const RUNNER_CODES: ReadonlySet<EngineErrorCode> = new Set<EngineErrorCode>(['device_lost', 'gpu_rejected', 'kv_cache_too_small']);

/** A lower layer's error with one of RUNNER_CODES as an EngineError (same code and message), else undefined. */
export function fromRunnerError(err: unknown): EngineError | undefined {
  if (err instanceof EngineError || typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !RUNNER_CODES.has(code as EngineErrorCode)) return undefined;
  return new EngineError(code as EngineErrorCode, err instanceof Error ? err.message : String(err));
}

/** Grammar-layer codes (src/grammar/errors.ts) → engine codes; absent: `unsupported`. */
const GRAMMAR_CODES: Record<string, EngineErrorCode> = {
  invalid_grammar: 'invalid_request',
  grammar_queue_full: 'queue_full',
  grammar_worker_failed: 'worker_failed',
};

/**
 * A grammar-layer error (src/grammar/errors.ts) as the engine's: a constraint XGrammar cannot
 * compile is the request's fault (`invalid_request`, 400, naming the construct and the
 * parameter); a full compile queue is `queue_full` (429, try again); a grammar worker that
 * ended is `worker_failed` (503); a grammar engine that cannot load here is `unsupported`.
 * Anything else passes through.
 */
export function fromGrammarError(err: unknown): EngineError | undefined {
  if (err instanceof EngineError || typeof err !== 'object' || err === null || (err as { name?: unknown }).name !== 'GrammarError') return undefined;
  const e = err as { code: string; message: string; param?: string };
  return new EngineError(GRAMMAR_CODES[e.code] ?? 'unsupported', e.message, e.param ?? 'response_format');
}
