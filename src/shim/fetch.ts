// The fetch shim: a `fetch` that answers the OpenAI/Ollama/vLLM routes from an Engine in
// this page (for any base URL), and `installFetchShim`, which patches `globalThis.fetch`
// for the API paths of a list of origins only — code written for
// `http://localhost:8000/v1` or Ollama's `http://localhost:11434` then runs on the user's
// GPU with nothing listening there, while the page's own files on such an origin
// (`/index.html`, `/data.json`) still come from the network.
// With `fallback: 'passthrough'`, a request for a model the engine has not loaded goes to
// the real server at that URL, so the same code grows from one GPU to a vLLM cluster.

import type { Engine } from '../openai/engine-api';
import { interceptsUrl, LOCAL_SERVER_ORIGINS, parseOrigin } from '../api/api-paths';
import { createRouter, type RouterOptions } from '../api/router';

export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

export interface OpenAIFetchOptions extends Omit<RouterOptions, 'onModelNotFound'> {
  /** `'passthrough'`: an unknown model goes to the real server at the URL; `'none'` (default): 404. */
  fallback?: 'passthrough' | 'none';
  /** The network fetch for passthrough (default: `globalThis.fetch` at creation time). */
  fetch?: FetchLike;
}

export interface FetchShimOptions extends OpenAIFetchOptions {
  /**
   * Origins whose API paths (`/v1/*`, `/api/*`, `/tokenize`, `/detokenize`, `/health`; `/`
   * only on an origin other than the page's) the engine answers; every other request goes
   * to the network untouched.
   */
  origins?: readonly string[];
}

export const DEFAULT_SHIM_ORIGINS: readonly string[] = LOCAL_SERVER_ORIGINS;

/** A bad `installFetchShim` option (`code: 'bad_config'`), thrown at install, before any fetch is patched. */
export class FetchShimError extends Error {
  override readonly name = 'FetchShimError';
  readonly code = 'bad_config';
  constructor(message: string) {
    super(`bad_config: ${message}`);
  }
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * As fetch does, an abort after the headers errors the body with an AbortError; the
 * reader's cancel reaches the router, which aborts the engine request.
 *
 * Takes the Request, not its signal: undici's Request follows its init signal through an
 * AbortController that only the Request object keeps alive, so a body that held just the
 * signal could outlive the controller and never see the abort.
 */
function abortableBody(body: ReadableStream<Uint8Array>, request: Request): ReadableStream<Uint8Array> {
  const signal = request.signal;
  const reader = body.getReader();
  let onAbort: (() => void) | undefined;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onAbort = () => {
          controller.error(abortError(signal));
          reader.cancel(abortError(signal)).catch(() => undefined);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        if (signal.aborted) onAbort();
      },
      async pull(controller) {
        try {
          const { value, done } = await reader.read();
          void request;
          if (signal.aborted) return;
          if (done) {
            signal.removeEventListener('abort', onAbort!);
            controller.close();
          } else controller.enqueue(value);
        } catch (err) {
          if (!signal.aborted) controller.error(err);
        }
      },
      cancel(reason) {
        signal.removeEventListener('abort', onAbort!);
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

/** A fetch-compatible function answering tabllm's routes from `engine`, whatever the host. */
export function createOpenAIFetch(engine: Engine, options: OpenAIFetchOptions = {}): FetchLike {
  const { fallback = 'none', fetch: networkFetch, ...routerOptions } = options;
  const realFetch: FetchLike = networkFetch ?? globalThis.fetch.bind(globalThis);
  const router = createRouter(engine, {
    ...routerOptions,
    onModelNotFound: fallback === 'passthrough' ? (request) => realFetch(request) : undefined,
  });
  return async (input, init) => {
    const request = new Request(input, init);
    if (request.signal.aborted) throw abortError(request.signal);
    const response = await router(request);
    if (request.signal.aborted) {
      await response.body?.cancel().catch(() => undefined);
      throw abortError(request.signal);
    }
    if (response.body === null) return response;
    return new Response(abortableBody(response.body, request), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

/** The URL fetch would request: a relative string resolves as fetch resolves it (`<base>` included). */
function urlOf(input: RequestInfo | URL): URL | undefined {
  try {
    if (input instanceof URL) return input;
    if (typeof input === 'string') return new URL(input, (globalThis as { document?: Document }).document?.baseURI ?? globalThis.location?.href);
    return new URL(input.url);
  } catch {
    return undefined;
  }
}

/**
 * Patches `globalThis.fetch` so requests for the API paths of `origins` are answered by
 * `engine`; all other requests reach the original fetch untouched. Returns `uninstall()`,
 * which restores it.
 */
export function installFetchShim(engine: Engine, options: FetchShimOptions = {}): () => void {
  const { origins = DEFAULT_SHIM_ORIGINS, ...fetchOptions } = options;
  const original = globalThis.fetch;
  const answered = new Set(
    origins.map((o) => {
      const parsed = parseOrigin(o);
      if ('problem' in parsed) throw new FetchShimError(parsed.problem);
      return parsed.origin;
    }),
  );
  // A page or worker has an origin; Node has none (see interceptsUrl).
  const pageOrigin: string | undefined = globalThis.location?.origin;
  const engineFetch = createOpenAIFetch(engine, { fetch: original.bind(globalThis), ...fetchOptions });
  const patched = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = urlOf(input);
    const ours = url !== undefined && answered.has(url.origin) && interceptsUrl(url, pageOrigin);
    // The engine gets the URL this check resolved, so both see the same request.
    if (ours) return engineFetch(typeof input === 'string' ? url : input, init);
    return original(input, init);
  };
  globalThis.fetch = patched as typeof fetch;
  return () => {
    // Only undo our own patch: another shim installed later stays in place.
    if (globalThis.fetch === (patched as typeof fetch)) globalThis.fetch = original;
  };
}
