// An async iterable across a MessagePort: the producer pushes every item as it comes
// (no per-item round trip); the consumer can cancel, which reaches the producer as an
// abort. Messages: {t:'item', v} | {t:'end'} | {t:'error', e: WireError} ; back: {t:'cancel'}.
import { fromWireError, toWireError, type WireError } from './wire-errors';

type Msg = { t: 'item'; v: unknown } | { t: 'end' } | { t: 'error'; e: WireError };

/** Producer side: drains `source` into `port`; a `cancel` from the consumer aborts `controller`. */
export async function pumpToPort<T>(source: AsyncIterable<T>, port: MessagePort, controller?: AbortController): Promise<void> {
  let cancelled = false;
  const iterator = source[Symbol.asyncIterator]();
  port.onmessage = (e: MessageEvent) => {
    if ((e.data as { t?: string })?.t === 'cancel') {
      cancelled = true;
      controller?.abort(new DOMException('stream cancelled by the consumer', 'AbortError'));
      void iterator.return?.();
    }
  };
  try {
    for (;;) {
      const { done, value } = await iterator.next();
      if (done || cancelled) break;
      port.postMessage({ t: 'item', v: value } satisfies Msg);
    }
    if (!cancelled) port.postMessage({ t: 'end' } satisfies Msg);
  } catch (err) {
    if (!cancelled) port.postMessage({ t: 'error', e: toWireError(err) } satisfies Msg);
  } finally {
    // Let the last message flush before closing the port.
    setTimeout(() => port.close(), 0);
  }
}

/** Consumer side: an async iterable over the items `pumpToPort` sends. */
export function iterableFromPort<T>(port: MessagePort, signal?: AbortSignal): AsyncIterable<T> {
  const queue: Msg[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  port.onmessage = (e: MessageEvent) => {
    queue.push(e.data as Msg);
    wake?.();
    wake = undefined;
  };
  port.start?.();
  const cancel = () => {
    if (finished) return;
    finished = true;
    port.postMessage({ t: 'cancel' });
    setTimeout(() => port.close(), 0);
  };
  // An abort ends the local iterator at once with an AbortError and tells the producer.
  signal?.addEventListener(
    'abort',
    () => {
      if (finished) return;
      queue.push({ t: 'error', e: { __tabllmError: true, name: 'AbortError', message: 'request aborted' } });
      wake?.();
      cancel();
    },
    { once: true },
  );
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      return {
        async next(): Promise<IteratorResult<T>> {
          for (;;) {
            const msg = queue.shift();
            if (msg) {
              if (msg.t === 'item') return { done: false, value: msg.v as T };
              if (!finished) port.close();
              finished = true;
              if (msg.t === 'end') return { done: true, value: undefined };
              throw fromWireError(msg.e);
            }
            if (finished) return { done: true, value: undefined };
            await new Promise<void>((r) => (wake = r));
          }
        },
        async return(): Promise<IteratorResult<T>> {
          cancel();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
