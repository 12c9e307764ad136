// The coded error for a GGUF whose metadata does not describe a model we can run
// (shared by config-parse.ts and rope-scaling.ts).

export type ModelConfigErrorCode = 'bad_model_config' | 'unsupported_architecture';

export class ModelConfigError extends Error {
  override readonly name = 'ModelConfigError';
  constructor(
    readonly code: ModelConfigErrorCode,
    message: string,
    /** The metadata key or tensor name at fault. */
    readonly key?: string,
  ) {
    super(message);
  }
}
