// The API's place on a URL: which paths are the API's (the router's route paths, and what
// the fetch shim and the service worker may take from a page), the base-URL prefix rule,
// and the origins the interceptors answer (the local-server defaults, the origin check).
// Dependency-free: the service worker bundles it alone (see scripts/build.mjs). router.ts
// checks at load that every route it serves falls under `isApiPath` (or is the root
// liveness probe) and that every root path has a route.

/**
 * The two API families' path namespaces (`/v1/…` OpenAI/vLLM, `/api/…` Ollama): everything
 * under them is the API's, so an unknown `/v1/x` gets the API's 404, not the network.
 */
export const API_NAMESPACES = ['v1', 'api'] as const;

/** vLLM's API paths outside the namespaces (exact paths; a trailing `/` is ignored). */
export const API_ROOT_PATHS: readonly string[] = ['/tokenize', '/detokenize', '/health'];

/**
 * Ollama's liveness probe (`GET /` → "Ollama is running"). The router answers it, but it is
 * also every site's index page, so the interceptors claim it only where it cannot be the
 * page's own (see `interceptsUrl`).
 */
export const LIVENESS_PATH = '/';

/** Where local servers listen: vLLM (`vllm serve`, port 8000) and Ollama (11434). */
export const LOCAL_SERVER_ORIGINS: readonly string[] = [
  'http://localhost:8000',
  'http://127.0.0.1:8000',
  'http://localhost:11434',
  'http://127.0.0.1:11434',
];

/** An origin given to an interceptor (`scheme://host[:port]`, http or https), or why it is not one. */
export function parseOrigin(text: string): { origin: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: `origin '${text}' is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: `origin '${text}' is not http(s)` };
  if (url.pathname !== '/' || url.search || url.hash) return { problem: `origin '${text}' has a path; give only scheme://host:port` };
  return { origin: url.origin };
}

const NAMESPACE_SEGMENT = new RegExp(`/(${API_NAMESPACES.join('|')})(/|$)`);

/**
 * The route path of a URL path: a base URL may carry a prefix (`https://host/llm/v1`), so
 * everything before the first `/v1` or `/api` segment is dropped.
 */
export function routePath(pathname: string): string {
  const trimmed = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const at = trimmed.search(NAMESPACE_SEGMENT);
  return at > 0 ? trimmed.slice(at) : trimmed;
}

/**
 * Whether a URL path is the API's: under a namespace (after the base-URL prefix rule, so
 * `/llm/v1/models` is) or one of the root paths. `/` is not (see `LIVENESS_PATH`).
 */
export function isApiPath(pathname: string): boolean {
  const path = routePath(pathname);
  return NAMESPACE_SEGMENT.test(path) || API_ROOT_PATHS.includes(path);
}

/**
 * Whether an interceptor (fetch shim, service worker) takes `url` from the network, given
 * that its origin is one the interceptor answers: an API path, or the liveness probe `/`
 * when there is a page (`pageOrigin`) and the URL is on another origin. Without a page
 * (Node) the process may itself serve that origin, so `/` stays the network's.
 */
export function interceptsUrl(url: URL, pageOrigin: string | undefined): boolean {
  if (url.pathname === LIVENESS_PATH) return pageOrigin !== undefined && url.origin !== pageOrigin;
  return isApiPath(url.pathname);
}
