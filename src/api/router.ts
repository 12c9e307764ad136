// createRouter(engine) → (Request) => Promise<Response>: the one HTTP front door, used by
// the fetch shim, the service worker and the Node server alike. It owns what is common
// to every route — access policy (Origin, Host, API key), route table, method check, body
// size limit, JSON parsing, CORS, the client-abort signal and the request deadline, and
// turning any failure into the route's error shape.

import type { Engine } from '../openai/engine-api';
import { API_ROOT_PATHS, isApiPath, LIVENESS_PATH, routePath } from './api-paths';
import { apiKeyCheck } from './auth';
import { combineSignals, type RouteContext } from './context';
import { corsHeaders } from './cors';
import { startDeadline, untilDeadline } from './deadline';
import { errorResponse, HttpError, toHttpError } from './errors';
import { createEmbeddings } from './embeddings';
import * as ollama from './ollama';
import * as ollamaEmbed from './ollama-embed';
import * as openai from './openai';
import { checkAccess, compileAccess, PolicyConfigError, type LocalAccessOptions } from './origin-policy';
import * as responses from './responses';
import { ResponseStore } from './responses-store';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../openai/validate';

export interface RouterOptions {
  /** Largest accepted request body in bytes (default 4 MiB); larger → 413. */
  maxBodyBytes?: number;
  /**
   * Who may call, by the request's `Origin` and `Host`.
   *
   * `'open'` (the default) suits the fetch shim and the service worker: there the router
   * runs inside the page and listens on no network, so every origin gets CORS headers
   * (`corsOrigin`). A network-facing host passes `LocalAccessOptions` (`tabllm serve`
   * always does): same-machine origins and `allowOrigins` get CORS headers and the
   * private-network grant; any other `Origin` gets 403 `origin_not_allowed` before the body
   * is read; with `checkHost`, a `Host` other than this machine's names gets 403
   * `host_not_allowed` (DNS rebinding). Requests without an `Origin` pass.
   */
  access?: 'open' | LocalAccessOptions;
  /** `Access-Control-Allow-Origin` value in `'open'` access (default `*`); `false` sends no CORS headers. */
  corsOrigin?: string | false;
  /** Requires `Authorization: Bearer <apiKey>` on every route but `/health` and `/` (else 401 `invalid_api_key`). */
  apiKey?: string;
  /**
   * A deadline per request in ms (default none): when it passes, the engine request is
   * aborted and the client gets 504 `request_timeout`, in-band if a stream had begun.
   */
  requestTimeoutMs?: number;
  /**
   * Answers a request that names a model the engine has not loaded, instead of a 404
   * `model_not_found` (the fetch shim's passthrough to a real server). It gets a fresh
   * copy of the request, body included.
   */
  onModelNotFound?: (request: Request) => Promise<Response>;
  /** How many Responses API answers are kept for `previous_response_id` (LRU; default 100, 0 = none). */
  maxStoredResponses?: number;
}

export type Router = (request: Request) => Promise<Response>;

type Flavor = 'openai' | 'ollama';
type Handler = (ctx: RouteContext) => Promise<Response>;
type Method = 'GET' | 'POST' | 'DELETE';

interface Route {
  path: string;
  /** Matches `path/…`; the rest becomes `ctx.pathParam`. */
  prefix?: boolean;
  flavor: Flavor;
  methods: Partial<Record<Method, Handler>>;
}

const text = (body: string) => async () => new Response(body, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });

const ROUTES: Route[] = [
  { path: '/v1/chat/completions', flavor: 'openai', methods: { POST: openai.chatCompletions } },
  { path: '/v1/completions', flavor: 'openai', methods: { POST: openai.completions } },
  { path: '/v1/responses', flavor: 'openai', methods: { POST: responses.createResponse } },
  { path: '/v1/responses', prefix: true, flavor: 'openai', methods: { GET: responses.retrieveResponse, DELETE: responses.deleteResponse } },
  { path: '/v1/embeddings', flavor: 'openai', methods: { POST: createEmbeddings } },
  { path: '/v1/models', flavor: 'openai', methods: { GET: openai.listModels } },
  { path: '/v1/models', prefix: true, flavor: 'openai', methods: { GET: openai.retrieveModel } },
  { path: '/tokenize', flavor: 'openai', methods: { POST: openai.tokenize } },
  { path: '/detokenize', flavor: 'openai', methods: { POST: openai.detokenize } },
  { path: '/health', flavor: 'openai', methods: { GET: text('') } },
  { path: '/api/chat', flavor: 'ollama', methods: { POST: ollama.chat } },
  { path: '/api/generate', flavor: 'ollama', methods: { POST: ollama.generate } },
  { path: '/api/tags', flavor: 'ollama', methods: { GET: ollama.tags } },
  { path: '/api/show', flavor: 'ollama', methods: { POST: ollama.show } },
  { path: '/api/ps', flavor: 'ollama', methods: { GET: ollama.ps } },
  { path: '/api/version', flavor: 'ollama', methods: { GET: ollama.version } },
  { path: '/api/embed', flavor: 'ollama', methods: { POST: ollamaEmbed.embed } },
  { path: '/api/embeddings', flavor: 'ollama', methods: { POST: ollamaEmbed.embeddingsLegacy } },
  // Ollama's liveness probe; some clients check it before anything else.
  { path: '/', flavor: 'ollama', methods: { GET: text('Ollama is running') } },
];

// The base-URL prefix rule lives with the API paths; callers of the router import it here too.
export { routePath };

function findRoute(path: string): { route: Route; pathParam: string } | undefined {
  for (const route of ROUTES) {
    if (!route.prefix && path === route.path) return { route, pathParam: '' };
    if (route.prefix && path.startsWith(`${route.path}/`) && path.length > route.path.length + 1) {
      const raw = path.slice(route.path.length + 1);
      let pathParam = raw;
      try {
        pathParam = decodeURIComponent(raw);
      } catch {
        // Malformed %-escape: match on the raw text (it names no model, so a 404 follows).
      }
      return { route, pathParam };
    }
  }
  return undefined;
}

// The fetch shim and the service worker take exactly api-paths.ts's paths from a page: a
// route outside them would go to the network there, a root path with no route would 404.
for (const route of ROUTES) {
  if (route.path !== LIVENESS_PATH && !isApiPath(route.path)) throw new Error(`route ${route.path} is outside the API paths of src/api/api-paths.ts`);
}
for (const path of API_ROOT_PATHS) {
  if (!findRoute(path)) throw new Error(`API_ROOT_PATHS lists ${path}, which has no route`);
}

async function readBody(request: Request, maxBytes: number): Promise<Uint8Array<ArrayBuffer>> {
  const tooLarge = () => new HttpError(413, 'request_too_large', `The request body is larger than ${maxBytes} bytes.`);
  const declared = Number(request.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw tooLarge();
  if (request.body === null) return new Uint8Array(0);
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}

function parseJson(bytes: Uint8Array): unknown {
  if (bytes.byteLength === 0) throw new HttpError(400, 'invalid_json', 'The request body is empty; expected JSON.');
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new HttpError(400, 'invalid_json', `The request body is not valid JSON: ${(err as Error).message}`);
  }
  // JSON.parse takes any depth; a body copied to a worker (structured clone) would not.
  if (nestsDeeperThan(body, MAX_JSON_DEPTH)) {
    throw new HttpError(400, 'invalid_request', `The request body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  return body;
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  const merged = new Headers(response.headers);
  for (const [name, value] of Object.entries(headers)) merged.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: merged });
}

function flavorOf(found: { route: Route } | undefined, path: string): Flavor {
  return found?.route.flavor ?? (path.startsWith('/api/') ? 'ollama' : 'openai');
}

export function createRouter(engine: Engine, options: RouterOptions = {}): Router {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const responseStore = new ResponseStore(options.maxStoredResponses);
  // Options are checked here, once: a bad entry throws PolicyConfigError at startup.
  const access = options.access === undefined || options.access === 'open' ? undefined : compileAccess(options.access);
  const openCorsOrigin = options.corsOrigin ?? '*';
  const checkApiKey = options.apiKey === undefined ? undefined : apiKeyCheck(options.apiKey);
  const timeoutMs = options.requestTimeoutMs;
  if (timeoutMs !== undefined && !(timeoutMs > 0 && Number.isFinite(timeoutMs))) {
    throw new PolicyConfigError(`requestTimeoutMs must be a positive number of milliseconds, got ${timeoutMs}`);
  }

  async function route(request: Request, url: URL, path: string): Promise<Response> {
    const found = findRoute(path);
    const flavor = flavorOf(found, path);
    // Preflights carry no credentials; the policy already vetted their origin.
    if (request.method === 'OPTIONS') return new Response(null, { status: 204 });
    const unauthorized = checkApiKey?.(request, path);
    if (unauthorized) return withHeaders(errorResponse(unauthorized, flavor), { 'www-authenticate': 'Bearer' });
    if (!found) return errorResponse(new HttpError(404, 'not_found', `No route for ${request.method} ${url.pathname}.`), flavor);
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    // hasOwn: an HTTP method may be any token, `constructor` included.
    const handler = Object.hasOwn(found.route.methods, method) ? found.route.methods[method as Method] : undefined;
    if (!handler) {
      const allow = [...Object.keys(found.route.methods), 'OPTIONS'].join(', ');
      const response = errorResponse(new HttpError(405, 'method_not_allowed', `Method ${request.method} is not allowed on ${path}; use ${allow}.`), flavor);
      return withHeaders(response, { allow });
    }
    let rawBody: Uint8Array<ArrayBuffer> | undefined;
    const controller = new AbortController();
    const deadline = timeoutMs === undefined ? undefined : startDeadline(timeoutMs, (err) => controller.abort(err));
    const work = (async () => {
      let body: unknown;
      if (method === 'POST') {
        rawBody = await readBody(request, maxBodyBytes);
        body = parseJson(rawBody);
      }
      const ctx: RouteContext = {
        engine,
        request,
        url,
        pathParam: found.pathParam,
        body,
        signal: combineSignals(request.signal, controller.signal),
        abort: () => controller.abort(),
        responses: responseStore,
      };
      const response = await handler(ctx);
      return request.method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
    })();
    try {
      // The race answers on time even while a handler or a slow body upload ignores the abort.
      if (deadline === undefined) return await work;
      return untilDeadline(await Promise.race([work, deadline.expired]), deadline);
    } catch (err) {
      controller.abort();
      deadline?.clear();
      if (deadline?.error !== undefined) {
        // A late answer goes nowhere; cancelling its body releases what it holds.
        work.then((late) => late.body?.cancel(), () => undefined).catch(() => undefined);
        return errorResponse(deadline.error, flavor);
      }
      const httpError = toHttpError(err);
      if (httpError.code === 'model_not_found' && options.onModelNotFound) {
        return options.onModelNotFound(
          new Request(request.url, { method: request.method, headers: request.headers, body: rawBody, signal: request.signal }),
        );
      }
      return errorResponse(httpError, flavor);
    }
  }

  return async (request) => {
    const url = new URL(request.url);
    const path = routePath(url.pathname);
    const origin = request.headers.get('origin');
    if (access === undefined) {
      const response = await route(request, url, path);
      if (openCorsOrigin === false) return response;
      // A passthrough response comes from a real server that sets its own CORS headers.
      if (response.headers.has('access-control-allow-origin')) return response;
      return withHeaders(response, corsHeaders(openCorsOrigin, request, { varyOrigin: false }));
    }
    // Both names when they differ: an absolute-form request target names its own host.
    const hostHeader = request.headers.get('host');
    const hosts = hostHeader === null || hostHeader.toLowerCase() === url.host ? [url.host] : [url.host, hostHeader];
    // Refused before the body is read and with no CORS headers: the page learns nothing.
    const refused = checkAccess(access, origin, hosts);
    if (refused) return errorResponse(refused, flavorOf(findRoute(path), path));
    const response = await route(request, url, path);
    if (origin === null || response.headers.has('access-control-allow-origin')) return response;
    return withHeaders(response, corsHeaders(origin, request, { varyOrigin: true }));
  };
}
