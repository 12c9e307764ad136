// Both service-worker e2e pages register the same way: the relay config comes from the page
// URL (`?sameOriginPrefixes=/api/,/v1/`), so one browser context registers one config.
import { registerTabllmServiceWorker } from '../../../src/client/sw-register';

export async function registerFromPageUrl(): Promise<void> {
  const sameOriginPrefixes = new URLSearchParams(location.search).get('sameOriginPrefixes')?.split(',');
  await registerTabllmServiceWorker({ scriptUrl: '/worker/sw.ts', ...(sameOriginPrefixes && { sameOriginPrefixes }) });
}
