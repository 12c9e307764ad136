// Page-side relay config: validation and encoding into the service worker's script URL.
// Kept apart from sw-protocol.ts so the built service worker shares no code chunk with the
// library (see there). Lists left out are left out of the URL: the SW then uses its defaults.
import { parseOrigin } from '../api/api-paths';
import type { RelayConfig } from './sw-protocol';

export type RelayErrorCode = 'service_worker_unavailable' | 'bad_config' | 'not_controlled' | 'no_engine_host' | 'host_gone';

export class RelayError extends Error {
  override readonly name = 'RelayError';
  constructor(
    readonly code: RelayErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** Config travels in the SW script URL, so a restarted SW still knows it. */
export function encodeRelayConfig(url: URL, config: Partial<RelayConfig>): URL {
  const out = new URL(url.href);
  if (config.origins) out.searchParams.set('origins', config.origins.join(','));
  if (config.sameOriginPrefixes) out.searchParams.set('sameOriginPrefixes', config.sameOriginPrefixes.join(','));
  return out;
}

/** Normalizes and checks a config given by the page; a bad origin or prefix is a coded error. */
export function checkRelayConfig(config: Partial<RelayConfig>): Partial<RelayConfig> {
  // The old name relayed /v1/ and /api/ of the app's own origin by default; say so rather
  // than drop it silently.
  if ('prefixes' in config) throw new RelayError('bad_config', "'prefixes' is now 'sameOriginPrefixes' (same-origin paths are relayed only when listed there)");
  const origins = config.origins?.map((o) => {
    const parsed = parseOrigin(o);
    if ('problem' in parsed) throw new RelayError('bad_config', parsed.problem);
    return parsed.origin;
  });
  const sameOriginPrefixes = config.sameOriginPrefixes?.map((p) => {
    if (typeof p !== 'string' || !p.startsWith('/') || p.includes(',')) throw new RelayError('bad_config', `same-origin prefix '${p}' must start with '/' and contain no ','`);
    return p;
  });
  return { ...(origins && { origins }), ...(sameOriginPrefixes && { sameOriginPrefixes }) };
}

