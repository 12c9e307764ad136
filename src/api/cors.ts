// CORS response headers for a caller the access policy let through (origin-policy.ts
// decides who; this file says what they get). Refused origins never reach here: they get
// a bare 403, so nothing is echoed to them.

/**
 * What a preflight allows when it names no headers, or names them in a form we do not
 * echo: the `openai` SDK's headers (its `x-stainless-*` set, organization/project) and the
 * two every client sends.
 */
export const PREFLIGHT_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'openai-organization',
  'openai-project',
  'openai-beta',
  'x-stainless-arch',
  'x-stainless-async',
  'x-stainless-helper-method',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
].join(', ');

/** A comma-separated list of header names (RFC 9110 tokens), bounded; anything else is not echoed. */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9a-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9a-z-]+)*$/i;
const MAX_ECHO_CHARS = 2048;

export interface CorsOptions {
  /** The origin varies per request (an allow-list, not `*`): caches must key on it. */
  varyOrigin: boolean;
}

export function corsHeaders(allowOrigin: string, request: Request, options: CorsOptions): Record<string, string> {
  const headers: Record<string, string> = {
    'access-control-allow-origin': allowOrigin,
    'access-control-expose-headers': 'x-tabllm-error-code, content-type',
  };
  if (options.varyOrigin) headers.vary = 'Origin';
  if (request.method === 'OPTIONS') {
    headers['access-control-allow-methods'] = 'GET, POST, DELETE, OPTIONS';
    // Echo what an allowed page asked for: a `*` would not cover `Authorization`, and the
    // openai SDK adds headers over time.
    const requested = request.headers.get('access-control-request-headers')?.trim();
    headers['access-control-allow-headers'] =
      requested !== undefined && requested.length <= MAX_ECHO_CHARS && HEADER_LIST.test(requested) ? requested : PREFLIGHT_ALLOWED_HEADERS;
    headers['access-control-max-age'] = '86400';
    // Chrome's Private Network Access preflight (a public page calling localhost).
    if (request.headers.get('access-control-request-private-network') === 'true') {
      headers['access-control-allow-private-network'] = 'true';
    }
  }
  return headers;
}
