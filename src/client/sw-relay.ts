// The service worker's half of the relay: one intercepted Request → a RelayRequest on a
// host's port → a streamed Response built from the reply port's messages. Plain
// MessagePort code, so Node tests drive it without a browser.
import { noHostResponse, type RelayAbort, type RelayReply, type RelayRequest } from './sw-protocol';

export interface RelayOptions {
  /** The requesting client's abort (FetchEvent.request.signal). */
  signal?: AbortSignal;
  /** Polled while the relay is open; false ends it (the host page closed). */
  isHostAlive?: () => Promise<boolean>;
  /** Poll period for `isHostAlive`, ms. */
  livenessMs?: number;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export async function relayRequest(request: Request, hostPort: MessagePort, options: RelayOptions = {}): Promise<Response> {
  const method = request.method.toUpperCase();
  const body = method === 'GET' || method === 'HEAD' ? null : await request.arrayBuffer();
  const channel = new MessageChannel();
  const reply = channel.port1;
  const message: RelayRequest = { type: 'tabllm:request', url: request.url, method, headers: [...request.headers], body };
  hostPort.postMessage(message, body ? [channel.port2, body] : [channel.port2]);

  return new Promise<Response>((resolve) => {
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    let answered = false;
    let finished = false;
    let timer: ReturnType<typeof setInterval> | undefined;

    const finish = () => {
      finished = true;
      if (timer !== undefined) clearInterval(timer);
      options.signal?.removeEventListener('abort', abort);
      reply.onmessage = null;
      setTimeout(() => reply.close(), 0);
    };
    // The client is gone: tell the host so the engine stops and frees the request's blocks.
    function abort() {
      if (finished) return;
      reply.postMessage({ t: 'abort' } satisfies RelayAbort);
      stream?.error(new DOMException('the request was aborted', 'AbortError'));
      if (!answered) resolve(noHostResponse(new URL(request.url), 'The request was aborted.'));
      answered = true;
      finish();
    }
    const fail = (text: string) => {
      if (finished) return;
      if (!answered) resolve(noHostResponse(new URL(request.url), text));
      else stream?.error(new Error(text));
      answered = true;
      finish();
    };

    options.signal?.addEventListener('abort', abort, { once: true });
    if (options.signal?.aborted) return abort();
    if (options.isHostAlive) {
      const isHostAlive = options.isHostAlive;
      timer = setInterval(() => {
        void isHostAlive().then((alive) => {
          if (alive) return;
          fail('The page that hosted the engine went away during the request.');
        });
      }, options.livenessMs ?? 1000);
    }

    reply.onmessage = (event: MessageEvent) => {
      const msg = event.data as RelayReply;
      switch (msg.t) {
        case 'head': {
          answered = true;
          const noBody = method === 'HEAD' || NULL_BODY_STATUS.has(msg.status);
          const responseBody = noBody
            ? null
            : new ReadableStream<Uint8Array>({
                start: (controller) => void (stream = controller),
                cancel: () => abort(),
              });
          resolve(new Response(responseBody, { status: msg.status, statusText: msg.statusText, headers: msg.headers }));
          if (noBody) finish();
          break;
        }
        case 'chunk':
          stream?.enqueue(msg.bytes);
          break;
        case 'end':
          stream?.close();
          finish();
          break;
        case 'error':
          fail(`The engine host failed: ${msg.message}`);
          break;
      }
    };
    reply.start();
  });
}
