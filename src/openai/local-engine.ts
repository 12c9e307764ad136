// LocalEngine: the `Engine` interface (OpenAI shapes) over an EngineCore in this thread.
// Chat and completions share one pipeline: validate → template (chat) → tokens →
// EngineRequests (admit) → merged events (pipeline.ts) → OpenAI objects or chunks. The
// core knows nothing of OpenAI; the router knows nothing of tokens. An embedding model has
// no core but an EmbedQueue (embeddings.ts shapes its answers); each engine serves one model
// (multi-engine.ts routes between several).
import { validateChatParams, validateCompletionParams } from './params';
import type { ChatTemplate } from '../model/template';
import { TemplateError } from '../model/template';
import type { EngineCore, EngineEvent } from '../engine/core';
import type { EmbedQueue } from '../engine/embed-queue';
import { embeddingResponse, embeddingSequences, validateEmbeddingParams } from './embeddings';
import type {
  ChatCompletion, ChatCompletionChunk, ChatCompletionCreateParams, ChatMessage, ChatTokenLogprob, Completion,
  CompletionChunk, CompletionCreateParams, CompletionLogprobs, DetokenizeParams, DetokenizeResult, EmbeddingCreateParams,
  EmbeddingResponse, Engine, EngineInfo, EngineStats, FinishReason, RequestOptions, SamplingFields, TokenizeParams, TokenizeResult,
} from './engine-api';
import { EngineError, fromTemplateError, modelHasNoChatTemplateError } from '../engine/errors';
import { appendCompletionLogprobs, chatLogprobs, emptyCompletionLogprobs, newId, toFinishReason, unixSeconds, type TokenTextFn } from './shapes';
import { cancelAll, Run } from './pipeline';
import type { EngineRequest } from '../engine/request';
import { sameModel } from './model-name';
import type { Detokenizer } from '../engine/stop';
import type { SamplingParams } from '../engine/types';
import type { OutputConstraint } from '../engine/request';
import { requestConstraint, type RequestConstraint } from './structured';
import { templateMessages } from './template-messages';
import { detectToolFormat, newCallId, type ToolCallFormat } from './tools/format';
import { planTools, type ToolPlan } from './tools/tool-plan';
import { ToolCallParser } from './tools/call-parser';
import { ToolCallAccumulator, toolFinishReason } from './tools/tool-output';
import { chatStream } from './chat-stream';
import type { ChatTool } from './tools/definitions';

/** What the engine needs of a tokenizer (src/model/tokenizer's Tokenizer satisfies it through an adapter). */
export interface EngineTokenizer {
  readonly vocabSize: number;
  /** BOS id, or -1 when the vocabulary has none. */
  readonly bos: number;
  encode(text: string, options?: { addSpecial?: boolean; parseSpecial?: boolean }): number[];
  decode(ids: ArrayLike<number>, options?: { skipSpecial?: boolean }): string;
  createDetokenizer(): Detokenizer;
  /** A token's own text and bytes (for logprobs): " the", not "▁the". */
  tokenText: TokenTextFn;
}

export interface LocalEngineParts {
  /** The generation engine; null for an embedding model (chat and completions are then a 400). */
  core: EngineCore | null;
  /** An embedding model's batcher; absent for a chat model (embeddings are then a 400). */
  embedder?: EmbedQueue;
  tokenizer: EngineTokenizer;
  template: ChatTemplate | null;
  info: EngineInfo;
  destroy?: () => void | Promise<void>;
  /** Clock in ms for `timings` (default `performance.now`); tests pass the core's fake clock. */
  now?: () => number;
}

function badRequest(err: unknown): never {
  // Router validation errors carry status/param; direct callers get the engine's error class.
  if (err instanceof EngineError) throw err;
  const e = err as { message?: string; param?: string | null };
  throw new EngineError('invalid_request', e?.message ?? String(err), e?.param ?? undefined);
}

function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

export class LocalEngine implements Engine {
  private readonly genCore: EngineCore | null;
  private readonly embedder: EmbedQueue | undefined;
  /** Tokens a request may hold (the core's, or the embedding model's context). */
  readonly contextLength: number;
  private readonly tokenizer: EngineTokenizer;
  private readonly template: ChatTemplate | null;
  private readonly modelInfo: EngineInfo;
  private readonly onDestroy?: () => void | Promise<void>;
  private readonly now: () => number;
  /** The template's tool-call format, read from its text once (null: none, or no template). */
  private readonly toolFormat: ToolCallFormat | null;

  constructor(parts: LocalEngineParts) {
    this.now = parts.now ?? (() => performance.now());
    this.genCore = parts.core;
    this.embedder = parts.embedder;
    this.contextLength = parts.core?.contextLength ?? parts.embedder?.contextLength ?? parts.info.contextLength;
    this.tokenizer = parts.tokenizer;
    this.template = parts.template;
    this.modelInfo = parts.info;
    this.onDestroy = parts.destroy;
    this.toolFormat = parts.template ? detectToolFormat(parts.template.source) : null;
  }

  // ---------------------------------------------------------------------------------
  // Request building

  /** The generation core, or 400 `model_cannot_generate` on an embedding model. */
  private get core(): EngineCore {
    if (this.genCore === null) {
      throw new EngineError('model_cannot_generate', `The model '${this.modelInfo.id}' is an embedding model: it answers embeddings (/v1/embeddings, /api/embed), not chat or completions.`, 'model');
    }
    return this.genCore;
  }

  private checkModel(model: string | undefined): void {
    if (model != null && !sameModel(model, this.modelInfo.id)) {
      throw new EngineError('model_not_found', `The model '${model}' is not loaded; this engine serves '${this.modelInfo.id}'.`, 'model');
    }
  }

  private sampling(p: SamplingFields, logprobs: boolean, topLogprobs: number): Partial<SamplingParams> {
    let logitBias: Map<number, number> | undefined;
    if (p.logit_bias) {
      logitBias = new Map();
      for (const [key, bias] of Object.entries(p.logit_bias)) {
        const id = Number(key);
        if (!Number.isInteger(id) || id < 0 || id >= this.tokenizer.vocabSize) {
          throw new EngineError('invalid_request', `logit_bias key '${key}' is not a token id in [0, ${this.tokenizer.vocabSize})`, 'logit_bias');
        }
        logitBias.set(id, bias);
      }
    }
    return {
      temperature: p.temperature ?? 1,
      topP: p.top_p ?? 1,
      topK: p.top_k != null && p.top_k > 0 ? p.top_k : 0,
      minP: p.min_p ?? 0,
      seed: p.seed ?? randomSeed(),
      presencePenalty: p.presence_penalty ?? 0,
      frequencyPenalty: p.frequency_penalty ?? 0,
      repetitionPenalty: p.repetition_penalty ?? 1,
      penaltyWindow: p.repeat_last_n ?? undefined,
      logitBias,
      logprobs,
      topLogprobs,
    };
  }

  /** Admits one request per prompt (all or none) and starts a Run over their events. */
  private start(prompts: number[][], p: SamplingFields, maxTokens: number | undefined, logprobs: boolean, topLogprobs: number, signal: AbortSignal | undefined, idPrefix: 'chatcmpl' | 'cmpl', constraint: OutputConstraint | undefined): Run {
    const promptParam = idPrefix === 'chatcmpl' ? 'messages' : 'prompt';
    const maxParam = 'max_completion_tokens' in p && p.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
    const stop = p.stop == null ? [] : typeof p.stop === 'string' ? [p.stop] : p.stop;
    const streams: AsyncIterable<EngineEvent>[] = [];
    try {
      for (const promptIds of prompts) {
        this.checkFits(promptIds.length, maxTokens, promptParam, maxParam);
        const req: EngineRequest = {
          promptIds,
          sampling: this.sampling(p, logprobs, topLogprobs),
          maxTokens,
          n: p.n ?? 1,
          stop: stop.filter((s) => s.length > 0),
          ignoreEos: p.ignore_eos ?? false,
          signal,
          ...(constraint ? { constraint } : {}),
        };
        streams.push(this.core.addRequest(req));
      }
    } catch (err) {
      cancelAll(streams);
      throw err;
    }
    const meta = { id: newId(idPrefix), created: unixSeconds(), model: this.modelInfo.id, startMs: this.now() };
    return new Run(streams, prompts.map((ids) => ids.length), p.n ?? 1, meta, this.now);
  }

  /**
   * vLLM's rule: prompt + max_tokens must fit the context, a 400 rather than a silent
   * clamp. A prompt that fills the context alone names the field it came from (`messages`
   * or `prompt`); the core asserts the same bound.
   */
  private checkFits(promptTokens: number, maxTokens: number | undefined, promptParam: string, param: string): void {
    const contextLength = this.contextLength;
    if (promptTokens >= contextLength) {
      throw new EngineError(
        'context_length_exceeded',
        `The prompt has ${promptTokens} tokens; the model's context is ${contextLength} and at least one must be left to generate.`,
        promptParam,
      );
    }
    if (maxTokens === undefined || promptTokens + maxTokens <= contextLength) return;
    throw new EngineError(
      'context_length_exceeded',
      `'max_tokens' or 'max_completion_tokens' is too large: ${maxTokens}. This model's maximum context length is ${contextLength} tokens and your request has ${promptTokens} input tokens (${maxTokens} > ${contextLength} - ${promptTokens}).`,
      param,
    );
  }

  private renderChat(messages: ChatMessage[], addGenerationPrompt: boolean, tools?: ChatTool[]): number[] {
    if (!this.template) throw modelHasNoChatTemplateError(this.modelInfo.id);
    let text: string;
    try {
      text = this.template.render({
        messages: templateMessages(messages, this.toolFormat),
        addGenerationPrompt,
        ...(tools && tools.length > 0 ? { tools } : {}),
      });
    } catch (err) {
      // A template's raise_exception ("System role not supported") is the caller's request at fault.
      throw err instanceof TemplateError ? fromTemplateError(err) : err;
    }
    const ids = this.tokenizer.encode(text, { addSpecial: true, parseSpecial: true });
    // Templates usually write {{ bos_token }} themselves; do not start with BOS twice.
    const bos = this.tokenizer.bos;
    if (bos >= 0 && ids.length > 1 && ids[0] === bos && ids[1] === bos) ids.shift();
    return ids;
  }

  /**
   * Compiles a request's constraint before it is admitted, so a schema or grammar XGrammar
   * refuses is a 400 naming the request's own field (not the first chunk of a stream).
   */
  private async compile(c: RequestConstraint): Promise<void> {
    try {
      await this.core.compileConstraint(c.constraint);
    } catch (err) {
      if (err instanceof EngineError && err.code === 'invalid_request') throw new EngineError(err.code, err.message, c.param);
      throw err;
    }
  }

  /** The request's tool plan on this model (tools_not_supported_by_template when it cannot have one). */
  private toolPlan(p: ChatCompletionCreateParams): ToolPlan | null {
    if (!this.template) return null;
    return planTools(p, this.template.source, this.toolFormat);
  }

  private encodePrompt(prompt: string): number[] {
    return this.tokenizer.encode(prompt, { addSpecial: true, parseSpecial: false });
  }

  // ---------------------------------------------------------------------------------
  // Chat

  private async createChat(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>> {
    let p: ChatCompletionCreateParams;
    try {
      p = validateChatParams(params);
    } catch (err) {
      badRequest(err);
    }
    this.checkModel(p.model);
    // An embedding model has no chat: say so before its (usually missing) template does.
    void this.core;
    const tools = this.toolPlan(p);
    const promptIds = this.renderChat(p.messages, true, tools?.tools);
    const wantLogprobs = p.logprobs === true;
    const wantIds = p.return_token_ids === true;
    const constraint = tools ? (tools.constraint && { constraint: tools.constraint, param: 'tools' }) : requestConstraint(p);
    // Unconstrained requests are admitted in the caller's tick (no await before the core sees them).
    if (constraint) await this.compile(constraint);
    const run = this.start([promptIds], p, p.max_completion_tokens ?? p.max_tokens ?? undefined, wantLogprobs, wantLogprobs ? (p.top_logprobs ?? 0) : 0, options?.signal, 'chatcmpl', constraint?.constraint);
    const parsers = Array.from({ length: run.numChoices }, () => (tools?.parse ? new ToolCallParser(tools.format.syntax, newCallId) : null));
    if (p.stream) return chatStream(run, { includeUsage: p.stream_options?.include_usage === true, wantLogprobs, wantIds, tokenText: this.tokenizer.tokenText }, parsers);

    const answers = parsers.map(() => new ToolCallAccumulator());
    const ids: number[][] = answers.map(() => []);
    const logprobs: ChatTokenLogprob[][] = answers.map(() => []);
    const finish: (FinishReason | null)[] = answers.map(() => null);
    for await (const { choice, ev } of run.events()) {
      const parser = parsers[choice];
      answers[choice]!.add(parser ? parser.push(ev.text) : [{ type: 'content', text: ev.text }]);
      ids[choice]!.push(...ev.tokenIds);
      if (wantLogprobs && ev.logprobs) logprobs[choice]!.push(...chatLogprobs(ev.logprobs, this.tokenizer.tokenText));
      if (ev.finishReason) {
        if (parser) answers[choice]!.add(parser.end());
        finish[choice] = toolFinishReason(toFinishReason(ev.finishReason), parser?.callCount ?? 0);
      }
    }
    const { usage, timings } = run.totals();
    return {
      id: run.meta.id,
      object: 'chat.completion',
      created: run.meta.created,
      model: run.meta.model,
      choices: answers.map((answer, index) => ({
        index,
        message: { role: 'assistant', ...answer.message(), refusal: null },
        logprobs: wantLogprobs ? { content: logprobs[index]!, refusal: null } : null,
        finish_reason: finish[index] ?? 'stop',
        ...(wantIds ? { token_ids: ids[index]! } : {}),
      })),
      usage,
      ...(wantIds ? { prompt_token_ids: promptIds } : {}),
      timings,
    };
  }

  // ---------------------------------------------------------------------------------
  // Completions

  private async createCompletion(params: CompletionCreateParams, options?: RequestOptions): Promise<Completion | AsyncIterable<CompletionChunk>> {
    let p: CompletionCreateParams;
    try {
      p = validateCompletionParams(params);
    } catch (err) {
      badRequest(err);
    }
    this.checkModel(p.model);
    const prompts = typeof p.prompt === 'string' ? [p.prompt] : p.prompt;
    if (prompts.length === 0) throw new EngineError('invalid_request', 'prompt must not be an empty list', 'prompt');
    const wantLogprobs = p.logprobs != null;
    const wantIds = p.return_token_ids === true;
    const encoded = prompts.map((s) => this.encodePrompt(s));
    const constraint = requestConstraint(p);
    if (constraint) await this.compile(constraint);
    const run = this.start(encoded, p, p.max_tokens ?? 16, wantLogprobs, p.logprobs ?? 0, options?.signal, 'cmpl', constraint?.constraint);
    // Choice i answers prompt ⌊i / n⌋; echo starts its text (and its logprob offsets) with that prompt.
    const promptOf = (choice: number) => prompts[Math.floor(choice / run.n)]!;
    const echo = p.echo === true;
    if (p.stream) return this.completionStream(run, promptOf, echo, p.stream_options?.include_usage === true, wantLogprobs, wantIds);

    const texts = Array.from({ length: run.numChoices }, (_, i) => (echo ? promptOf(i) : ''));
    const lps: CompletionLogprobs[] = texts.map(() => emptyCompletionLogprobs());
    const offsets = texts.map((t) => t.length);
    const finish: (FinishReason | null)[] = texts.map(() => null);
    const ids: number[][] = texts.map(() => []);
    for await (const { choice, ev } of run.events()) {
      texts[choice] += ev.text;
      ids[choice]!.push(...ev.tokenIds);
      if (wantLogprobs && ev.logprobs) offsets[choice] = appendCompletionLogprobs(lps[choice]!, ev.logprobs, this.tokenizer.tokenText, offsets[choice]!);
      if (ev.finishReason) finish[choice] = toFinishReason(ev.finishReason);
    }
    const { usage, timings } = run.totals();
    return {
      id: run.meta.id,
      object: 'text_completion',
      created: run.meta.created,
      model: run.meta.model,
      choices: texts.map((text, index) => ({
        index,
        text,
        logprobs: wantLogprobs ? lps[index]! : null,
        finish_reason: finish[index] ?? 'stop',
        ...(wantIds ? { token_ids: ids[index]!, prompt_token_ids: encoded[Math.floor(index / run.n)]! } : {}),
      })),
      usage,
      timings,
    };
  }

  private async *completionStream(
    run: Run, promptOf: (choice: number) => string, echo: boolean, includeUsage: boolean, wantLogprobs: boolean, wantIds: boolean,
  ): AsyncGenerator<CompletionChunk> {
    const { meta } = run;
    const base = () => ({ id: meta.id, object: 'text_completion' as const, created: meta.created, model: meta.model, ...(includeUsage ? { usage: null } : {}) });
    const offsets: number[] = Array(run.numChoices).fill(0);
    if (echo) {
      for (let i = 0; i < run.numChoices; i++) {
        const text = promptOf(i);
        offsets[i] = text.length;
        yield { ...base(), choices: [{ index: i, text, logprobs: null, finish_reason: null }] };
      }
    }
    for await (const { choice, ev } of run.events()) {
      let logprobs: CompletionLogprobs | null = null;
      if (wantLogprobs && ev.logprobs?.length) {
        logprobs = emptyCompletionLogprobs();
        offsets[choice] = appendCompletionLogprobs(logprobs, ev.logprobs, this.tokenizer.tokenText, offsets[choice]!);
      }
      const finish = toFinishReason(ev.finishReason);
      if (ev.text === '' && !logprobs && !finish && !(wantIds && ev.tokenIds.length)) continue;
      yield { ...base(), choices: [{ index: choice, text: ev.text, logprobs, finish_reason: finish, ...(wantIds ? { token_ids: ev.tokenIds } : {}) }] };
    }
    if (includeUsage) yield { ...base(), choices: [], ...run.totals() };
  }

  // ---------------------------------------------------------------------------------
  // The Engine interface

  readonly chat = { completions: { create: ((p: ChatCompletionCreateParams, o?: RequestOptions) => this.createChat(p, o)) as Engine['chat']['completions']['create'] } };
  readonly completions = { create: ((p: CompletionCreateParams, o?: RequestOptions) => this.createCompletion(p, o)) as Engine['completions']['create'] };
  readonly models = {
    list: async () => ({
      object: 'list' as const,
      data: [{ id: this.modelInfo.id, object: 'model' as const, created: this.modelInfo.created, owned_by: 'tabllm', max_model_len: this.contextLength }],
    }),
  };
  readonly embeddings = { create: (p: EmbeddingCreateParams, o?: RequestOptions) => this.createEmbeddings(p, o) };

  private async createEmbeddings(params: EmbeddingCreateParams, options?: RequestOptions): Promise<EmbeddingResponse> {
    let p: EmbeddingCreateParams;
    try {
      p = validateEmbeddingParams(params);
    } catch (err) {
      badRequest(err);
    }
    this.checkModel(p.model);
    if (!this.embedder) {
      throw new EngineError('model_cannot_embed', `The model '${this.modelInfo.id}' is not an embedding model (it has no pooling): load one (bert, nomic-bert, or a decoder embedding GGUF) for embeddings.`, 'model');
    }
    const sequences = embeddingSequences(p, {
      vocabSize: this.tokenizer.vocabSize,
      contextLength: this.contextLength,
      embeddingDim: this.modelInfo.embeddingDim ?? Infinity,
      encode: (text) => this.tokenizer.encode(text, { addSpecial: true, parseSpecial: false }),
    });
    const pooled = await this.embedder.embed(sequences, options?.signal);
    const promptTokens = sequences.reduce((sum, ids) => sum + ids.length, 0);
    return embeddingResponse(pooled, p, this.modelInfo.id, promptTokens);
  }

  async tokenize(params: TokenizeParams): Promise<TokenizeResult> {
    this.checkModel(params.model);
    const addSpecial = params.add_special_tokens ?? true;
    const tokens =
      'messages' in params
        ? this.renderChat(params.messages, params.add_generation_prompt ?? true, params.tools ?? undefined)
        : this.tokenizer.encode(params.prompt, { addSpecial, parseSpecial: false });
    return { count: tokens.length, max_model_len: this.contextLength, tokens };
  }

  async detokenize(params: DetokenizeParams): Promise<DetokenizeResult> {
    this.checkModel(params.model);
    for (const [i, id] of params.tokens.entries()) {
      if (!Number.isInteger(id) || id < 0 || id >= this.tokenizer.vocabSize) {
        throw new EngineError('invalid_request', `tokens[${i}] = ${id} is not a token id in [0, ${this.tokenizer.vocabSize})`, `tokens[${i}]`);
      }
    }
    return { prompt: this.tokenizer.decode(params.tokens) };
  }

  async stats(): Promise<EngineStats> {
    if (this.genCore === null) {
      const e = this.embedder?.stats();
      return {
        running: 0, waiting: e?.waitingSequences ?? 0, kvBlocksUsed: 0, kvBlocksTotal: 0, prefixCacheHitRate: 0,
        lastStepBatchSize: e?.lastBatchTokens ?? 0, lastStepMs: 0, tokensPerSecond: 0, numPreemptions: 0, kvSlotsFilled: 0, kvSlotsAllocated: 0,
        embedBatches: e?.numBatches ?? 0,
      };
    }
    const s = this.genCore.stats();
    return {
      running: s.running,
      waiting: s.waiting,
      kvBlocksUsed: s.kvBlocksUsed,
      kvBlocksTotal: s.kvBlocksTotal,
      prefixCacheHitRate: s.prefixCacheHitRate,
      lastStepBatchSize: s.lastStepBatchSize,
      peakStepBatchSize: s.peakStepBatchSize,
      lastStepMs: s.lastStepMs,
      tokensPerSecond: s.tokensPerSecond,
      numPreemptions: s.numPreemptions,
      kvSlotsFilled: s.kvSlotsFilled,
      kvSlotsAllocated: s.kvSlotsAllocated,
    };
  }

  async info(): Promise<EngineInfo> {
    return { ...this.modelInfo };
  }

  /** Ends every request in flight (`engine_not_loaded`), waits for the runner to go idle, then frees it. */
  async destroy(): Promise<void> {
    this.genCore?.close();
    this.embedder?.close();
    while (this.genCore?.busy || this.embedder?.busy) await new Promise((r) => setTimeout(r, 1));
    await this.onDestroy?.();
  }
}
