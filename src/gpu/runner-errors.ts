// Errors of the WebGPU model runner: a bad step from the engine, a KV budget that buys
// nothing, a model whose tensors the GPU path cannot load.

export type RunnerErrorCode =
  /** A StepInput that breaks the step contract (src/engine/types.ts): an engine bug. */
  | 'bad_step_input'
  | 'bad_kv_cache_bytes'
  | 'kv_cache_too_small'
  /** A tensor could not be read or uploaded (unsupported type, short read, too large). */
  | 'model_load_failed'
  /** WebGPU validation refused what a step recorded: a runner or kernel bug, never the caller's input. */
  | 'gpu_rejected'
  /** step() after destroy(), or two steps at once. */
  | 'runner_unavailable';

export class RunnerError extends Error {
  override readonly name = 'RunnerError';
  constructor(
    readonly code: RunnerErrorCode,
    message: string,
  ) {
    super(message);
  }
}
