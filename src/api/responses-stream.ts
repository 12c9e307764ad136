// The Responses API event stream of one answer, from the chat pipeline's chunks:
//
//   response.created → response.in_progress → response.output_item.added →
//   response.content_part.added → response.output_text.delta × n → response.output_text.done →
//   response.content_part.done → response.output_item.done → response.completed
//                                                            (or response.incomplete)
//
// Every event has `type` and a `sequence_number` counting from 0, as OpenAI sends them.
// An engine error after the stream began becomes one `error` event carrying both of
// OpenAI's shapes (top-level `code`/`message`/`param`, and a nested `error` object, which
// makes the `openai` client throw it as an APIError); an abort ends the stream silently.

import type { ChatCompletionChunk, CompletionUsage, FinishReason } from '../openai/engine-api';
import { isAbortError } from '../engine/errors';
import { openaiErrorBody, toHttpError } from './errors';
import {
  finishedStatus,
  outputMessage,
  outputText,
  responseObject,
  responseUsage,
  type ResponseHeader,
  type ResponseObject,
} from './responses-shapes';

export interface ResponseEvent {
  type: string;
  sequence_number: number;
  [field: string]: unknown;
}

/**
 * Events of `chunks` (a one-choice chat stream with `include_usage`); `onDone` gets the
 * final response object (completed or incomplete) before its event is sent.
 */
export async function* responseEvents(
  head: ResponseHeader,
  messageId: string,
  chunks: AsyncIterable<ChatCompletionChunk>,
  onDone: (response: ResponseObject) => void,
): AsyncGenerator<ResponseEvent> {
  let seq = 0;
  const event = (type: string, fields: Record<string, unknown>): ResponseEvent => ({ type, sequence_number: seq++, ...fields });
  const at = { item_id: messageId, output_index: 0, content_index: 0 };

  const started = responseObject(head, 'in_progress', [], null);
  yield event('response.created', { response: started });
  yield event('response.in_progress', { response: started });
  yield event('response.output_item.added', { output_index: 0, item: outputMessage(messageId, 'in_progress', null) });
  yield event('response.content_part.added', { ...at, part: outputText('') });

  let text = '';
  let finish: FinishReason | null = null;
  let usage: CompletionUsage | undefined;
  try {
    for await (const chunk of chunks) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice === undefined) continue;
      finish = choice.finish_reason ?? finish;
      const delta = choice.delta.content ?? '';
      if (delta === '') continue;
      text += delta;
      yield event('response.output_text.delta', { ...at, delta, logprobs: [] });
    }
  } catch (err) {
    if (isAbortError(err)) return;
    const { error } = openaiErrorBody(toHttpError(err));
    yield event('error', { code: error.code, message: error.message, param: error.param, error });
    return;
  }

  const status = finishedStatus(finish);
  const message = outputMessage(messageId, status, text);
  yield event('response.output_text.done', { ...at, text, logprobs: [] });
  yield event('response.content_part.done', { ...at, part: message.content[0] });
  yield event('response.output_item.done', { output_index: 0, item: message });
  const final = responseObject(head, status, [message], usage === undefined ? null : responseUsage(usage));
  onDone(final);
  yield event(status === 'completed' ? 'response.completed' : 'response.incomplete', { response: final });
}
