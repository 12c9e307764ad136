// The service-worker relay protocol: message types (shared by worker/sw.ts and the pages)
// and the SW's own config/matching code. Page code imports only types from here; the
// service worker is built alone (scripts/build.mjs), so dist/worker/sw.js can be served
// alone. Nothing here touches an engine: the SW only forwards bytes.
//
//   page (any)            service worker                 host page (owns the Engine)
//   fetch(localhost:8000) ─► fetch event ── match? ──► hostPort: {type:'tabllm:request', reply port}
//                                                       router(Request) → Response
//   Response ◄────────────── ReadableStream ◄── reply: {t:'head'} {t:'chunk'}… {t:'end'|'error'}
//   abort / page gone ─────► stream cancel / signal ─► reply: {t:'abort'} → request.signal aborts
//
// What is relayed: the API paths (src/api/api-paths.ts) of the configured other origins,
// and of opted-in prefixes on the SW's own origin; everything else goes to the network.
//
// Host discovery: a host page posts {type:'tabllm:host'} with a MessagePort to the active
// SW; a SW that knows no live host (e.g. restarted after idling) posts
// {type:'tabllm:discover'} to every window and hosts announce themselves again.

import { interceptsUrl, LIVENESS_PATH, LOCAL_SERVER_ORIGINS, routePath } from '../api/api-paths';

/** Page → SW (with the host port transferred). */
export interface HostAnnounce {
  type: 'tabllm:host';
}
/** Host → SW on the host port: this page no longer hosts (its port is closing). */
export interface HostWithdraw {
  type: 'tabllm:unhost';
}
/** SW → page: "announce yourself if you host an engine". */
export interface DiscoverHosts {
  type: 'tabllm:discover';
}
/** Page → SW: take control of this (uncontrolled) page. */
export interface ClaimRequest {
  type: 'tabllm:claim';
}
/** SW → host, on the host port, once the host is registered. */
export interface HostAck {
  type: 'tabllm:hosted';
}

/** SW → host, on the host port, with the request's reply port transferred. */
export interface RelayRequest {
  type: 'tabllm:request';
  url: string;
  method: string;
  headers: [string, string][];
  body: ArrayBuffer | null;
}

/** Host → SW on the reply port. */
export type RelayReply =
  | { t: 'head'; status: number; statusText: string; headers: [string, string][] }
  | { t: 'chunk'; bytes: Uint8Array }
  | { t: 'end' }
  | { t: 'error'; message: string };

/** SW → host on the reply port: the requesting client went away. */
export interface RelayAbort {
  t: 'abort';
}

export interface RelayConfig {
  /**
   * Other origins whose API paths are relayed (`/v1/*`, `/api/*`, `/tokenize`,
   * `/detokenize`, `/health`, and Ollama's `/`), e.g. `http://localhost:8000`.
   */
  origins: string[];
  /**
   * Path prefixes on the service worker's own origin whose API paths are relayed, e.g.
   * `/llm/` for `/llm/v1/…`. Default none: the app's own `/api/…` stays its server's.
   */
  sameOriginPrefixes: string[];
}

export const DEFAULT_RELAY_ORIGINS: readonly string[] = LOCAL_SERVER_ORIGINS;

export function decodeRelayConfig(url: URL): RelayConfig {
  const list = (name: keyof RelayConfig, fallback: readonly string[]) => {
    const raw = url.searchParams.get(name);
    return raw === null ? [...fallback] : raw.split(',').filter((s) => s.length > 0);
  };
  return { origins: list('origins', DEFAULT_RELAY_ORIGINS), sameOriginPrefixes: list('sameOriginPrefixes', []) };
}

/**
 * Whether a fetch to `url` goes to the engine: an API path of a configured origin, or of
 * an opted-in prefix on our own origin (which is never relayed by the origin list: a page
 * served from `localhost:8000` keeps its own routes unless it lists a prefix).
 */
export function shouldRelay(url: URL, ownOrigin: string, config: RelayConfig): boolean {
  if (url.origin !== ownOrigin) return config.origins.includes(url.origin) && interceptsUrl(url, ownOrigin);
  return config.sameOriginPrefixes.some((p) => url.pathname.startsWith(p)) && interceptsUrl(url, ownOrigin);
}

/** The error a relayed request gets when no page hosts an engine, in the flavor its path expects. */
export function noHostResponse(url: URL, message: string): Response {
  const path = routePath(url.pathname);
  const ollama = path === LIVENESS_PATH || path.startsWith('/api/');
  const body = ollama
    ? { error: message }
    : { error: { message, type: 'server_error', param: null, code: 'no_engine_host' } };
  return new Response(JSON.stringify(body), {
    status: 503,
    headers: {
      'content-type': 'application/json',
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'x-tabllm-error-code, content-type',
      'x-tabllm-error-code': 'no_engine_host',
    },
  });
}
