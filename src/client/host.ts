// The worker side of a remote engine: exposes an `Engine` over comlink on any endpoint
// (a dedicated worker's global scope, a MessagePort, a SharedWorker connection).
// Unary calls return `{ ok } | { err }` so an error keeps its class and code; each
// create() carries its own MessagePort, used for the stream's chunks and for cancel.
import * as Comlink from 'comlink';
import type { LoadProgress } from '../create-engine';
import type { Engine, EngineInfo } from '../openai/engine-api';
import { EngineError } from '../engine/errors';
import { pumpToPort } from './port-stream';
import { toWireError, type WireError } from './wire-errors';
import { HOST_PING_ANSWER } from './worker-start';

export type Result<T> = { ok: T } | { err: WireError };

export type UnaryMethod = 'models.list' | 'tokenize' | 'detokenize' | 'stats' | 'info' | 'loadModel' | 'unloadModel';

/** The calls that carry a MessagePort (streams, and cancel for the unary ones). */
export type CreateKind = 'chat' | 'completions' | 'embeddings';

export type { LoadProgress };

/** `P`: what load progress the factory reports (LoadProgress; the WebLLM layer's InitProgressReport). */
export interface EngineHostApi<P = LoadProgress> {
  /** Answers at once, before any model loads: the page's "is the worker alive?" check. */
  ping(): string;
  load(options: unknown, onProgress?: (p: P) => void): Promise<Result<EngineInfo>>;
  call(method: UnaryMethod, params?: unknown): Promise<Result<unknown>>;
  /** For `stream: true` resolves `{ ok: 'stream' }` once admitted, then items flow on `port`. */
  create(kind: CreateKind, params: { stream?: boolean | null }, port: MessagePort): Promise<Result<unknown>>;
  unload(): Promise<Result<void>>;
}

export type EngineFactory<P = LoadProgress> = (options: unknown, onProgress: (p: P) => void) => Promise<Engine & { destroy?(): void | Promise<void> }>;

async function settle<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: await f() };
  } catch (err) {
    return { err: toWireError(err) };
  }
}

export function hostEngine<P = LoadProgress>(endpoint: Comlink.Endpoint, factory: EngineFactory<P>, preloaded?: Engine): EngineHostApi<P> {
  let engine: (Engine & { destroy?(): void | Promise<void> }) | undefined = preloaded;
  const need = (): Engine => {
    if (!engine) throw new EngineError('engine_not_loaded', 'no model is loaded in this worker: call load() first');
    return engine;
  };
  const api: EngineHostApi<P> = {
    ping: () => HOST_PING_ANSWER,
    load: (options, onProgress) =>
      settle(async () => {
        await engine?.destroy?.();
        engine = undefined;
        engine = await factory(options, (p) => void onProgress?.(p));
        return engine.info();
      }),
    call: (method, params) =>
      settle(async () => {
        const e = need();
        switch (method) {
          case 'models.list': return e.models.list();
          case 'tokenize': return e.tokenize(params as never);
          case 'detokenize': return e.detokenize(params as never);
          case 'stats': return e.stats();
          case 'info': return e.info(params as string | undefined);
          case 'loadModel':
            if (!e.loadModel) throw new EngineError('unsupported', 'this engine hosts one model');
            return e.loadModel(params);
          case 'unloadModel':
            if (!e.unloadModel) throw new EngineError('unsupported', 'this engine hosts one model');
            return e.unloadModel(params as string);
        }
        throw new EngineError('invalid_request', `unknown method ${String(method)}`);
      }),
    create: (kind, params, port) =>
      settle(async () => {
        const e = need();
        const controller = new AbortController();
        port.onmessage = (ev: MessageEvent) => {
          if ((ev.data as { t?: string })?.t === 'cancel') controller.abort(new DOMException('cancelled', 'AbortError'));
        };
        const target = kind === 'chat' ? e.chat.completions : kind === 'completions' ? e.completions : e.embeddings;
        const result = await (target.create as (p: unknown, o: unknown) => Promise<unknown>)(params, { signal: controller.signal });
        if (params.stream) {
          void pumpToPort(result as AsyncIterable<unknown>, port, controller);
          return 'stream';
        }
        port.close();
        return result;
      }),
    unload: () =>
      settle(async () => {
        await engine?.destroy?.();
        engine = undefined;
      }),
  };
  Comlink.expose(api, endpoint);
  return api;
}
