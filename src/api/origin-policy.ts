// Who may call a local server, by the `Origin` and `Host` headers — Ollama's policy as pure
// functions. Any website the user visits can send requests to 127.0.0.1: its `Origin` says
// which site it is, so a server that listens on loopback answers only same-machine
// origins unless told otherwise. A site can also re-point its own name at 127.0.0.1 (DNS
// rebinding); then the browser treats the server as same-origin with the site, but still
// sends `Host: evil.example`, which is why a loopback-bound server checks the Host too.
//
// Requests without an `Origin` (curl, SDKs in Node) are not from a web page and pass.

import { HttpError } from './errors';

/** A bad `--allow-origin` / `--allow-host` / `TABLLM_ORIGINS` entry or router option. */
export class PolicyConfigError extends Error {
  override readonly name = 'PolicyConfigError';
  readonly code = 'invalid_access_policy';
}

/** Longest `Host` header accepted; a DNS name is at most 253 characters, plus `:port`. */
const MAX_HOST_CHARS = 300;

/**
 * Names that always mean this machine, whatever DNS says: browsers resolve `localhost` and
 * `*.localhost` to loopback themselves (RFC 6761), and IP literals cannot be re-pointed.
 * `hostname` is in WHATWG URL form: lowercase, IPv4 normalized, IPv6 in brackets.
 */
export function isLoopbackHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** True when a server bound to `bindHost` (`--host`) is reachable from this machine only. */
export function isLoopbackBind(bindHost: string): boolean {
  const bare = bindHost.replace(/^\[(.*)\]$/, '$1');
  const parsed = parseHostHeader(bare.includes(':') ? `[${bare}]` : bare);
  return parsed !== undefined && isLoopbackHostname(parsed.hostname);
}

export interface ParsedHost {
  /** Lowercase; IPv6 in brackets (`[::1]`). */
  hostname: string;
  /** '' when absent or the scheme default. */
  port: string;
}

/**
 * A `Host` header (`name[:port]`, `[v6]:port`) in URL form, or undefined when malformed
 * (`[`, `a b`, `x:y:z`, `127.0.0.1:99999`, `a/b`, `u@h`). Checked by a strict pattern first:
 * the URL parser alone would read `a/b` as host `a`.
 */
export function parseHostHeader(value: string): ParsedHost | undefined {
  if (value.length === 0 || value.length > MAX_HOST_CHARS) return undefined;
  if (!/^(?:\[[0-9a-f:.]+\]|[a-z0-9._~-]+)(?::\d{0,5})?$/i.test(value)) return undefined;
  try {
    const url = new URL(`http://${value}`);
    return { hostname: url.hostname, port: url.port };
  } catch {
    return undefined;
  }
}

/** A `Host` (or URL host) that a loopback-bound server answers: this machine's names, or a listed one. */
export function hostAllowed(host: string, allowHosts: readonly string[] = []): boolean {
  if (allowHosts.includes('*')) return true;
  const parsed = parseHostHeader(host);
  if (!parsed) return false;
  return isLoopbackHostname(parsed.hostname) || allowHosts.some((h) => h.toLowerCase() === parsed.hostname);
}

/** `--allow-host` entries: host names (no port; any port is allowed), or `*`. Throws PolicyConfigError. */
export function checkAllowHosts(entries: readonly string[]): string[] {
  return entries.map((entry) => {
    if (entry === '*') return entry;
    const parsed = parseHostHeader(entry);
    const hasPort = entry.startsWith('[') ? !entry.endsWith(']') : entry.includes(':');
    if (!parsed || hasPort) {
      throw new PolicyConfigError(`not a host name: '${entry}' (expected e.g. 'myhost.lan' or '[fd00::1]', without a port)`);
    }
    return parsed.hostname;
  });
}

/** One compiled `--allow-origin` entry. */
type OriginRule =
  | { kind: 'any' }
  | { kind: 'exact'; origin: string }
  /** `https://*.example.com`: any subdomain (not the bare domain), that scheme and port. */
  | { kind: 'subdomains'; protocol: string; suffix: string; port: string };

export interface OriginAllowList {
  readonly rules: readonly OriginRule[];
}

function isHttp(protocol: string): boolean {
  return protocol === 'http:' || protocol === 'https:';
}

/**
 * An origin in the form allow-list entries compare in: URL-normalized for http(s)
 * (lowercase host, default port dropped), else lowercase (`null`, `tauri://localhost`).
 */
export function normalizeOrigin(origin: string): string {
  const raw = origin.trim().replace(/\/$/, '');
  try {
    const url = new URL(raw);
    if (isHttp(url.protocol)) return url.origin;
  } catch {
    // `null` and other non-URLs compare as written.
  }
  return raw.toLowerCase();
}

/** `http(s)://` on a same-machine host, any port. */
export function isSameMachineOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return isHttp(url.protocol) && isLoopbackHostname(url.hostname);
  } catch {
    return false;
  }
}

function compileRule(entry: string): OriginRule {
  const raw = entry.trim();
  if (raw === '*') return { kind: 'any' };
  const bad = (why: string) => new PolicyConfigError(`not an origin: '${entry}' (${why}; expected e.g. 'https://app.example', 'https://*.example.com', 'null' or '*')`);
  if (raw === 'null') return { kind: 'exact', origin: 'null' };
  const m = /^([a-z][a-z0-9+.-]*):\/\/(\*\.)?([^/?#@\s*]+)\/?$/i.exec(raw);
  if (!m) throw bad('scheme://host[:port], nothing after the host');
  const [, scheme, wildcard, rest] = m as unknown as [string, string, string | undefined, string];
  let url: URL;
  try {
    // A placeholder label stands for the wildcard so the URL parser checks the rest.
    url = new URL(`${scheme}://${wildcard ? 'wildcard.' : ''}${rest}`);
  } catch {
    throw bad('the URL parser rejects it');
  }
  if (!isHttp(url.protocol)) {
    if (wildcard) throw bad('wildcards need http or https');
    return { kind: 'exact', origin: normalizeOrigin(raw) };
  }
  if (!wildcard) return { kind: 'exact', origin: url.origin };
  return { kind: 'subdomains', protocol: url.protocol, suffix: url.hostname.slice('wildcard'.length), port: url.port };
}

/** Compiles allow-list entries (`--allow-origin`, `TABLLM_ORIGINS`); throws PolicyConfigError naming a bad one. */
export function compileOriginAllowList(entries: readonly string[]): OriginAllowList {
  return { rules: entries.map(compileRule) };
}

/** `TABLLM_ORIGINS`: comma-separated entries (like `OLLAMA_ORIGINS`); empty items dropped. */
export function parseOriginsEnv(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Whether a request with this `Origin` header may call: same-machine origins, or listed ones. */
export function originAllowed(origin: string, allow: OriginAllowList): boolean {
  if (isSameMachineOrigin(origin)) return true;
  const normalized = normalizeOrigin(origin);
  let url: URL | undefined;
  try {
    url = new URL(normalized);
  } catch {
    url = undefined;
  }
  return allow.rules.some((rule) => {
    if (rule.kind === 'any') return true;
    if (rule.kind === 'exact') return rule.origin === normalized;
    return url !== undefined && url.protocol === rule.protocol && url.port === rule.port && url.hostname.endsWith(rule.suffix) && url.hostname.length > rule.suffix.length;
  });
}

/** The access policy of a network-facing router (what `tabllm serve` passes to createRouter). */
export interface LocalAccessOptions {
  /** Origins allowed besides same-machine ones: exact, `*`, `https://*.example.com`, `null`. */
  allowOrigins?: readonly string[];
  /**
   * Check `Host` against this machine's names plus `allowHosts` (DNS rebinding). On by
   * default; a server bound to a non-loopback address turns it off (it is reached by
   * names and addresses it cannot know).
   */
  checkHost?: boolean;
  /** Host names allowed besides `localhost`, `*.localhost`, `127.x.x.x`, `[::1]`; `*` for any. */
  allowHosts?: readonly string[];
}

export interface CompiledAccess {
  origins: OriginAllowList;
  checkHost: boolean;
  allowHosts: readonly string[];
}

/** Validates the options once (throws PolicyConfigError), for `checkAccess` on every request. */
export function compileAccess(options: LocalAccessOptions): CompiledAccess {
  return {
    origins: compileOriginAllowList(options.allowOrigins ?? []),
    checkHost: options.checkHost ?? true,
    allowHosts: checkAllowHosts(options.allowHosts ?? []),
  };
}

/**
 * The 403 for a request the policy refuses, else undefined. `hosts` are the request's
 * `Host` header and URL host (both when they differ, e.g. an absolute-form request target).
 */
export function checkAccess(access: CompiledAccess, origin: string | null, hosts: readonly string[]): HttpError | undefined {
  if (access.checkHost) {
    const refused = hosts.find((h) => !hostAllowed(h, access.allowHosts));
    if (refused !== undefined) {
      return new HttpError(403, 'host_not_allowed', `Host '${refused.slice(0, 100)}' is not allowed: this server answers only this machine's names (add --allow-host).`);
    }
  }
  if (origin !== null && !originAllowed(origin, access.origins)) {
    return new HttpError(403, 'origin_not_allowed', `Origin '${origin.slice(0, 200)}' is not allowed (add it with --allow-origin or TABLLM_ORIGINS).`);
  }
  return undefined;
}
