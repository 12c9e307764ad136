// OpenAI-compatible routes (vLLM's and Ollama's `/v1`): chat completions, completions,
// models, and vLLM's /tokenize and /detokenize (embeddings: embeddings.ts). Handlers validate, resolve the
// model, call the engine, and frame the answer; the engine never sees an invalid request.

import type {
  ChatCompletionChunk,
  CompletionChunk,
  CompletionTimings,
} from '../openai/engine-api';
import { EngineError } from '../engine/errors';
import { jsonResponse } from './errors';
import { resolveModel, type RouteContext } from './context';
import {
  validateChatParams,
  validateCompletionParams,
  validateDetokenizeParams,
  validateTokenizeParams,
} from '../openai/params';
import { frameStream, sseFrames, SSE_HEADERS } from './sse';

/** Drops the tabllm `timings` extension so OpenAI routes answer OpenAI's exact shape. */
function withoutTimings<T extends { timings?: CompletionTimings }>(obj: T): T {
  if (obj.timings === undefined) return obj;
  const { timings: _dropped, ...rest } = obj;
  return rest as T;
}

/**
 * Guarantees the first chunk of every chat choice carries `delta.role` (the `openai`
 * client's stream helpers and many UIs key on it), whatever the engine sent.
 */
async function* chatChunks(chunks: AsyncIterable<ChatCompletionChunk>): AsyncGenerator<ChatCompletionChunk> {
  const roleSent = new Set<number>();
  for await (const chunk of chunks) {
    for (const choice of chunk.choices) {
      if (!roleSent.has(choice.index)) {
        roleSent.add(choice.index);
        if (choice.delta.role === undefined) choice.delta = { role: 'assistant', ...choice.delta };
      }
    }
    yield withoutTimings(chunk);
  }
}

async function* completionChunks(chunks: AsyncIterable<CompletionChunk>): AsyncGenerator<CompletionChunk> {
  for await (const chunk of chunks) yield withoutTimings(chunk);
}

function sseResponse(frames: AsyncIterable<unknown>, ctx: RouteContext): Response {
  return new Response(frameStream(sseFrames(frames), ctx), { status: 200, headers: SSE_HEADERS });
}

export async function chatCompletions(ctx: RouteContext): Promise<Response> {
  const params = validateChatParams(ctx.body);
  const model = await resolveModel(ctx.engine, params.model);
  const request = { ...params, model };
  if (request.stream === true) {
    const chunks = await ctx.engine.chat.completions.create({ ...request, stream: true }, { signal: ctx.signal });
    return sseResponse(chatChunks(chunks), ctx);
  }
  const completion = await ctx.engine.chat.completions.create({ ...request, stream: false }, { signal: ctx.signal });
  return jsonResponse(withoutTimings(completion));
}

export async function completions(ctx: RouteContext): Promise<Response> {
  const params = validateCompletionParams(ctx.body);
  const model = await resolveModel(ctx.engine, params.model);
  const request = { ...params, model };
  if (request.stream === true) {
    const chunks = await ctx.engine.completions.create({ ...request, stream: true }, { signal: ctx.signal });
    return sseResponse(completionChunks(chunks), ctx);
  }
  const completion = await ctx.engine.completions.create({ ...request, stream: false }, { signal: ctx.signal });
  return jsonResponse(withoutTimings(completion));
}

export async function listModels(ctx: RouteContext): Promise<Response> {
  return jsonResponse(await ctx.engine.models.list());
}

export async function retrieveModel(ctx: RouteContext): Promise<Response> {
  const { data } = await ctx.engine.models.list();
  const id = await resolveModel(ctx.engine, ctx.pathParam);
  return jsonResponse(data.find((m) => m.id === id));
}

export async function tokenize(ctx: RouteContext): Promise<Response> {
  const params = validateTokenizeParams(ctx.body);
  const model = await resolveModel(ctx.engine, params.model);
  if ('messages' in params && !(await ctx.engine.info(model)).hasChatTemplate) {
    throw new EngineError('model_has_no_chat_template', `The model '${model}' has no chat template.`, 'messages');
  }
  return jsonResponse(await ctx.engine.tokenize({ ...params, model }));
}

export async function detokenize(ctx: RouteContext): Promise<Response> {
  const params = validateDetokenizeParams(ctx.body);
  const model = await resolveModel(ctx.engine, params.model);
  return jsonResponse(await ctx.engine.detokenize({ ...params, model }));
}
