// The access policy's pure functions: which origins and hosts are this machine's, how
// allow-list entries compile and match, what a bad entry says, and the constant-time key check.
import { describe, expect, it } from 'vitest';
import { apiKeyCheck, constantTimeEqual } from '../../../src/api/auth';
import {
  checkAccess,
  checkAllowHosts,
  compileAccess,
  compileOriginAllowList,
  hostAllowed,
  isLoopbackBind,
  isSameMachineOrigin,
  originAllowed,
  parseHostHeader,
  parseOriginsEnv,
  PolicyConfigError,
} from '../../../src/api/origin-policy';

describe('same-machine origins', () => {
  it.each(['http://localhost', 'http://localhost:3000', 'https://localhost:8443', 'http://127.0.0.1:5173', 'http://[::1]:8000', 'http://app.localhost:3000', 'http://127.0.0.2', 'HTTP://LOCALHOST:80'])('%s is allowed by default', (origin) => {
    expect(isSameMachineOrigin(origin)).toBe(true);
    expect(originAllowed(origin, compileOriginAllowList([]))).toBe(true);
  });

  // `null` comes from any sandboxed iframe of any site, and from file:// pages: refused unless listed.
  it.each(['https://evil.test', 'http://localhost.evil.test', 'http://127.0.0.1.evil.test', 'null', 'file://', 'tauri://localhost', 'ws://localhost', 'http://0.0.0.0:8000', 'http://192.168.1.2', 'garbage', ''])('%j is refused by default', (origin) => {
    expect(originAllowed(origin, compileOriginAllowList([]))).toBe(false);
  });
});

describe('allow-list entries', () => {
  it('exact origins compare URL-normalized (case, default port, trailing slash)', () => {
    const list = compileOriginAllowList(['https://App.Example:443/', 'http://evil.test:8080']);
    expect(originAllowed('https://app.example', list)).toBe(true);
    expect(originAllowed('http://evil.test:8080', list)).toBe(true);
    expect(originAllowed('http://evil.test', list)).toBe(false);
    expect(originAllowed('https://app.example:444', list)).toBe(false);
    expect(originAllowed('http://app.example', list)).toBe(false);
  });

  it('`*` allows every origin, `null` only the null origin, other schemes exactly', () => {
    expect(originAllowed('https://anything.test', compileOriginAllowList(['*']))).toBe(true);
    expect(originAllowed('null', compileOriginAllowList(['*']))).toBe(true);
    const list = compileOriginAllowList(['null', 'tauri://localhost']);
    expect(originAllowed('null', list)).toBe(true);
    expect(originAllowed('tauri://localhost', list)).toBe(true);
    expect(originAllowed('https://evil.test', list)).toBe(false);
  });

  it('`https://*.example.com` allows subdomains at that scheme and port, not the bare domain', () => {
    const list = compileOriginAllowList(['https://*.example.com']);
    expect(originAllowed('https://a.example.com', list)).toBe(true);
    expect(originAllowed('https://a.b.example.com', list)).toBe(true);
    expect(originAllowed('https://example.com', list)).toBe(false);
    expect(originAllowed('https://evilexample.com', list)).toBe(false);
    expect(originAllowed('http://a.example.com', list)).toBe(false);
    expect(originAllowed('https://a.example.com:8443', list)).toBe(false);
  });

  it.each(['https://app.example/path', 'app.example', 'https://*', 'https://a.*.example.com', 'tauri://*.x', 'https://user@app.example', 'https://app.example?x', 'http://[', ''])('%j is a PolicyConfigError naming the entry', (entry) => {
    expect(() => compileOriginAllowList([entry])).toThrowError(PolicyConfigError);
    try {
      compileOriginAllowList([entry]);
    } catch (err) {
      expect((err as PolicyConfigError).code).toBe('invalid_access_policy');
      expect((err as Error).message).toContain(`'${entry}'`);
    }
  });

  it('TABLLM_ORIGINS is comma-separated, blanks dropped', () => {
    expect(parseOriginsEnv(' https://a.test, ,http://b.test:1 ,')).toEqual(['https://a.test', 'http://b.test:1']);
    expect(parseOriginsEnv(undefined)).toEqual([]);
  });
});

describe('hosts', () => {
  it('parses host[:port], refusing what the URL parser would bend', () => {
    expect(parseHostHeader('LocalHost:8000')).toEqual({ hostname: 'localhost', port: '8000' });
    expect(parseHostHeader('[::1]:8080')).toEqual({ hostname: '[::1]', port: '8080' });
    expect(parseHostHeader('localhost:80')).toEqual({ hostname: 'localhost', port: '' });
    for (const bad of ['[', 'a b', '127.0.0.1:99999', 'x:y:z', 'a/b', 'a?b', 'a#b', 'u@h', '', 'a'.repeat(301), '[zz::1]', 'h:1:2']) {
      expect(parseHostHeader(bad), bad).toBeUndefined();
    }
  });

  it("a loopback-bound server answers this machine's names on any port, and listed names", () => {
    for (const ok of ['localhost', 'localhost:8000', '127.0.0.1:1', '[::1]:8000', 'x.localhost', '127.1:8000']) expect(hostAllowed(ok), ok).toBe(true);
    for (const bad of ['evil.test', 'evil.test:8000', 'localhost.evil.test', '192.168.1.2:8000', '[::2]', '0.0.0.0:8000', '[']) expect(hostAllowed(bad), bad).toBe(false);
    expect(hostAllowed('MyBox.lan:8000', ['mybox.lan'])).toBe(true);
    expect(hostAllowed('anything.test', ['*'])).toBe(true);
  });

  it('--allow-host entries are names without a port', () => {
    expect(checkAllowHosts(['MyBox.lan', '[fd00::1]', '*'])).toEqual(['mybox.lan', '[fd00::1]', '*']);
    for (const bad of ['mybox.lan:8000', 'fd00::1', 'a b', '', 'http://x']) expect(() => checkAllowHosts([bad]), bad).toThrowError(PolicyConfigError);
  });

  it('knows which bind addresses are loopback', () => {
    for (const h of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.5']) expect(isLoopbackBind(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.2', 'example.com']) expect(isLoopbackBind(h), h).toBe(false);
  });
});

describe('checkAccess', () => {
  const strict = compileAccess({});
  it('passes requests without an Origin (curl, SDKs) and same-machine ones', () => {
    expect(checkAccess(strict, null, ['127.0.0.1:8000'])).toBeUndefined();
    expect(checkAccess(strict, 'http://localhost:3000', ['127.0.0.1:8000'])).toBeUndefined();
  });

  it('refuses a foreign Origin (403 origin_not_allowed) and a foreign Host (403 host_not_allowed)', () => {
    expect(checkAccess(strict, 'https://evil.test', ['127.0.0.1:8000'])).toMatchObject({ status: 403, code: 'origin_not_allowed' });
    // DNS rebinding: the page is same-origin with the server, so its Origin may even be absent.
    expect(checkAccess(strict, null, ['evil.test:8000'])).toMatchObject({ status: 403, code: 'host_not_allowed' });
    expect(checkAccess(strict, null, ['127.0.0.1:8000', 'evil.test'])).toMatchObject({ code: 'host_not_allowed' });
  });

  it('checkHost: false (a server bound to every interface) leaves the Host alone, not the Origin', () => {
    const open = compileAccess({ checkHost: false });
    expect(checkAccess(open, null, ['192.168.1.2:8000'])).toBeUndefined();
    expect(checkAccess(open, 'https://evil.test', ['192.168.1.2:8000'])).toMatchObject({ code: 'origin_not_allowed' });
  });
});

describe('API key', () => {
  const check = apiKeyCheck('sk-local-123');
  const req = (authorization?: string) => new Request('http://127.0.0.1/v1/models', { headers: authorization === undefined ? {} : { authorization } });

  it('accepts the Bearer key (scheme case-insensitive), refuses others with 401 invalid_api_key', () => {
    expect(check(req('Bearer sk-local-123'), '/v1/models')).toBeUndefined();
    expect(check(req('bearer sk-local-123'), '/v1/models')).toBeUndefined();
    for (const bad of [undefined, '', 'Bearer', 'Bearer sk-local-12', 'Bearer sk-local-1234', 'Basic sk-local-123', 'sk-local-123']) {
      expect(check(req(bad), '/v1/models'), String(bad)).toMatchObject({ status: 401, code: 'invalid_api_key' });
    }
  });

  it('leaves the liveness probes open', () => {
    expect(check(req(), '/health')).toBeUndefined();
    expect(check(req(), '/')).toBeUndefined();
    expect(check(req(), '/api/tags')).toMatchObject({ code: 'invalid_api_key' });
    expect(check(req(), '/tokenize')).toMatchObject({ code: 'invalid_api_key' });
  });

  it('compares bytes fully, lengths included; an empty key is a config error', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(constantTimeEqual(enc('abc'), enc('abc'))).toBe(true);
    expect(constantTimeEqual(enc('abd'), enc('abc'))).toBe(false);
    expect(constantTimeEqual(enc('ab'), enc('abc'))).toBe(false);
    expect(constantTimeEqual(enc('abc\0'), enc('abc'))).toBe(false);
    expect(() => apiKeyCheck('')).toThrowError(PolicyConfigError);
  });
});
