// The service-worker relay protocol: message types (shared by worker/sw.ts and the pages)
// and the SW's own config/matching code. Page code imports only types from here, so the
// built service worker (dist/worker/sw.js) shares no chunk with the library and can be
// served alone. Nothing here touches an engine: the SW only forwards bytes.
//
//   page (any)            service worker                 host page (owns the Engine)
//   fetch(localhost:8000) ─► fetch event ── match? ──► hostPort: {type:'tabllm:request', reply port}
//                                                       router(Request) → Response
//   Response ◄────────────── ReadableStream ◄── reply: {t:'head'} {t:'chunk'}… {t:'end'|'error'}
//   abort / page gone ─────► stream cancel / signal ─► reply: {t:'abort'} → request.signal aborts
//
// Host discovery: a host page posts {type:'tabllm:host'} with a MessagePort to the active
// SW; a SW that knows no live host (e.g. restarted after idling) posts
// {type:'tabllm:discover'} to every window and hosts announce themselves again.

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
  /** Origins whose every path is relayed, e.g. `http://localhost:8000`. */
  origins: string[];
  /** Same-origin path prefixes that are relayed, e.g. `/v1/`. */
  prefixes: string[];
}

export const DEFAULT_RELAY_ORIGINS = ['http://localhost:8000', 'http://127.0.0.1:8000', 'http://localhost:11434', 'http://127.0.0.1:11434'];
export const DEFAULT_RELAY_PREFIXES = ['/v1/', '/api/'];

export function decodeRelayConfig(url: URL): RelayConfig {
  const list = (name: string, fallback: string[]) => {
    const raw = url.searchParams.get(name);
    return raw === null ? fallback : raw.split(',').filter((s) => s.length > 0);
  };
  return { origins: list('origins', DEFAULT_RELAY_ORIGINS), prefixes: list('prefixes', DEFAULT_RELAY_PREFIXES) };
}

/** Whether a fetch to `url` goes to the engine: any path of a configured origin, or a prefix on our own origin. */
export function shouldRelay(url: URL, ownOrigin: string, config: RelayConfig): boolean {
  if (config.origins.includes(url.origin)) return true;
  return url.origin === ownOrigin && config.prefixes.some((p) => url.pathname.startsWith(p));
}

/** The error a relayed request gets when no page hosts an engine, in the flavor its path expects. */
export function noHostResponse(url: URL, message: string): Response {
  const ollama = /(^|\/)api\//.test(url.pathname) && !url.pathname.includes('/v1/');
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
