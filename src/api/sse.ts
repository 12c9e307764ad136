// Stream framing: server-sent events for OpenAI (`data: {json}\n\n` … `data: [DONE]\n\n`,
// or `event: type` + `data:` frames for the Responses API)
// and newline-delimited JSON for Ollama, plus the one place where a response body stream
// is built from an async iterable — pull-based, so a slow reader slows the producer, and
// a reader's cancel() aborts the engine request behind it.

import { isAbortError } from '../engine/errors';
import { ollamaErrorBody, openaiErrorBody, toHttpError } from './errors';

export const SSE_DONE = 'data: [DONE]\n\n';

export function sseEvent(data: unknown): string {
  // JSON.stringify never emits a raw newline, so one `data:` line is always enough.
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** A frame with an `event:` line, as OpenAI's Responses stream sends (no `[DONE]` follows). */
export function sseNamedEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function ndjsonLine(data: unknown): string {
  return `${JSON.stringify(data)}\n`;
}

/**
 * OpenAI SSE frames of `chunks`, then `[DONE]`. An engine error after the stream began
 * (device lost) is sent as an `{ error }` event — the `openai` client throws it as an
 * APIError — followed by `[DONE]`. An abort ends the stream silently: nobody is reading.
 */
export async function* sseFrames(chunks: AsyncIterable<unknown>): AsyncGenerator<string> {
  try {
    for await (const chunk of chunks) yield sseEvent(chunk);
  } catch (err) {
    if (isAbortError(err)) return;
    yield sseEvent(openaiErrorBody(toHttpError(err)));
  }
  yield SSE_DONE;
}

/** Ollama NDJSON lines of `objects`; an engine error mid-stream becomes an `{ "error": … }` line. */
export async function* ndjsonFrames(objects: AsyncIterable<unknown>): AsyncGenerator<string> {
  try {
    for await (const obj of objects) yield ndjsonLine(obj);
  } catch (err) {
    if (isAbortError(err)) return;
    yield ndjsonLine(ollamaErrorBody(toHttpError(err)));
  }
}

/**
 * A byte stream over `frames`. `owner.abort()` runs when the reader cancels (the client
 * went away); it should abort the engine request so the pending `next()` settles promptly.
 *
 * The stream holds `owner` (the route context, and through it the Request) until it ends:
 * undici's Request follows the client's signal through an AbortController that only the
 * Request keeps alive, so dropping the Request early would lose the client's abort.
 */
export function frameStream(frames: AsyncIterable<string>, owner: { abort(): void }): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = frames[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { value, done } = await iterator.next();
          if (done) controller.close();
          else controller.enqueue(encoder.encode(value));
        } catch (err) {
          controller.error(err);
        }
      },
      async cancel() {
        owner.abort();
        await iterator.return?.(undefined);
      },
    },
    // One frame at a time: the engine is not asked for more than the reader has taken.
    { highWaterMark: 0 },
  );
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
} as const;

export const NDJSON_HEADERS = { 'content-type': 'application/x-ndjson' } as const;
