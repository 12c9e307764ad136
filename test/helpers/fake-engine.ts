// FakeEngine: a deterministic `Engine` for API tests, no model, no GPU: the real facade
// (LocalEngine over an EngineCore: validation, templates, scheduler, paged KV cache, stop
// strings, logprob shapes) assembled as src/create-engine.ts does, over a word tokenizer
// and the EchoRunner (a FakeRunner answering `You said: <last user message or prompt>`).
//
// What tests read or steer on top: the requests the core admitted (`received`, with the
// params the facade was called with), how many are in flight and how many ended by abort
// (counted at the core: its `abort` found the request live), `whenIdle()`, a delay per
// step, an admission failure (`failNext`) and a runner failure after the first token of
// the next stream (`failMidStream`).
import { EngineCore, type RequestStream } from '../../src/engine/core';
import type { EngineRequest } from '../../src/engine/request';
import { EngineError } from '../../src/engine/errors';
import { LocalEngine } from '../../src/openai/local-engine';
import { ChatTemplate } from '../../src/model/template';
import type {
  ChatCompletionCreateParams, CompletionCreateParams, Engine, EngineInfo, RequestOptions,
} from '../../src/openai/engine-api';
import { EchoRunner, FAKE_TEMPLATE } from './echo-runner';
import { EOS, WordTokenizer } from './word-tokenizer';

export interface FakeEngineOptions {
  id?: string;
  contextLength?: number;
  hasChatTemplate?: boolean;
  /** Delay before each engine step, so a test can abort mid-stream. */
  tokenDelayMs?: number;
}

type Kind = 'chat' | 'completion';

const CREATED = 1_700_000_000;
/** llama's vocabulary size: ids past it are not token ids (the facade's 400), ids below it decode. */
const VOCAB_SIZE = 32_000;

/** The real core, reporting admissions, ends and aborts to its FakeEngine. */
class ObservedCore extends EngineCore {
  onAdmit: (stream: RequestStream) => void = () => {};
  onAbort: () => void = () => {};

  override addRequest(req: EngineRequest): RequestStream {
    const stream = super.addRequest(req);
    this.onAdmit(stream);
    return stream;
  }

  override abort(requestId: string): boolean {
    const live = super.abort(requestId);
    if (live) this.onAbort();
    return live;
  }
}

export class FakeEngine implements Engine {
  readonly id: string;
  readonly contextLength: number;
  readonly hasChatTemplate: boolean;
  /** Every request the core admitted, with the params the facade got. */
  readonly received: { kind: Kind; params: ChatCompletionCreateParams | CompletionCreateParams }[] = [];
  /** Rejects the next create() with this error, as the engine would at admission (queue_full, device_lost …). */
  failNext: EngineError | undefined;
  /** Admitted core requests that ended by abort (signal, or the consumer leaving the stream early). */
  abortedCount = 0;

  private readonly runner: EchoRunner;
  private readonly facade: LocalEngine;
  private readonly live = new Set<RequestStream>();
  private idleWaiters: (() => void)[] = [];
  private calling: { kind: Kind; params: ChatCompletionCreateParams | CompletionCreateParams; recorded: boolean } | undefined;

  constructor(options: FakeEngineOptions = {}) {
    this.id = options.id ?? 'fake-model';
    this.contextLength = options.contextLength ?? 512;
    this.hasChatTemplate = options.hasChatTemplate ?? true;
    const tokenizer = new WordTokenizer(VOCAB_SIZE);
    this.runner = new EchoRunner(tokenizer, { contextLength: this.contextLength, vocabSize: VOCAB_SIZE });
    this.runner.tokenDelayMs = options.tokenDelayMs ?? 0;
    const now = () => this.runner.clockMs;
    const core = new ObservedCore({ runner: this.runner, createDetokenizer: () => tokenizer.createDetokenizer(), eogIds: [EOS], options: { now } });
    core.onAdmit = (stream) => this.admitted(stream);
    core.onAbort = () => this.abortedCount++;
    const template = this.hasChatTemplate ? new ChatTemplate(FAKE_TEMPLATE) : null;
    const info: EngineInfo = {
      id: this.id,
      contextLength: this.contextLength,
      hasChatTemplate: this.hasChatTemplate,
      chatTemplate: template?.source,
      created: CREATED,
      arch: 'llama',
      quant: 'Q8_0',
      parameterCount: 260_000,
      sizeBytes: 1_185_376,
      gpuBytes: 2_000_000,
      loadMs: 5,
    };
    this.facade = new LocalEngine({ core, tokenizer, template, info, now });
  }

  get tokenDelayMs(): number {
    return this.runner.tokenDelayMs;
  }
  set tokenDelayMs(ms: number) {
    this.runner.tokenDelayMs = ms;
  }

  /** Admitted core requests not yet finished, aborted or failed. */
  get inFlight(): number {
    return this.live.size;
  }

  /** Fails the runner's first step after the next stream's first token with this error (the core fails every request in flight with it). */
  set failMidStream(error: EngineError | undefined) {
    this.runner.failAfterFirstToken = error;
  }
  get failMidStream(): EngineError | undefined {
    return this.runner.failAfterFirstToken as EngineError | undefined;
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  readonly chat = {
    completions: {
      create: ((params: ChatCompletionCreateParams, options?: RequestOptions) => this.call('chat', params, options)) as Engine['chat']['completions']['create'],
    },
  };
  readonly completions = {
    create: ((params: CompletionCreateParams, options?: RequestOptions) => this.call('completion', params, options)) as Engine['completions']['create'],
  };
  get models(): Engine['models'] {
    return this.facade.models;
  }
  get embeddings(): Engine['embeddings'] {
    return this.facade.embeddings;
  }
  readonly tokenize: Engine['tokenize'] = (p) => this.facade.tokenize(p);
  readonly detokenize: Engine['detokenize'] = (p) => this.facade.detokenize(p);
  readonly stats: Engine['stats'] = () => this.facade.stats();
  readonly info: Engine['info'] = () => this.facade.info();

  /** The facade admits synchronously inside create(), so `calling` names the call the core is admitting. */
  private call(kind: Kind, params: ChatCompletionCreateParams | CompletionCreateParams, options?: RequestOptions): Promise<never> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      return Promise.reject(err);
    }
    this.calling = { kind, params, recorded: false };
    try {
      const result = kind === 'chat'
        ? this.facade.chat.completions.create(params as ChatCompletionCreateParams, options)
        : this.facade.completions.create(params as CompletionCreateParams, options);
      return result as Promise<never>;
    } finally {
      this.calling = undefined;
    }
  }

  private admitted(stream: RequestStream): void {
    if (this.calling && !this.calling.recorded) {
      this.calling.recorded = true;
      this.received.push({ kind: this.calling.kind, params: this.calling.params });
    }
    this.live.add(stream);
    // The core closes a request's stream when it finishes or is aborted, and fails it when a step fails.
    const settle = () => {
      this.live.delete(stream);
      if (this.live.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    };
    const close = stream.close.bind(stream);
    const fail = stream.fail.bind(stream);
    stream.close = () => {
      close();
      settle();
    };
    stream.fail = (error: unknown) => {
      fail(error);
      settle();
    };
  }
}
