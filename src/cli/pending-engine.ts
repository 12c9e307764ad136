// An Engine that exists before its model is loaded: `tabllm serve` binds its port first and
// routes through this, so while the model loads every engine call rejects with
// `engine_not_loaded` (503, in each route's own error shape) and afterwards it forwards to
// the loaded engine. The router — and any options given to it — is built once.
import type { ChatCompletions, Completions, Engine } from '../openai/engine-api';
import { EngineError } from '../engine/errors';

export class PendingEngine implements Engine {
  private engine: Engine | undefined;

  constructor(private readonly what = 'the model') {}

  get ready(): boolean {
    return this.engine !== undefined;
  }

  /** The model is loaded: from now on every call goes to `engine`. */
  resolve(engine: Engine): void {
    this.engine = engine;
  }

  private need(): Engine {
    if (!this.engine) throw new EngineError('engine_not_loaded', `${this.what} is still loading; retry when GET /health answers 200`);
    return this.engine;
  }

  readonly chat = {
    completions: { create: (async (params: never, options?: never) => this.need().chat.completions.create(params, options)) as ChatCompletions['create'] },
  };
  readonly completions = { create: (async (params: never, options?: never) => this.need().completions.create(params, options)) as Completions['create'] };
  readonly models: Engine['models'] = { list: async () => this.need().models.list() };
  readonly embeddings: Engine['embeddings'] = { create: async (params, options) => this.need().embeddings.create(params, options) };
  tokenize: Engine['tokenize'] = async (params) => this.need().tokenize(params);
  detokenize: Engine['detokenize'] = async (params) => this.need().detokenize(params);
  stats: Engine['stats'] = async () => this.need().stats();
  info: Engine['info'] = async (model) => this.need().info(model);
  // keep_alive: 0 (Ollama) unloads through these on a multi-model engine.
  loadModel = async (source: unknown) => {
    const e = this.need();
    if (!e.loadModel) throw new EngineError('unsupported', 'this engine hosts one model');
    return e.loadModel(source);
  };
  unloadModel = async (model: string) => {
    const e = this.need();
    if (!e.unloadModel) throw new EngineError('unsupported', 'this engine hosts one model');
    return e.unloadModel(model);
  };
}
