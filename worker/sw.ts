// The tabllm service worker: intercepts fetches from controlled pages for the API paths of
// the configured endpoints (other origins like http://localhost:8000, and opted-in prefixes
// of its own origin like /llm/) and relays them to a page that hosts an engine
// (src/client/sw-host.ts); everything else goes to the network. It never holds a model:
// browsers stop idle service workers, and a restarted one finds hosts again by asking every
// window (`tabllm:discover`). Config comes from the script URL's query
// (`?origins=…&sameOriginPrefixes=…`), written by registerTabllmServiceWorker.
/// <reference lib="webworker" />
import {
  decodeRelayConfig,
  noHostResponse,
  shouldRelay,
  type ClaimRequest,
  type DiscoverHosts,
  type HostAck,
  type HostAnnounce,
  type HostWithdraw,
} from '../src/client/sw-protocol';
import { relayRequest } from '../src/client/sw-relay';

declare const self: ServiceWorkerGlobalScope;

const config = decodeRelayConfig(new URL(self.location.href));
/** How long a request waits for a host to answer a discover broadcast, ms. */
const DISCOVER_WAIT_MS = 500;

/** Live hosts by client id; the most recently announced is last (and preferred). */
const hosts = new Map<string, MessagePort>();
let hostAnnounced: (() => void)[] = [];

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('message', (event: ExtendableMessageEvent) => {
  const data = event.data as HostAnnounce | ClaimRequest | undefined;
  const source = event.source as Client | null;
  if (data?.type === 'tabllm:claim') {
    event.waitUntil(self.clients.claim());
    return;
  }
  if (data?.type !== 'tabllm:host' || !event.ports[0] || !source) return;
  const port = event.ports[0];
  hosts.get(source.id)?.close();
  hosts.delete(source.id);
  hosts.set(source.id, port);
  port.onmessage = (e: MessageEvent) => {
    if ((e.data as HostWithdraw)?.type === 'tabllm:unhost' && hosts.get(source.id) === port) hosts.delete(source.id);
  };
  port.postMessage({ type: 'tabllm:hosted' } satisfies HostAck);
  for (const wake of hostAnnounced) wake();
  hostAnnounced = [];
});

async function isAlive(clientId: string): Promise<boolean> {
  return (await self.clients.get(clientId)) !== undefined;
}

/** The newest host whose page still exists; asks all windows once if none is known. */
async function findHost(): Promise<[string, MessagePort] | undefined> {
  for (let round = 0; round < 2; round++) {
    for (const [id, port] of [...hosts].reverse()) {
      if (await isAlive(id)) return [id, port];
      hosts.delete(id);
    }
    if (round === 1) break;
    const announced = new Promise<void>((resolve) => {
      hostAnnounced.push(resolve);
      setTimeout(resolve, DISCOVER_WAIT_MS);
    });
    for (const client of await self.clients.matchAll({ type: 'window', includeUncontrolled: true })) {
      client.postMessage({ type: 'tabllm:discover' } satisfies DiscoverHosts);
    }
    await announced;
  }
  return undefined;
}

self.addEventListener('fetch', (event: FetchEvent) => {
  const url = new URL(event.request.url);
  if (!shouldRelay(url, self.location.origin, config)) return;
  event.respondWith(
    (async () => {
      const host = await findHost();
      if (!host) {
        return noHostResponse(url, 'No page hosts a tabllm engine: open a page that calls hostEngineForServiceWorker(engine).');
      }
      const [hostId, port] = host;
      return relayRequest(event.request, port, { signal: event.request.signal, isHostAlive: () => isAlive(hostId) });
    })(),
  );
});
