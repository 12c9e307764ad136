// Errors raised while preparing or rendering a chat template. They carry a string `code`
// and, for bad caller input, the request parameter at fault (`messages[2].content`), so
// the engine can turn them into its own 400-class `invalid_request` without parsing text.

import { EngineError } from '../../engine/errors';

export type TemplateErrorCode =
  /** The template failed to parse or render, or called `raise_exception(...)`. */
  | 'template_error'
  /** A message, tool list or extra variable given by the caller is malformed. */
  | 'invalid_message';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    readonly code: TemplateErrorCode,
    message: string,
    /** The request parameter at fault, e.g. `messages[0].role` (invalid_message only). */
    readonly param?: string,
  ) {
    super(message);
  }

  /**
   * Both codes are the request's fault (HF templates raise on roles they do not accept,
   * e.g. gemma-2 on a system message), so both become `invalid_request` (HTTP 400).
   */
  toEngineError(): EngineError {
    return new EngineError('invalid_request', this.message, this.param ?? 'messages');
  }
}

/**
 * The error the engine raises when a chat request reaches a model without a chat template
 * (`ChatTemplate.fromMetadata` returned null and no override was configured).
 */
export function modelHasNoChatTemplateError(modelName?: string): EngineError {
  const who = modelName ? `model '${modelName}'` : 'this model';
  return new EngineError(
    'model_has_no_chat_template',
    `${who} has no chat template (no tokenizer.chat_template in its GGUF); ` +
      'use the completions API, or load it with a chatTemplate override',
  );
}
