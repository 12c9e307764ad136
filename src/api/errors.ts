// HTTP errors of the router: every failure becomes one `HttpError` (status, OpenAI error
// `type`, `code`, `param`), then one of two wire shapes — OpenAI's
// `{ error: { message, type, param, code } }` or Ollama's `{ error: "…" }`.

import { EngineError, fromRunnerError, type EngineErrorCode } from '../engine/errors';

export type HttpErrorCode =
  | EngineErrorCode
  | 'invalid_json'
  | 'not_found'
  /** `GET`/`DELETE /v1/responses/{id}` or `previous_response_id` naming no stored response. */
  | 'response_not_found'
  | 'method_not_allowed'
  | 'request_too_large'
  | 'unsupported_media_type'
  /** The Node server could not read the `Host` header or the request target (400). */
  | 'invalid_host_header'
  | 'invalid_request_target'
  /** Missing or wrong `Authorization: Bearer` with `--api-key` (401). */
  | 'invalid_api_key'
  /** The access policy refused the request's `Origin` or `Host` (403, see origin-policy.ts). */
  | 'origin_not_allowed'
  | 'host_not_allowed'
  /** `requestTimeoutMs` passed before the answer was complete (504). */
  | 'request_timeout';

export type OpenAIErrorType = 'invalid_request_error' | 'rate_limit_error' | 'server_error' | 'not_found_error';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;
  readonly type: OpenAIErrorType;
  readonly code: HttpErrorCode;
  readonly param: string | null;

  constructor(status: number, code: HttpErrorCode, message: string, param: string | null = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
    this.type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
  }
}

/** HTTP status for each engine error code (the code decides, never the message). */
// Partial: a code added later without a row here is a 500 until it gets one.
const ENGINE_STATUS: Partial<Record<EngineErrorCode, number>> = {
  invalid_request: 400,
  unknown_parameter: 400,
  unsupported_parameter: 400,
  context_length_exceeded: 400,
  model_has_no_chat_template: 400,
  model_cannot_embed: 400,
  model_cannot_generate: 400,
  // Insufficient Storage: the request is fine, this engine's memory budget is not.
  model_does_not_fit: 507,
  unsupported: 400,
  tools_not_supported_by_template: 400,
  model_not_found: 404,
  queue_full: 429,
  // 499 would be nginx's "client closed request"; nobody reads it, since the client is gone.
  aborted: 499,
  internal_error: 500,
  gpu_rejected: 500,
  kv_cache_too_small: 500,
  device_lost: 503,
  engine_not_loaded: 503,
  worker_failed: 503,
};

/** Any thrown value → HttpError; unexpected ones become 500 without leaking a stack. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const own = fromRunnerError(err);
  if (own) return toHttpError(own);
  if (err instanceof EngineError) {
    return new HttpError(ENGINE_STATUS[err.code] ?? 500, err.code, err.message, err.param ?? null);
  }
  if (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError') {
    return new HttpError(499, 'aborted', 'The request was aborted.');
  }
  const message = err instanceof Error ? err.message : String(err);
  return new HttpError(500, 'internal_error', `Internal error: ${message}`);
}

export interface OpenAIErrorBody {
  error: { message: string; type: OpenAIErrorType; param: string | null; code: string };
}

export function openaiErrorBody(err: HttpError): OpenAIErrorBody {
  return { error: { message: err.message, type: err.type, param: err.param, code: err.code } };
}

export function ollamaErrorBody(err: HttpError): { error: string } {
  return { error: err.message };
}

export const JSON_HEADERS = { 'content-type': 'application/json' } as const;

export function jsonResponse(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...Object.fromEntries(new Headers(headers)) } });
}

export function errorResponse(err: unknown, flavor: 'openai' | 'ollama'): Response {
  const httpError = toHttpError(err);
  const body = flavor === 'openai' ? openaiErrorBody(httpError) : ollamaErrorBody(httpError);
  // The code travels in a header too, so the fetch shim can spot `model_not_found` on any route.
  return jsonResponse(body, httpError.status, { 'x-tabllm-error-code': httpError.code });
}
