// The service-worker relay protocol, shared by worker/sw.ts, the host page and the page
// that registers the worker. Nothing here touches an engine: the SW only forwards bytes.
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

export type RelayErrorCode = 'service_worker_unavailable' | 'bad_config' | 'not_controlled' | 'no_engine_host' | 'host_gone';

export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly code: RelayErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Config travels in the SW script URL, so a restarted SW still knows it. */
export function encodeRelayConfig(url: URL, config: RelayConfig): URL {
  const out = new URL(url.href);
  out.searchParams.set('origins', config.origins.join(','));
  out.searchParams.set('prefixes', config.prefixes.join(','));
  return out;
}

export function decodeRelayConfig(url: URL): RelayConfig {
  const list = (name: string, fallback: string[]) => {
    const raw = url.searchParams.get(name);
    return raw === null ? fallback : raw.split(',').filter((s) => s.length > 0);
  };
  return { origins: list('origins', DEFAULT_RELAY_ORIGINS), prefixes: list('prefixes', DEFAULT_RELAY_PREFIXES) };
}

/** Normalizes and checks a config given by the page; a bad origin or prefix is a coded error. */
export function checkRelayConfig(config: Partial<RelayConfig>): RelayConfig {
  const origins = (config.origins ?? DEFAULT_RELAY_ORIGINS).map((o) => {
    let url: URL;
    try {
      url = new URL(o);
    } catch {
      throw new RelayError('bad_config', `origin '${o}' is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RelayError('bad_config', `origin '${o}' is not http(s)`);
    if (url.pathname !== '/' || url.search || url.hash) throw new RelayError('bad_config', `origin '${o}' has a path; give only scheme://host:port`);
    return url.origin;
  });
  const prefixes = (config.prefixes ?? DEFAULT_RELAY_PREFIXES).map((p) => {
    if (!p.startsWith('/') || p.includes(',')) throw new RelayError('bad_config', `prefix '${p}' must start with '/' and contain no ','`);
    return p;
  });
  return { origins, prefixes };
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
