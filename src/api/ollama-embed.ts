// Ollama's embedding routes: `POST /api/embed` (`input` a string or strings → unit vectors in
// `embeddings`, with Ollama's timings and `prompt_eval_count`; `truncate` defaults to true as
// in Ollama; `keep_alive: 0` unloads the model afterwards) and the older `POST /api/embeddings`
// (`prompt` → `embedding`: the model's raw pooled vector, NOT normalised — Ollama's legacy
// route skips the normalisation /api/embed does). An empty input is Ollama's "load the
// model" request: no vectors.

import { arrayOf, bool, int, invalid, str, validateBody, type Check } from '../openai/validate';
import { resolveModel, type RouteContext } from './context';
import { jsonResponse } from './errors';
import { keepAlive, keepAliveIsZero, unloadForKeepAlive } from './ollama-keep-alive';
import { LENIENT } from './ollama-params';

const ns = (ms: number): number => Math.round(ms * 1e6);

const nonEmptyString: Check = (v, p) => {
  str(v, p);
  if (v === '') throw invalid(p, `'${p}' must not be an empty string.`);
};

/** Ollama takes text only: a string (may be empty: a load request) or non-empty strings. */
const embedInput: Check = (v, p) => {
  if (typeof v !== 'string') arrayOf(nonEmptyString)(v, p);
};

interface EmbedRequest {
  model: string;
  input?: string | string[];
  truncate?: boolean;
  dimensions?: number;
  keep_alive?: unknown;
}

export async function embed(ctx: RouteContext): Promise<Response> {
  const request = validateBody<EmbedRequest>(ctx.body, {
    model: { required: true, check: str },
    input: { check: embedInput },
    truncate: { check: bool },
    dimensions: { check: int(1) },
    keep_alive: { check: keepAlive },
    options: { ignored: true },
  }, LENIENT);
  const model = await resolveModel(ctx.engine, request.model);
  const input = request.input === undefined || request.input === '' ? [] : typeof request.input === 'string' ? [request.input] : request.input;
  const startMs = performance.now();
  let embeddings: number[][] = [];
  let promptTokens = 0;
  if (input.length > 0) {
    const result = await ctx.engine.embeddings.create(
      { model, input, dimensions: request.dimensions, truncate: request.truncate ?? true },
      { signal: ctx.signal },
    );
    embeddings = result.data.map((d) => d.embedding as number[]);
    promptTokens = result.usage.prompt_tokens;
  }
  const totalMs = performance.now() - startMs;
  if (keepAliveIsZero(request.keep_alive)) await unloadForKeepAlive(ctx.engine, model);
  return jsonResponse({
    model: request.model,
    embeddings,
    total_duration: ns(totalMs),
    // The model is loaded before any request reaches the router.
    load_duration: 0,
    prompt_eval_count: promptTokens,
  });
}

/** `/api/embeddings` (Ollama's older route): `{ model, prompt }` → `{ embedding }`, un-normalised as Ollama's. */
export async function embeddingsLegacy(ctx: RouteContext): Promise<Response> {
  const request = validateBody<{ model: string; prompt?: string; keep_alive?: unknown }>(ctx.body, {
    model: { required: true, check: str },
    prompt: { check: str },
    keep_alive: { check: keepAlive },
    options: { ignored: true },
  }, LENIENT);
  const model = await resolveModel(ctx.engine, request.model);
  let embedding: number[] = [];
  if (request.prompt) {
    const result = await ctx.engine.embeddings.create({ model, input: request.prompt, truncate: true, normalize: false }, { signal: ctx.signal });
    embedding = result.data[0]!.embedding as number[];
  }
  if (keepAliveIsZero(request.keep_alive)) await unloadForKeepAlive(ctx.engine, model);
  return jsonResponse({ embedding });
}
