// registerTabllmServiceWorker: registers worker/sw.ts (as a module worker) with the relay
// config in its URL and resolves once this page is controlled, so the page's next fetch
// to http://localhost:8000/v1/… already goes through the relay. The page's own origin is
// relayed only under the `sameOriginPrefixes` it lists.
import { checkRelayConfig, encodeRelayConfig, RelayError } from './sw-config';
import type { ClaimRequest, RelayConfig } from './sw-protocol';

export interface RegisterOptions extends Partial<RelayConfig> {
  /**
   * URL of the built service worker script (default `/tabllm-sw.js`). Its scope must cover
   * the pages: serve it from the root, or send `Service-Worker-Allowed: /`.
   */
  scriptUrl?: string | URL;
  /** Default `/`. */
  scope?: string;
  /** How long to wait for the worker to take control of this page, ms (default 10000). */
  timeoutMs?: number;
}

export async function registerTabllmServiceWorker(options: RegisterOptions = {}): Promise<ServiceWorkerRegistration> {
  const container = globalThis.navigator?.serviceWorker;
  if (!container) {
    throw new RelayError('service_worker_unavailable', 'service workers are not available (needs a secure context, and not a private window in some browsers); use the fetch shim instead');
  }
  const config = checkRelayConfig(options);
  const scriptUrl = encodeRelayConfig(new URL(options.scriptUrl ?? '/tabllm-sw.js', location.href), config);
  const registration = await container.register(scriptUrl.href, { type: 'module', scope: options.scope ?? '/' });
  const ready = await container.ready;
  if (container.controller) return registration;
  // A first install claims the page on activate; a hard reload leaves it uncontrolled, so ask.
  const controlled = new Promise<void>((resolve) => container.addEventListener('controllerchange', () => resolve(), { once: true }));
  ready.active?.postMessage({ type: 'tabllm:claim' } satisfies ClaimRequest);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RelayError('not_controlled', 'the service worker did not take control of this page')), options.timeoutMs ?? 10_000);
  });
  try {
    await Promise.race([controlled, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return registration;
}
