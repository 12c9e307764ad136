// What every route handler gets: the engine, the parsed body, one abort signal that fires
// when the client goes away (request signal or response-stream cancel), the router's
// stored responses, and model lookup.

import type { Engine, EngineInfo } from '../openai/engine-api';
import { EngineError } from '../engine/errors';
import type { ResponseStore } from './responses-store';
import { sameModel } from '../openai/model-name';

export interface RouteContext {
  engine: Engine;
  request: Request;
  url: URL;
  /** Path parameters, e.g. the model id of `/v1/models/{id}`. */
  pathParam: string;
  /** Parsed JSON body (POST routes), else undefined. */
  body: unknown;
  /** Fires when the client aborts the request or cancels the response stream. */
  signal: AbortSignal;
  /** Aborts `signal` (called when the response stream is cancelled). */
  abort: () => void;
  /** This router's stored Responses API answers (`previous_response_id`, `GET /v1/responses/{id}`). */
  responses: ResponseStore;
}

export function combineSignals(a: AbortSignal, b: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([a, b]);
  const both = new AbortController();
  for (const s of [a, b]) {
    if (s.aborted) both.abort(s.reason);
    else s.addEventListener('abort', () => both.abort(s.reason), { once: true });
  }
  return both.signal;
}

/** The loaded model's id for `requested` (absent: the first loaded model), or 404 `model_not_found`. */
export async function resolveModel(engine: Engine, requested: string | undefined | null): Promise<string> {
  const { data } = await engine.models.list();
  if (data.length === 0) throw new EngineError('engine_not_loaded', 'No model is loaded.');
  if (requested === undefined || requested === null) return data[0].id;
  const found = data.find((m) => sameModel(requested, m.id));
  if (!found) {
    throw new EngineError('model_not_found', `The model '${requested}' does not exist.`, 'model');
  }
  return found.id;
}

/** Every loaded model's info, in the engine's order (Ollama's /api/tags and /api/ps list them all). */
export async function modelInfos(engine: Engine): Promise<EngineInfo[]> {
  const { data } = await engine.models.list();
  return Promise.all(data.map((m) => engine.info(m.id)));
}

/** An Ollama-flavoured name: always with a tag, as Ollama lists models. */
export function ollamaName(id: string): string {
  return id.includes(':') ? id : `${id}:latest`;
}
