// The API key (`tabllm serve --api-key`, like vLLM's): `Authorization: Bearer KEY` on every
// route but the liveness probes. Compared in constant time so response timing does not
// reveal how much of a guess was right. Runs in browsers too (the router is shared), so
// no node:crypto.

import { HttpError } from './errors';
import { PolicyConfigError } from './origin-policy';

/** Routes a load balancer or a client probes before it knows the key (vLLM and Ollama do this). */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/health', '/']);

const encoder = new TextEncoder();

/** Equal bytes, in time that depends only on `expected`'s length. */
export function constantTimeEqual(given: Uint8Array, expected: Uint8Array): boolean {
  let diff = given.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) diff |= expected[i]! ^ (given[i] ?? 0);
  return diff === 0;
}

export interface ApiKeyCheck {
  /** The 401 for `request` on route `path`, else undefined. */
  (request: Request, path: string): HttpError | undefined;
}

/**
 * A checker for `apiKey`. Throws PolicyConfigError unless the key is visible ASCII: an
 * empty key would lock nothing, and spaces or other bytes would not survive a header.
 */
export function apiKeyCheck(apiKey: string): ApiKeyCheck {
  if (!/^[\x21-\x7e]+$/.test(apiKey)) throw new PolicyConfigError('the API key must be non-empty printable ASCII without spaces');
  const expected = encoder.encode(apiKey);
  return (request, path) => {
    if (OPEN_PATHS.has(path)) return undefined;
    const header = request.headers.get('authorization') ?? '';
    const m = /^Bearer[ \t]+(.*?)[ \t]*$/i.exec(header);
    if (m && constantTimeEqual(encoder.encode(m[1]!), expected)) return undefined;
    const why = header === '' ? 'No API key was given' : 'The API key is wrong';
    return new HttpError(401, 'invalid_api_key', `${why}: send 'Authorization: Bearer <key>' with the key the server was started with.`);
  };
}
