// Errors raised while preparing or rendering a chat template. They carry a string `code`
// and, for bad caller input, the request parameter at fault (`messages[2].content`), so
// the engine maps them to its own 400-class `invalid_request` (engine/errors.ts,
// `fromTemplateError`) without parsing text. This layer knows nothing of the engine.

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
}
