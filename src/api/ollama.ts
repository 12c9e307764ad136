// Ollama's native routes: /api/chat and /api/generate (NDJSON streaming by default,
// `stream: false` too), /api/tags, /api/show, /api/ps, /api/version. Each request is
// mapped onto the engine's OpenAI-shaped calls and always streamed from the engine
// (with usage), so both answer forms share one path; the final object carries
// `done_reason` and Ollama's nanosecond timings. Tool calls go out as Ollama sends them:
// whole calls with arguments as objects, each in its own object once complete. Embeddings:
// ollama-embed.ts.

import type {
  ChatCompletionChunkToolCall,
  ChatCompletionChunk,
  CompletionChunk,
  CompletionTimings,
  CompletionUsage,
  EngineInfo,
  FinishReason,
} from '../openai/engine-api';
import { EngineError } from '../engine/errors';
import { fitMaxTokens } from '../openai/fit-context';
import { jsonResponse } from './errors';
import { modelInfos, ollamaName, resolveModel, type RouteContext } from './context';
import {
  CHAT_TABLE,
  GENERATE_TABLE,
  chatMessages,
  LENIENT,
  requestOptions,
  responseFormatOf,
  toolsOf,
  samplingFromOptions,
  type OllamaChatRequest,
  type OllamaGenerateRequest,
} from './ollama-params';
import { frameStream, ndjsonFrames, NDJSON_HEADERS } from './sse';
import { keepAliveIsZero, unloadForKeepAlive } from './ollama-keep-alive';
import { renamingParams } from './param-names';
import { detectToolFormat } from '../openai/tools/format';

/** Ollama's name for a chat field in an engine error (a schema XGrammar refuses is `format`'s). */
const PARAM_NAMES: Record<string, string> = { response_format: 'format' };
import { arrayOf, bool, str, validateBody, type Check } from '../openai/validate';

/** What /api/version reports: the Ollama API level tabllm follows (clients gate features on it). */
export const OLLAMA_API_VERSION = '0.6.4';

interface Piece {
  text: string;
  /** Streamed tool-call pieces (OpenAI deltas), chat only. */
  toolCalls?: ChatCompletionChunkToolCall[];
  finish?: FinishReason;
  usage?: CompletionUsage;
  timings?: CompletionTimings;
}

const nowIso = (): string => new Date().toISOString();
const ns = (ms: number | undefined): number => Math.round((ms ?? 0) * 1e6);

/** `context`: /api/generate's final object (see `generate`), between done_reason and the stats as Ollama orders it. */
function finalStats(finish: FinishReason | undefined, usage: CompletionUsage | undefined, timings: CompletionTimings | undefined, context?: number[]) {
  return {
    done: true,
    done_reason: finish ?? 'stop',
    ...(context ? { context } : {}),
    total_duration: ns(timings?.totalMs),
    // The model is loaded before any request reaches the router.
    load_duration: 0,
    prompt_eval_count: usage?.prompt_tokens ?? 0,
    prompt_eval_duration: ns(timings?.promptMs),
    eval_count: usage?.completion_tokens ?? 0,
    eval_duration: ns(timings?.decodeMs),
  };
}

async function* chatPieces(chunks: AsyncIterable<ChatCompletionChunk>): AsyncGenerator<Piece> {
  for await (const chunk of chunks) {
    const choice = chunk.choices[0];
    yield {
      text: choice?.delta.content ?? '',
      toolCalls: choice?.delta.tool_calls,
      // Ollama ends a turn that called tools with done_reason 'stop'.
      finish: choice?.finish_reason === 'tool_calls' ? 'stop' : (choice?.finish_reason ?? undefined),
      usage: chunk.usage ?? undefined,
      timings: chunk.timings,
    };
  }
}

async function* completionPieces(chunks: AsyncIterable<CompletionChunk>): AsyncGenerator<Piece> {
  for await (const chunk of chunks) {
    const choice = chunk.choices[0];
    yield {
      text: choice?.text ?? '',
      finish: choice?.finish_reason ?? undefined,
      usage: chunk.usage ?? undefined,
      timings: chunk.timings,
    };
  }
}

type Shape = (text: string, toolCalls?: OllamaToolCall[]) => Record<string, unknown>;

interface OllamaToolCall {
  function: { name: string; arguments: Record<string, unknown> };
}

/** A call whose arguments' text is complete, with Ollama's object arguments. */
function ollamaCall(call: { name: string; args: string }): OllamaToolCall {
  let args: unknown = {};
  try {
    args = JSON.parse(call.args || '{}');
  } catch {
    // Cut short (done_reason 'length'): the text is no object; Ollama would send none either.
  }
  return { function: { name: call.name, arguments: typeof args === 'object' && args !== null && !Array.isArray(args) ? (args as Record<string, unknown>) : {} } };
}

/** Ollama objects of one request: a `done: false` object per text piece or whole tool call, then the final one. */
async function* ollamaObjects(pieces: AsyncIterable<Piece>, model: string, shape: Shape, context?: number[]): AsyncGenerator<Record<string, unknown>> {
  let finish: FinishReason | undefined;
  let usage: CompletionUsage | undefined;
  let timings: CompletionTimings | undefined;
  // The call being written: it is sent once the next one starts or the answer ends.
  let call: { name: string; args: string } | null = null;
  for await (const piece of pieces) {
    if (piece.text !== '') yield { model, created_at: nowIso(), ...shape(piece.text), done: false };
    for (const delta of piece.toolCalls ?? []) {
      if (delta.function.name !== undefined) {
        if (call) yield { model, created_at: nowIso(), ...shape('', [ollamaCall(call)]), done: false };
        call = { name: delta.function.name, args: '' };
      }
      if (call) call.args += delta.function.arguments;
    }
    finish = piece.finish ?? finish;
    usage = piece.usage ?? usage;
    timings = piece.timings ?? timings;
  }
  if (call) yield { model, created_at: nowIso(), ...shape('', [ollamaCall(call)]), done: false };
  yield { model, created_at: nowIso(), ...shape(''), ...finalStats(finish, usage, timings, context) };
}

async function answer(ctx: RouteContext, objects: AsyncIterable<Record<string, unknown>>, stream: boolean, key: 'message' | 'response'): Promise<Response> {
  if (stream) return new Response(frameStream(ndjsonFrames(objects), ctx), { status: 200, headers: NDJSON_HEADERS });
  let text = '';
  const toolCalls: unknown[] = [];
  let last: Record<string, unknown> = {};
  for await (const obj of objects) {
    const message = obj.message as { content: string; tool_calls?: unknown[] } | undefined;
    text += key === 'message' ? message!.content : (obj.response as string);
    toolCalls.push(...(message?.tool_calls ?? []));
    last = obj;
  }
  const message = { role: 'assistant', content: text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
  return jsonResponse({ ...last, ...(key === 'message' ? { message } : { response: text }) });
}

/** Empty messages/prompt: Ollama's "load the model" request, answered at once; with `keep_alive: 0`, "unload it". */
async function loaded(ctx: RouteContext, request: { model: string; keep_alive?: unknown }, id: string, key: 'message' | 'response'): Promise<Response> {
  const empty = key === 'message' ? { message: { role: 'assistant', content: '' } } : { response: '' };
  const unloaded = keepAliveIsZero(request.keep_alive) && (await unloadForKeepAlive(ctx.engine, id));
  return jsonResponse({ model: request.model, created_at: nowIso(), ...empty, done: true, done_reason: unloaded ? 'unload' : 'load' });
}

export async function chat(ctx: RouteContext): Promise<Response> {
  const request = validateBody<OllamaChatRequest>(ctx.body, CHAT_TABLE, LENIENT);
  const model = await resolveModel(ctx.engine, request.model);
  const messages = chatMessages(request);
  if (messages.length === 0) return loaded(ctx, request, model, 'message');
  const sampling = samplingFromOptions(requestOptions(request));
  const tools = toolsOf(request);
  // num_predict never fails for length (fit-context.ts); absent, chat runs until the context is full.
  const maxTokens = sampling.max_tokens == null ? undefined : await fitMaxTokens(ctx.engine, sampling.max_tokens, { model, messages, add_generation_prompt: true, tools });
  const chunks = await renamingParams(PARAM_NAMES, () => ctx.engine.chat.completions.create(
    { ...sampling, max_tokens: maxTokens, model, messages, tools, response_format: responseFormatOf(request.format), stream: true, stream_options: { include_usage: true } },
    { signal: ctx.signal },
  ));
  const shape: Shape = (text, toolCalls) => ({ message: { role: 'assistant', content: text, ...(toolCalls ? { tool_calls: toolCalls } : {}) } });
  return answer(ctx, ollamaObjects(chatPieces(chunks), request.model, shape), request.stream !== false, 'message');
}

export async function generate(ctx: RouteContext): Promise<Response> {
  const request = validateBody<OllamaGenerateRequest>(ctx.body, GENERATE_TABLE, LENIENT);
  const model = await resolveModel(ctx.engine, request.model);
  const prompt = request.prompt ?? '';
  if (prompt === '') return loaded(ctx, request, model, 'response');
  const info = await ctx.engine.info(model);
  const sampling = samplingFromOptions(requestOptions(request));
  const options = { signal: ctx.signal };
  let pieces: AsyncIterable<Piece>;
  if (request.raw !== true && info.hasChatTemplate) {
    // Ollama wraps a non-raw prompt in the model's template: a one-turn chat.
    const system = request.system ? [{ role: 'system' as const, content: request.system }] : [];
    const messages = [...system, { role: 'user' as const, content: prompt }];
    const maxTokens = sampling.max_tokens == null ? undefined : await fitMaxTokens(ctx.engine, sampling.max_tokens, { model, messages, add_generation_prompt: true });
    const chunks = await renamingParams(PARAM_NAMES, () => ctx.engine.chat.completions.create(
      { ...sampling, max_tokens: maxTokens, model, messages, response_format: responseFormatOf(request.format), stream: true, stream_options: { include_usage: true } },
      options,
    ));
    pieces = chatPieces(chunks);
  } else {
    const text = request.raw !== true && request.system ? `${request.system}\n\n${prompt}` : prompt;
    // Ollama's default is "until EOS" (num_predict -1), not OpenAI's 16 tokens.
    const maxTokens = await fitMaxTokens(ctx.engine, sampling.max_tokens ?? Infinity, { model, prompt: text });
    const chunks = await renamingParams(PARAM_NAMES, () => ctx.engine.completions.create(
      { ...sampling, max_tokens: maxTokens, model, prompt: text, response_format: responseFormatOf(request.format), stream: true, stream_options: { include_usage: true } },
      options,
    ));
    pieces = completionPieces(chunks);
  }
  const shape: Shape = (text) => ({ response: text });
  // Ollama ends a non-raw generate with `context`, the token ids to send back for a
  // follow-up; clients (the AI SDK's provider) require the field. tabllm keeps no such
  // state, so it is empty: a follow-up sends its history as text (a non-empty `context` is a 400).
  const context = request.raw === true ? undefined : [];
  return answer(ctx, ollamaObjects(pieces, request.model, shape, context), request.stream !== false, 'response');
}

// ---------------------------------------------------------------------------------------
// Model listing

function parameterSize(count: number | undefined): string {
  if (!count) return '';
  if (count >= 1e9) return `${(count / 1e9).toFixed(1)}B`;
  if (count >= 1e6) return `${(count / 1e6).toFixed(2)}M`;
  return `${(count / 1e3).toFixed(2)}K`;
}

/** A stable 64-hex identity for the model (FNV-1a over its id and size): not a content hash. */
function digest(info: EngineInfo): string {
  let out = '';
  for (let round = 0; round < 8; round++) {
    let h = 0x811c9dc5 ^ round;
    for (const ch of `${info.id}:${info.sizeBytes ?? 0}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193);
    out += (h >>> 0).toString(16).padStart(8, '0');
  }
  return out;
}

function details(info: EngineInfo) {
  return {
    parent_model: '',
    format: 'gguf',
    family: info.arch,
    families: [info.arch],
    parameter_size: parameterSize(info.parameterCount),
    quantization_level: info.quant,
  };
}

function modelEntry(info: EngineInfo) {
  return {
    name: ollamaName(info.id),
    model: ollamaName(info.id),
    modified_at: new Date(info.created * 1000).toISOString(),
    size: info.sizeBytes ?? 0,
    digest: digest(info),
    details: details(info),
  };
}

export async function tags(ctx: RouteContext): Promise<Response> {
  return jsonResponse({ models: (await modelInfos(ctx.engine)).map(modelEntry) });
}

export async function ps(ctx: RouteContext): Promise<Response> {
  // Loaded until unloaded (or the page or process goes away): Ollama's "forever" is a far-future expiry.
  const entry = (info: EngineInfo) => ({ ...modelEntry(info), expires_at: '2318-08-08T00:00:00Z', size_vram: info.gpuBytes ?? 0, context_length: info.contextLength });
  return jsonResponse({ models: (await modelInfos(ctx.engine)).map(entry) });
}

export async function show(ctx: RouteContext): Promise<Response> {
  const request = validateBody<{ model?: string; name?: string }>(ctx.body, {
    model: { check: str },
    name: { check: str },
    verbose: { ignored: true },
  }, LENIENT);
  const requested = request.model ?? request.name;
  if (requested === undefined) throw new EngineError('invalid_request', "Missing required parameter: 'model'.", 'model');
  const info = await ctx.engine.info(await resolveModel(ctx.engine, requested));
  return jsonResponse({
    modelfile: `# Modelfile generated by tabllm\nFROM ${info.id}\n`,
    parameters: '',
    template: info.chatTemplate ?? '',
    details: details(info),
    model_info: {
      'general.architecture': info.arch,
      'general.parameter_count': info.parameterCount ?? 0,
      [`${info.arch}.context_length`]: info.contextLength,
    },
    // Ollama clients look for 'tools' before they offer tools (the template decides, as in Ollama).
    capabilities: info.task === 'embed' ? ['embedding'] : info.chatTemplate !== undefined && detectToolFormat(info.chatTemplate) !== null ? ['completion', 'tools'] : ['completion'],
    modified_at: new Date(info.created * 1000).toISOString(),
  });
}

export async function version(): Promise<Response> {
  return jsonResponse({ version: OLLAMA_API_VERSION });
}
