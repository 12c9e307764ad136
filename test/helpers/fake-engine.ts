// FakeEngine: a deterministic `Engine` for API tests — no model, no GPU.
//
// "Tokens" are whitespace-led words (` world`), ids assigned on first sight from 100 up
// (1 = BOS, 2 = EOS). The reply to a prompt is `You said: <text>` (the last user message,
// or the completion prompt), then EOS. With temperature > 0, choice i starts the reply
// rotated by (seed + i) words, so `n` and `seed` are visible and reproducible. It honours
// max_tokens (completions default 16), stop strings, ignore_eos, echo, logprobs shapes,
// the context length, and aborts — counting requests in flight so tests can see that an
// abort reached it.

import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatMessage,
  ChatTokenLogprob,
  Completion,
  CompletionChunk,
  CompletionCreateParams,
  CompletionUsage,
  DetokenizeParams,
  DetokenizeResult,
  EmbeddingResponse,
  Engine,
  EngineInfo,
  EngineStats,
  FinishReason,
  ModelList,
  RequestOptions,
  TokenizeParams,
  TokenizeResult,
} from '../../src/openai/engine-api';
import { EngineError } from '../../src/engine/errors';

export interface FakeEngineOptions {
  id?: string;
  contextLength?: number;
  hasChatTemplate?: boolean;
  /** Delay before each streamed step, so a test can abort mid-stream. */
  tokenDelayMs?: number;
}

interface ChoicePlan {
  tokens: string[];
  finish: FinishReason;
}

type Kind = 'chat' | 'completion';

const BOS = 1;
const EOS = 2;
const CREATED = 1_700_000_000;

export class FakeEngine implements Engine {
  readonly id: string;
  readonly contextLength: number;
  readonly hasChatTemplate: boolean;
  tokenDelayMs: number;
  /** Requests admitted and not yet finished. */
  inFlight = 0;
  /** Requests that ended by abort (signal or the consumer leaving the stream early). */
  abortedCount = 0;
  /** Every admitted request, as the engine received it. */
  readonly received: { kind: Kind; params: ChatCompletionCreateParams | CompletionCreateParams }[] = [];
  /** Rejects the next create() with this error (queue_full, device_lost …). */
  failNext: EngineError | undefined;
  /** Throws this error after the first streamed chunk of the next stream. */
  failMidStream: EngineError | undefined;

  private readonly vocab = new Map<string, number>();
  private readonly words: string[] = [];
  private readonly seenPrompts = new Set<string>();
  private idleWaiters: (() => void)[] = [];
  private requestCounter = 0;

  constructor(options: FakeEngineOptions = {}) {
    this.id = options.id ?? 'fake-model';
    this.contextLength = options.contextLength ?? 512;
    this.hasChatTemplate = options.hasChatTemplate ?? true;
    this.tokenDelayMs = options.tokenDelayMs ?? 0;
  }

  readonly chat = {
    completions: {
      create: ((params: ChatCompletionCreateParams, options?: RequestOptions) => this.create('chat', params, options)) as Engine['chat']['completions']['create'],
    },
  };

  readonly completions = {
    create: ((params: CompletionCreateParams, options?: RequestOptions) => this.create('completion', params, options)) as Engine['completions']['create'],
  };

  readonly models = {
    list: async (): Promise<ModelList> => ({
      object: 'list',
      data: [{ id: this.id, object: 'model', created: CREATED, owned_by: 'tabllm', max_model_len: this.contextLength }],
    }),
  };

  readonly embeddings = {
    create: async (): Promise<EmbeddingResponse> => {
      throw new EngineError('unsupported', 'Embeddings are not supported by this model.', 'input');
    },
  };

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  // ---- tokenizer ----------------------------------------------------------------------

  encode(text: string): number[] {
    return (text.match(/\s*\S+|\s+/g) ?? []).map((word) => {
      let id = this.vocab.get(word);
      if (id === undefined) {
        id = 100 + this.words.length;
        this.vocab.set(word, id);
        this.words.push(word);
      }
      return id;
    });
  }

  private tokenText(id: number): string {
    if (id === BOS) return '<s>';
    if (id === EOS) return '</s>';
    const word = this.words[id - 100];
    if (word === undefined) throw new EngineError('invalid_request', `Unknown token id ${id}.`, 'tokens');
    return word;
  }

  private render(messages: ChatMessage[], addGenerationPrompt = true): string {
    const text = (m: ChatMessage) => (typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text).join(''));
    return messages.map((m) => `<|${m.role}|> ${text(m)}`).join(' ') + (addGenerationPrompt ? ' <|assistant|>' : '');
  }

  async tokenize(params: TokenizeParams): Promise<TokenizeResult> {
    this.checkModel(params.model);
    const text = 'messages' in params ? this.render(params.messages, params.add_generation_prompt ?? true) : params.prompt;
    const tokens = [...(params.add_special_tokens === false ? [] : [BOS]), ...this.encode(text)];
    return { count: tokens.length, max_model_len: this.contextLength, tokens };
  }

  async detokenize(params: DetokenizeParams): Promise<DetokenizeResult> {
    this.checkModel(params.model);
    return { prompt: params.tokens.map((id) => this.tokenText(id)).join('') };
  }

  async stats(): Promise<EngineStats> {
    return {
      running: this.inFlight,
      waiting: 0,
      kvBlocksUsed: this.inFlight,
      kvBlocksTotal: 64,
      prefixCacheHitRate: 0,
      lastStepBatchSize: this.inFlight,
      lastStepMs: 1,
      tokensPerSecond: 1000,
      numPreemptions: 0,
      kvSlotsFilled: this.inFlight,
      kvSlotsAllocated: 16 * this.inFlight,
    };
  }

  async info(): Promise<EngineInfo> {
    return {
      id: this.id,
      contextLength: this.contextLength,
      hasChatTemplate: this.hasChatTemplate,
      chatTemplate: this.hasChatTemplate ? '{% for m in messages %}<|{{ m.role }}|> {{ m.content }} {% endfor %}<|assistant|>' : undefined,
      created: CREATED,
      arch: 'llama',
      quant: 'Q8_0',
      parameterCount: 260_000,
      sizeBytes: 1_185_376,
      gpuBytes: 2_000_000,
      loadMs: 5,
    };
  }

  // ---- generation ---------------------------------------------------------------------

  private checkModel(model: string | undefined): void {
    if (model !== undefined && model !== this.id) throw new EngineError('model_not_found', `Model '${model}' is not loaded.`, 'model');
  }

  /** The tokens of one choice: the reply (rotated when sampling), cut by max_tokens and stop. */
  private plan(source: string, promptLength: number, params: ChatCompletionCreateParams | CompletionCreateParams, kind: Kind, choice: number): ChoicePlan {
    let words = `You said: ${source}`.split(/\s+/).filter((w) => w !== '');
    if ((params.temperature ?? 1) > 0) {
      const shift = ((params.seed ?? 0) + choice) % words.length;
      words = [...words.slice(shift), ...words.slice(0, shift)];
    }
    const reply = words.map((w, i) => (i === 0 ? w : ` ${w}`));
    const chatMax = kind === 'chat' ? ((params as ChatCompletionCreateParams).max_completion_tokens ?? params.max_tokens) : undefined;
    const maxTokens = (kind === 'chat' ? chatMax : (params.max_tokens ?? 16)) ?? this.contextLength - promptLength;
    let tokens: string[] = [];
    let finish: FinishReason = 'stop';
    while (tokens.length < maxTokens) {
      if (tokens.length >= reply.length && !params.ignore_eos) break;
      tokens.push(reply[tokens.length % reply.length]);
    }
    if (tokens.length === maxTokens && (params.ignore_eos || maxTokens < reply.length)) finish = 'length';
    const stops = params.stop == null ? [] : Array.isArray(params.stop) ? params.stop : [params.stop];
    const text = tokens.join('');
    const cut = Math.min(...stops.map((s) => text.indexOf(s)).filter((i) => i >= 0));
    if (Number.isFinite(cut)) {
      // Keep whole tokens before the stop, and the part of the token the stop starts in.
      const kept: string[] = [];
      let at = 0;
      for (const token of tokens) {
        if (at + token.length <= cut) kept.push(token);
        else {
          if (cut > at) kept.push(token.slice(0, cut - at));
          break;
        }
        at += token.length;
      }
      tokens = kept;
      finish = 'stop';
    }
    return { tokens, finish };
  }

  private logprob(k: number): number {
    return -((k % 5) + 1) / 10;
  }

  private chatLogprob(token: string, k: number, top: number): ChatTokenLogprob {
    const bytes = (s: string) => [...new TextEncoder().encode(s)];
    const alternatives = Array.from({ length: top }, (_, j) =>
      j === 0 ? { token, logprob: this.logprob(k), bytes: bytes(token) } : { token: ` alt${j}`, logprob: this.logprob(k) - j, bytes: bytes(` alt${j}`) },
    );
    return { token, logprob: this.logprob(k), bytes: bytes(token), top_logprobs: alternatives };
  }

  private create(kind: Kind, params: ChatCompletionCreateParams | CompletionCreateParams, options: RequestOptions = {}): Promise<never> {
    return this.admit(kind, params, options) as Promise<never>;
  }

  private async admit(kind: Kind, params: ChatCompletionCreateParams | CompletionCreateParams, options: RequestOptions) {
    const signal = options.signal;
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    this.checkModel(params.model);
    if (signal?.aborted) throw new EngineError('aborted', 'The request was aborted.');
    let prompts: { text: string; ids: number[] }[];
    if (kind === 'chat') {
      if (!this.hasChatTemplate) throw new EngineError('model_has_no_chat_template', `Model '${this.id}' has no chat template.`, 'messages');
      const messages = (params as ChatCompletionCreateParams).messages;
      const last = [...messages].reverse().find((m) => m.role === 'user') ?? messages[messages.length - 1];
      const source = typeof last.content === 'string' ? last.content : (last.content ?? []).map((p) => p.text).join('');
      prompts = [{ text: source, ids: (await this.tokenize({ messages })).tokens }];
    } else {
      const prompt = (params as CompletionCreateParams).prompt;
      prompts = await Promise.all((Array.isArray(prompt) ? prompt : [prompt]).map(async (text) => ({ text, ids: (await this.tokenize({ prompt: text })).tokens })));
    }
    const completionCap = kind === 'chat' ? (params as ChatCompletionCreateParams).max_completion_tokens : undefined;
    const requested = kind === 'chat' ? (completionCap ?? params.max_tokens) : (params.max_tokens ?? 16);
    // LocalEngine's rules: a prompt that fills the context names the prompt; one that
    // leaves too little for max_tokens is vLLM's message, naming the budget field.
    for (const p of prompts) {
      if (p.ids.length >= this.contextLength) {
        throw new EngineError('context_length_exceeded', `The prompt has ${p.ids.length} tokens; the model's context is ${this.contextLength}.`, kind === 'chat' ? 'messages' : 'prompt');
      }
      if (requested != null && p.ids.length + requested > this.contextLength) {
        throw new EngineError(
          'context_length_exceeded',
          `'max_tokens' or 'max_completion_tokens' is too large: ${requested}. This model's maximum context length is ${this.contextLength} tokens and your request has ${p.ids.length} input tokens (${requested} > ${this.contextLength} - ${p.ids.length}).`,
          completionCap != null ? 'max_completion_tokens' : 'max_tokens',
        );
      }
    }
    const n = params.n ?? 1;
    const plans = prompts.flatMap((p) => Array.from({ length: n }, (_, i) => this.plan(p.text, p.ids.length, params, kind, i)));
    let cached = 0;
    for (const p of prompts) {
      const key = p.ids.join(',');
      if (this.seenPrompts.has(key)) cached += Math.floor(p.ids.length / 16) * 16;
      this.seenPrompts.add(key);
    }
    const promptTokens = prompts.reduce((sum, p) => sum + p.ids.length, 0);
    const completionTokens = plans.reduce((sum, p) => sum + p.tokens.length, 0);
    const usage: CompletionUsage = {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
      prompt_tokens_details: { cached_tokens: cached },
    };
    const timings = { queuedMs: 0, promptMs: promptTokens, decodeMs: 2 * completionTokens, totalMs: promptTokens + 2 * completionTokens };
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-fake${++this.requestCounter}`;
    this.received.push({ kind, params });
    this.inFlight++;
    const ctx: RequestCtx = { id, kind, params, plans, prompts, usage, timings, signal, settled: false };
    if (params.stream) {
      // A stream that is aborted before anyone pulls from it never runs its body.
      signal?.addEventListener('abort', () => this.settle(ctx, 'aborted'), { once: true });
      return this.stream(ctx);
    }
    try {
      // Take as long as the stream would have, so a test can abort a non-streaming request.
      for (const _token of ctx.plans[0]?.tokens ?? []) await this.sleep(signal);
    } catch (err) {
      this.settle(ctx, 'aborted');
      throw err;
    }
    this.settle(ctx, 'done');
    return kind === 'chat' ? this.chatCompletion(ctx) : this.textCompletion(ctx);
  }

  private settle(ctx: RequestCtx, how: 'done' | 'aborted' | 'failed'): void {
    if (ctx.settled) return;
    ctx.settled = true;
    if (how === 'aborted') this.abortedCount++;
    this.inFlight--;
    if (this.inFlight === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private chatCompletion(ctx: RequestCtx): ChatCompletion {
    const p = ctx.params as ChatCompletionCreateParams;
    return {
      id: ctx.id,
      object: 'chat.completion',
      created: CREATED,
      model: this.id,
      choices: ctx.plans.map((plan, index) => ({
        index,
        message: { role: 'assistant', content: plan.tokens.join(''), refusal: null },
        logprobs: p.logprobs ? { content: plan.tokens.map((t, k) => this.chatLogprob(t, k, p.top_logprobs ?? 0)), refusal: null } : null,
        finish_reason: plan.finish,
      })),
      usage: ctx.usage,
      timings: ctx.timings,
    };
  }

  private completionLogprobs(tokens: string[], top: number, offset: number) {
    let at = offset;
    return {
      tokens,
      token_logprobs: tokens.map((_, k) => this.logprob(k)),
      top_logprobs: tokens.map((t, k) => Object.fromEntries(Array.from({ length: top }, (_, j) => [j === 0 ? t : ` alt${j}`, this.logprob(k) - j]))),
      text_offset: tokens.map((t) => ((at += t.length), at - t.length)),
    };
  }

  private textCompletion(ctx: RequestCtx): Completion {
    const p = ctx.params as CompletionCreateParams;
    const n = p.n ?? 1;
    return {
      id: ctx.id,
      object: 'text_completion',
      created: CREATED,
      model: this.id,
      choices: ctx.plans.map((plan, index) => {
        const echo = p.echo ? ctx.prompts[Math.floor(index / n)].text : '';
        return {
          index,
          text: echo + plan.tokens.join(''),
          logprobs: p.logprobs != null ? this.completionLogprobs(plan.tokens, p.logprobs, echo.length) : null,
          finish_reason: plan.finish,
        };
      }),
      usage: ctx.usage,
      timings: ctx.timings,
    };
  }

  private async *stream(ctx: RequestCtx): AsyncGenerator<ChatCompletionChunk | CompletionChunk> {
    if (ctx.settled) throw new EngineError('aborted', 'The request was aborted.');
    const failMidStream = this.failMidStream;
    this.failMidStream = undefined;
    let how: 'done' | 'aborted' | 'failed' = 'aborted';
    try {
      const steps = Math.max(0, ...ctx.plans.map((p) => p.tokens.length));
      for (let k = 0; k <= steps; k++) {
        await this.sleep(ctx.signal);
        for (const [index, plan] of ctx.plans.entries()) {
          if (k > plan.tokens.length) continue;
          const token = k < plan.tokens.length ? plan.tokens[k] : undefined;
          const finish = k === plan.tokens.length ? plan.finish : null;
          yield ctx.kind === 'chat' ? this.chatChunk(ctx, index, k, token, finish) : this.completionChunk(ctx, index, k, token, finish);
        }
        if (failMidStream) {
          how = 'failed';
          throw failMidStream;
        }
      }
      if (ctx.params.stream_options?.include_usage) {
        const object = ctx.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
        yield { id: ctx.id, object, created: CREATED, model: this.id, choices: [], usage: ctx.usage, timings: ctx.timings } as ChatCompletionChunk;
      }
      how = 'done';
    } finally {
      // Still 'aborted' here: the signal fired, or the consumer left the loop early.
      this.settle(ctx, how);
    }
  }

  private chatChunk(ctx: RequestCtx, index: number, k: number, token: string | undefined, finish: FinishReason | null): ChatCompletionChunk {
    const p = ctx.params as ChatCompletionCreateParams;
    const delta: ChatCompletionChunk['choices'][0]['delta'] = k === 0 ? { role: 'assistant', content: token ?? '' } : token === undefined ? {} : { content: token };
    const logprobs = p.logprobs && token !== undefined ? { content: [this.chatLogprob(token, k, p.top_logprobs ?? 0)], refusal: null } : null;
    const chunk: ChatCompletionChunk = { id: ctx.id, object: 'chat.completion.chunk', created: CREATED, model: this.id, choices: [{ index, delta, logprobs, finish_reason: finish }] };
    if (p.stream_options?.include_usage) chunk.usage = null;
    return chunk;
  }

  private completionChunk(ctx: RequestCtx, index: number, k: number, token: string | undefined, finish: FinishReason | null): CompletionChunk {
    const p = ctx.params as CompletionCreateParams;
    const echo = k === 0 && p.echo ? ctx.prompts[Math.floor(index / (p.n ?? 1))].text : '';
    const text = echo + (token ?? '');
    const logprobs = p.logprobs != null && token !== undefined ? this.completionLogprobs([token], p.logprobs, 0) : null;
    const chunk: CompletionChunk = { id: ctx.id, object: 'text_completion', created: CREATED, model: this.id, choices: [{ index, text, logprobs, finish_reason: finish }] };
    if (p.stream_options?.include_usage) chunk.usage = null;
    return chunk;
  }

  private sleep(signal: AbortSignal | undefined): Promise<void> {
    const aborted = () => new EngineError('aborted', 'The request was aborted.');
    if (signal?.aborted) return Promise.reject(aborted());
    if (this.tokenDelayMs === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, this.tokenDelayMs);
      const onAbort = () => {
        clearTimeout(timer);
        reject(aborted());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

interface RequestCtx {
  id: string;
  kind: Kind;
  params: ChatCompletionCreateParams | CompletionCreateParams;
  plans: ChoicePlan[];
  prompts: { text: string; ids: number[] }[];
  usage: CompletionUsage;
  timings: { queuedMs: number; promptMs: number; decodeMs: number; totalMs: number };
  signal: AbortSignal | undefined;
  settled: boolean;
}
