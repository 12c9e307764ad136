// The host page's half of the relay: answers RelayRequests with `createRouter(engine)` and
// streams each Response back over its reply port. `hostEngineForServiceWorker` announces
// this page to the active service worker and re-announces when the SW asks (after a
// restart) or changes (controllerchange).
import type { Engine } from '../openai/engine-api';
import { createRouter, type Router, type RouterOptions } from '../api/router';
import { RelayError } from './sw-config';
import type { HostAck, HostWithdraw, RelayReply, RelayRequest } from './sw-protocol';

/** Serves every RelayRequest that arrives on `port` with `router`. */
export function serveRelayPort(port: MessagePort, router: Router): void {
  port.onmessage = (event: MessageEvent) => {
    const msg = event.data as RelayRequest | HostAck;
    if (msg?.type === 'tabllm:request' && event.ports[0]) void answer(msg, event.ports[0], router);
  };
  port.start();
}

async function answer(msg: RelayRequest, reply: MessagePort, router: Router): Promise<void> {
  const controller = new AbortController();
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  reply.onmessage = (event: MessageEvent) => {
    if ((event.data as { t?: string })?.t !== 'abort') return;
    controller.abort(new DOMException('the requesting page went away', 'AbortError'));
    void reader?.cancel().catch(() => undefined);
  };
  reply.start();
  const send = (m: RelayReply, transfer: Transferable[] = []) => reply.postMessage(m, transfer);
  try {
    const request = new Request(msg.url, { method: msg.method, headers: msg.headers, body: msg.body, signal: controller.signal });
    const response = await router(request);
    send({ t: 'head', status: response.status, statusText: response.statusText, headers: [...response.headers] });
    if (response.body) {
      reader = response.body.getReader();
      if (controller.signal.aborted) await reader.cancel();
      for (;;) {
        const { value, done } = await reader.read();
        if (done || controller.signal.aborted) break;
        // A copy owns its whole buffer, so the buffer can be transferred, not cloned.
        const bytes = value.slice();
        send({ t: 'chunk', bytes }, [bytes.buffer]);
      }
    }
    if (!controller.signal.aborted) send({ t: 'end' });
  } catch (err) {
    if (!controller.signal.aborted) send({ t: 'error', message: err instanceof Error ? err.message : String(err) });
  } finally {
    setTimeout(() => reply.close(), 0);
  }
}

export interface ServiceWorkerHost {
  /** Times this page announced itself (1 at start, +1 for each SW restart or change). */
  readonly announcements: number;
  /** Stops answering: later relayed requests get the no-host 503 (or go to another host). */
  stop(): void;
}

export interface HostOptions extends RouterOptions {
  /** How long to wait for the service worker to confirm the host, ms (default 5000). */
  ackTimeoutMs?: number;
}

/**
 * Makes this page the engine host for the tabllm service worker: relayed `/v1` and `/api`
 * requests from any controlled page run against `engine` here. Takes an Engine, or a Router
 * when the caller built one (with passthrough options, say).
 */
export async function hostEngineForServiceWorker(engine: Engine | Router, options: HostOptions = {}): Promise<ServiceWorkerHost> {
  const container = globalThis.navigator?.serviceWorker;
  if (!container) throw new RelayError('service_worker_unavailable', 'service workers are not available here (a secure context is needed)');
  // `ready` would wait forever without a registration: fail with a clear error instead.
  if (!(await container.getRegistration())) {
    throw new RelayError('service_worker_unavailable', 'no service worker is registered for this page: call registerTabllmServiceWorker() first');
  }
  const router = typeof engine === 'function' ? engine : createRouter(engine, options);
  let port: MessagePort | undefined;
  let stopped = false;
  let announcements = 0;

  const announce = async (): Promise<void> => {
    const registration = await container.ready;
    const worker = registration.active;
    if (!worker || stopped) return;
    port?.close();
    const channel = new MessageChannel();
    port = channel.port1;
    const acked = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new RelayError('no_engine_host', 'the service worker did not confirm this page as the engine host')),
        options.ackTimeoutMs ?? 5000,
      );
      channel.port1.addEventListener('message', (e: MessageEvent) => {
        if ((e.data as HostAck)?.type === 'tabllm:hosted') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    serveRelayPort(channel.port1, router);
    announcements++;
    worker.postMessage({ type: 'tabllm:host' }, [channel.port2]);
    await acked;
  };
  const onMessage = (event: MessageEvent) => {
    if ((event.data as { type?: string })?.type === 'tabllm:discover') void announce().catch(() => undefined);
  };
  const onControllerChange = () => void announce().catch(() => undefined);
  container.addEventListener('message', onMessage);
  container.addEventListener('controllerchange', onControllerChange);
  container.startMessages();
  await announce();
  return {
    get announcements() {
      return announcements;
    },
    stop() {
      stopped = true;
      container.removeEventListener('message', onMessage);
      container.removeEventListener('controllerchange', onControllerChange);
      port?.postMessage({ type: 'tabllm:unhost' } satisfies HostWithdraw);
      port?.close();
      port = undefined;
    },
  };
}
