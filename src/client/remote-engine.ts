// The page side of a remote engine: implements `Engine` by calling an EngineHostApi over
// comlink. Streams arrive on a per-request MessagePort without per-token round trips;
// an AbortSignal or a `break` out of `for await` cancels the request in the worker.
import * as Comlink from 'comlink';
import type { Engine, EngineInfo } from '../openai/engine-api';
import { EngineError } from '../engine/errors';
import type { CreateKind, EngineHostApi, LoadProgress, Result, UnaryMethod } from './host';
import { iterableFromPort } from './port-stream';
import { fromWireError } from './wire-errors';

function unwrap<T>(r: Result<T>): T {
  if ('err' in r) throw fromWireError(r.err);
  return r.ok;
}

/** `P`: the host factory's load progress (LoadProgress unless the host says otherwise). */
export class RemoteEngine<P = LoadProgress> implements Engine {
  constructor(private readonly host: Comlink.Remote<EngineHostApi<P>>) {}

  static connect<P = LoadProgress>(endpoint: Comlink.Endpoint): RemoteEngine<P> {
    return new RemoteEngine<P>(Comlink.wrap<EngineHostApi<P>>(endpoint));
  }

  /** The host's liveness answer (worker-start.ts checks it before load). */
  async ping(): Promise<unknown> {
    return this.host.ping();
  }

  async load(options: unknown, onProgress?: (p: P) => void): Promise<EngineInfo> {
    return unwrap(await this.host.load(options, onProgress ? Comlink.proxy(onProgress) : undefined));
  }

  async unload(): Promise<void> {
    unwrap(await this.host.unload());
  }

  private async call<T>(method: UnaryMethod, params?: unknown): Promise<T> {
    return unwrap(await this.host.call(method, params)) as T;
  }

  private async create(kind: CreateKind, params: { stream?: boolean | null }, options?: { signal?: AbortSignal }): Promise<unknown> {
    const signal = options?.signal;
    if (signal?.aborted) throw new EngineError('aborted', 'request aborted before it was sent');
    const { port1, port2 } = new MessageChannel();
    // Streams must be listening before the host can push; iterableFromPort starts the port
    // and handles the signal itself. A unary call only forwards the abort.
    const stream = params.stream ? iterableFromPort<unknown>(port1, signal) : undefined;
    const onAbort = () => port1.postMessage({ t: 'cancel' });
    if (!stream) signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const result = unwrap(await this.host.create(kind, params, Comlink.transfer(port2, [port2])));
      if (stream) return stream;
      return result;
    } finally {
      if (!stream) {
        signal?.removeEventListener('abort', onAbort);
        port1.close();
      }
    }
  }

  readonly chat = {
    completions: { create: ((params: never, options?: never) => this.create('chat', params, options)) as Engine['chat']['completions']['create'] },
  };
  readonly completions = { create: ((params: never, options?: never) => this.create('completions', params, options)) as Engine['completions']['create'] };
  readonly models = { list: () => this.call<Awaited<ReturnType<Engine['models']['list']>>>('models.list') };
  // Through create(): a unary call with a port, so an abort reaches the worker's request.
  readonly embeddings = { create: ((params: never, options?: never) => this.create('embeddings', params, options)) as Engine['embeddings']['create'] };
  tokenize: Engine['tokenize'] = (params) => this.call('tokenize', params);
  detokenize: Engine['detokenize'] = (params) => this.call('detokenize', params);
  stats: Engine['stats'] = () => this.call('stats');
  info: Engine['info'] = (model) => this.call('info', model);
  /** Loads one more model in the worker's engine (createWorkerEngine's multi-model engine). */
  loadModel = (source: unknown): Promise<EngineInfo> => this.call('loadModel', source);
  unloadModel = (model: string): Promise<void> => this.call('unloadModel', model);
}
