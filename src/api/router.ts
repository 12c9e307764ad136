// createRouter(engine) → (Request) => Promise<Response>: the one HTTP front door, used by
// the fetch shim, the service worker and the Node server alike. It owns what is common
// to every route — route table, method check, body size limit, JSON parsing, CORS, the
// client-abort signal, and turning any failure into the route's error shape.

import type { Engine } from '../engine/engine-api';
import { errorResponse, HttpError, toHttpError } from './errors';
import { combineSignals, type RouteContext } from './context';
import * as ollama from './ollama';
import * as openai from './openai';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './validate';

export interface RouterOptions {
  /** Largest accepted request body in bytes (default 4 MiB); larger → 413. */
  maxBodyBytes?: number;
  /** `Access-Control-Allow-Origin` value (default `*`); `false` sends no CORS headers. */
  corsOrigin?: string | false;
  /**
   * Answers a request that names a model the engine has not loaded, instead of a 404
   * `model_not_found` (the fetch shim's passthrough to a real server). It gets a fresh
   * copy of the request, body included.
   */
  onModelNotFound?: (request: Request) => Promise<Response>;
}

export type Router = (request: Request) => Promise<Response>;

type Flavor = 'openai' | 'ollama';
type Handler = (ctx: RouteContext) => Promise<Response>;

interface Route {
  path: string;
  /** Matches `path/…`; the rest becomes `ctx.pathParam`. */
  prefix?: boolean;
  flavor: Flavor;
  methods: Partial<Record<'GET' | 'POST', Handler>>;
}

const text = (body: string) => async () => new Response(body, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });

const ROUTES: Route[] = [
  { path: '/v1/chat/completions', flavor: 'openai', methods: { POST: openai.chatCompletions } },
  { path: '/v1/completions', flavor: 'openai', methods: { POST: openai.completions } },
  { path: '/v1/embeddings', flavor: 'openai', methods: { POST: openai.embeddings } },
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
  { path: '/api/embed', flavor: 'ollama', methods: { POST: ollama.embed } },
  { path: '/api/embeddings', flavor: 'ollama', methods: { POST: ollama.embeddingsLegacy } },
  // Ollama's liveness probe; some clients check it before anything else.
  { path: '/', flavor: 'ollama', methods: { GET: text('Ollama is running') } },
];

/**
 * The route path of a URL path: a base URL may carry a prefix (`https://host/llm/v1`), so
 * everything before the first `/v1` or `/api` segment is dropped.
 */
export function routePath(pathname: string): string {
  const trimmed = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const at = trimmed.search(/\/(v1|api)(\/|$)/);
  return at > 0 ? trimmed.slice(at) : trimmed;
}

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

function corsHeaders(origin: string, request: Request): Record<string, string> {
  const headers: Record<string, string> = {
    'access-control-allow-origin': origin,
    'access-control-expose-headers': 'x-tabllm-error-code, content-type',
  };
  if (request.method === 'OPTIONS') {
    headers['access-control-allow-methods'] = 'GET, POST, OPTIONS';
    // Echo what the page asked for: a `*` would not cover `Authorization`.
    headers['access-control-allow-headers'] = request.headers.get('access-control-request-headers') ?? 'authorization, content-type';
    headers['access-control-max-age'] = '86400';
    // Chrome's Private Network Access preflight (a public page calling localhost).
    if (request.headers.get('access-control-request-private-network') === 'true') {
      headers['access-control-allow-private-network'] = 'true';
    }
  }
  return headers;
}

function withHeaders(response: Response, headers: Record<string, string>): Response {
  const merged = new Headers(response.headers);
  for (const [name, value] of Object.entries(headers)) merged.set(name, value);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: merged });
}

export function createRouter(engine: Engine, options: RouterOptions = {}): Router {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024;
  const corsOrigin = options.corsOrigin ?? '*';

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = routePath(url.pathname);
    const found = findRoute(path);
    const flavor: Flavor = found?.route.flavor ?? (path.startsWith('/api/') ? 'ollama' : 'openai');
    if (request.method === 'OPTIONS') return new Response(null, { status: 204 });
    if (!found) return errorResponse(new HttpError(404, 'not_found', `No route for ${request.method} ${url.pathname}.`), flavor);
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    // hasOwn: an HTTP method may be any token, `constructor` included.
    const handler = Object.hasOwn(found.route.methods, method) ? found.route.methods[method as 'GET' | 'POST'] : undefined;
    if (!handler) {
      const allow = [...Object.keys(found.route.methods), 'OPTIONS'].join(', ');
      const response = errorResponse(new HttpError(405, 'method_not_allowed', `Method ${request.method} is not allowed on ${path}; use ${allow}.`), flavor);
      return withHeaders(response, { allow });
    }
    let rawBody: Uint8Array<ArrayBuffer> | undefined;
    const controller = new AbortController();
    try {
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
      };
      const response = await handler(ctx);
      return request.method === 'HEAD' ? new Response(null, { status: response.status, headers: response.headers }) : response;
    } catch (err) {
      controller.abort();
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
    const response = await route(request);
    if (corsOrigin === false) return response;
    // A passthrough response comes from a real server that sets its own CORS headers.
    if (response.headers.has('access-control-allow-origin')) return response;
    return withHeaders(response, corsHeaders(corsOrigin, request));
  };
}
