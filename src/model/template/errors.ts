// Errors raised while preparing or rendering a chat template. They carry a string `code`
// so they survive postMessage and map onto an OpenAI error object (400 for all three:
// the request or the model, not the server, is at fault).

export type TemplateErrorCode =
  /** The template failed to parse or render, or called `raise_exception(...)`. */
  | 'template_error'
  /** A message, tool list or extra variable given by the caller is malformed. */
  | 'invalid_message'
  /** Chat was requested for a model whose GGUF has no `tokenizer.chat_template`. */
  | 'model_has_no_chat_template';

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  constructor(
    readonly code: TemplateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The error the engine raises when a chat request reaches a model without a chat template
 * (`ChatTemplate.fromMetadata` returned null and no override was configured).
 */
export function modelHasNoChatTemplateError(modelName?: string): TemplateError {
  const who = modelName ? `model '${modelName}'` : 'this model';
  return new TemplateError(
    'model_has_no_chat_template',
    `${who} has no chat template (no tokenizer.chat_template in its GGUF); ` +
      'use the completions API, or load it with a chatTemplate override',
  );
}
