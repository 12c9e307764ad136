// OpenAI's Responses API (`POST /v1/responses`, `GET`/`DELETE /v1/responses/{id}`), as
// vLLM and Ollama serve it, on the chat pipeline: `instructions` + the previous turns
// (`previous_response_id`) + `input` become chat messages for
// `engine.chat.completions.create`; its answer becomes one assistant output message.
// Answers are kept in the router's ResponseStore unless `store: false`.

import type { ChatCompletionCreateParamsBase, ChatMessage } from '../openai/engine-api';
import { EngineError } from '../engine/errors';
import { unixSeconds } from '../openai/shapes';
import { HttpError, jsonResponse } from './errors';
import { resolveModel, type RouteContext } from './context';
import { responseFormatOf, validateResponsesParams, type ResponsesCreateParams, type ResponsesInputItem } from './responses-params';
import {
  finishedStatus,
  outputMessage,
  responseObject,
  responseUsage,
  type ResponseHeader,
  type ResponseObject,
} from './responses-shapes';
import { responseEvents } from './responses-stream';
import { randomId, type ResponseStore } from './responses-store';
import { frameStream, sseNamedEvent, SSE_HEADERS } from './sse';
import { renamingParams } from './param-names';

function notFound(id: string, param: string, store: ResponseStore): HttpError {
  const kept = `this server keeps the last ${store.capacity} responses made without 'store: false', in memory`;
  return new HttpError(404, 'response_not_found', `No stored response with id '${id}' (${kept}).`, param);
}

/** The chat messages of `input`; an `item_reference` names an output message of a stored response. */
function inputMessages(input: ResponsesCreateParams['input'], store: ResponseStore): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  return input.map((item: ResponsesInputItem, i) => {
    if (item.type === 'item_reference') {
      const message = store.findOutputMessage(item.id);
      if (message === undefined) {
        throw new EngineError('invalid_request', `No stored output message with id '${item.id}'.`, `input[${i}].id`);
      }
      return { role: 'assistant', content: message.content.map((part) => part.text).join('') };
    }
    const content = typeof item.content === 'string' ? item.content : item.content.map((part) => part.text).join('');
    return { role: item.role, content };
  });
}

/** Engine errors name chat fields; a Responses client sent `input` and `max_output_tokens`. */
const PARAM_NAMES: Record<string, string> = { messages: 'input', max_completion_tokens: 'max_output_tokens', max_tokens: 'max_output_tokens', response_format: 'text.format' };


export async function createResponse(ctx: RouteContext): Promise<Response> {
  const params = validateResponsesParams(ctx.body);
  const model = await resolveModel(ctx.engine, params.model);
  let previous: ChatMessage[] = [];
  if (params.previous_response_id != null) {
    const stored = ctx.responses.get(params.previous_response_id);
    if (stored === undefined) throw notFound(params.previous_response_id, 'previous_response_id', ctx.responses);
    previous = stored.conversation;
  }
  const conversation = [...previous, ...inputMessages(params.input, ctx.responses)];
  // OpenAI: `instructions` apply to this turn only; they are not carried to the next.
  const messages: ChatMessage[] = params.instructions != null ? [{ role: 'system', content: params.instructions }, ...conversation] : conversation;
  const chat: ChatCompletionCreateParamsBase = {
    model,
    messages,
    max_completion_tokens: params.max_output_tokens,
    temperature: params.temperature,
    top_p: params.top_p,
    response_format: responseFormatOf(params),
  };
  const head: ResponseHeader = { id: randomId('resp'), createdAt: unixSeconds(), model, params, store: params.store ?? true };
  const messageId = randomId('msg');
  const remember = (response: ResponseObject) => {
    if (!head.store) return;
    const answer = response.output[0]?.content[0]?.text ?? '';
    ctx.responses.put({ response, conversation: [...conversation, { role: 'assistant', content: answer }] });
  };

  if (params.stream === true) {
    const chunks = await renamingParams(PARAM_NAMES, () =>
      ctx.engine.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } }, { signal: ctx.signal }),
    );
    const frames = (async function* () {
      for await (const event of responseEvents(head, messageId, chunks, remember)) yield sseNamedEvent(event.type, event);
    })();
    return new Response(frameStream(frames, ctx), { status: 200, headers: SSE_HEADERS });
  }
  const completion = await renamingParams(PARAM_NAMES, () => ctx.engine.chat.completions.create({ ...chat, stream: false }, { signal: ctx.signal }));
  const choice = completion.choices[0];
  const status = finishedStatus(choice.finish_reason);
  const response = responseObject(head, status, [outputMessage(messageId, status, choice.message.content)], responseUsage(completion.usage));
  remember(response);
  return jsonResponse(response);
}

export async function retrieveResponse(ctx: RouteContext): Promise<Response> {
  // A stored answer is replayed as JSON only; the event-stream replay is OpenAI's background mode.
  if (ctx.url.searchParams.get('stream') === 'true') {
    throw new EngineError('unsupported_parameter', "'stream' is not supported by tabllm on GET /v1/responses/{id}.", 'stream');
  }
  const stored = ctx.responses.get(ctx.pathParam);
  if (stored === undefined) throw notFound(ctx.pathParam, 'response_id', ctx.responses);
  return jsonResponse(stored.response);
}

export async function deleteResponse(ctx: RouteContext): Promise<Response> {
  if (!ctx.responses.delete(ctx.pathParam)) throw notFound(ctx.pathParam, 'response_id', ctx.responses);
  return jsonResponse({ id: ctx.pathParam, object: 'response', deleted: true });
}
