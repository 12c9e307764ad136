// The per-request deadline (`requestTimeoutMs`, `tabllm serve --request-timeout`). When it
// fires, the request's abort signal fires (the engine drops the request and frees its KV
// blocks) and the client learns why: a 504 `request_timeout` if no answer was sent yet, or
// a last in-band frame (an SSE error event and `[DONE]`, an NDJSON error line) when a
// stream was under way. Other bodies in flight are cut off (the connection closes).

import { HttpError, ollamaErrorBody, openaiErrorBody } from './errors';
import { ndjsonLine, SSE_DONE, sseEvent } from './sse';

export interface Deadline {
  /** The 504 once the deadline has fired, else undefined. */
  readonly error: HttpError | undefined;
  /** Rejects with the 504 when the deadline fires; never resolves. */
  readonly expired: Promise<never>;
  /** Stops the timer (the answer is complete). */
  clear(): void;
}

export function timeoutError(ms: number): HttpError {
  return new HttpError(504, 'request_timeout', `The request did not complete within the server's request timeout (${ms / 1000} s).`);
}

/** Starts a deadline of `ms`; `onFire` runs once when it passes (abort the request there). */
export function startDeadline(ms: number, onFire: (err: HttpError) => void): Deadline {
  let error: HttpError | undefined;
  let reject!: (err: HttpError) => void;
  const expired = new Promise<never>((_, r) => (reject = r));
  // Nobody may be waiting on `expired` when it rejects (the answer already went out).
  expired.catch(() => undefined);
  const timer = setTimeout(() => {
    error = timeoutError(ms);
    onFire(error);
    reject(error);
  }, ms);
  // Node: a pending deadline must not keep the process alive.
  (timer as { unref?: () => void }).unref?.();
  return {
    get error() {
      return error;
    },
    expired,
    clear: () => clearTimeout(timer),
  };
}

/** The frame that tells a streaming client about the timeout, by the stream's content type. */
function lastFrame(contentType: string, err: HttpError): string | undefined {
  if (contentType.startsWith('text/event-stream')) return sseEvent(openaiErrorBody(err)) + SSE_DONE;
  if (contentType.startsWith('application/x-ndjson')) return ndjsonLine(ollamaErrorBody(err));
  return undefined;
}

/**
 * `response` with a body that ends when the deadline fires (the inner stream is
 * cancelled, so its engine request is released) and clears the deadline when it ends first.
 */
export function untilDeadline(response: Response, deadline: Deadline): Response {
  if (response.body === null) {
    deadline.clear();
    return response;
  }
  const reader = response.body.getReader();
  const contentType = response.headers.get('content-type') ?? '';
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let result: ReadableStreamReadResult<Uint8Array> | undefined;
        try {
          // Checked first: a stream the abort already closed would read as a clean end.
          if (deadline.error === undefined) result = await Promise.race([reader.read(), deadline.expired]);
        } catch (err) {
          if (deadline.error === undefined) {
            deadline.clear();
            controller.error(err);
            return;
          }
        }
        if (result && !result.done) {
          controller.enqueue(result.value);
          return;
        }
        deadline.clear();
        if (deadline.error !== undefined) {
          void reader.cancel(deadline.error).catch(() => undefined);
          const frame = lastFrame(contentType, deadline.error);
          // No frame for this body type: an error, so the host closes the connection mid-body.
          if (frame === undefined) {
            controller.error(deadline.error);
            return;
          }
          controller.enqueue(encoder.encode(frame));
        }
        controller.close();
      },
      cancel(reason) {
        deadline.clear();
        return reader.cancel(reason);
      },
    },
    // One chunk at a time, as the inner stream: the engine is not asked for more than the reader took.
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
