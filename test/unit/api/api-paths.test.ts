// What the interceptors may take from a page: isApiPath (namespaces, vLLM's root paths,
// the base-URL prefix rule) and interceptsUrl (`/` only off the page's own origin), and
// that this set and the router's table agree.
import { describe, expect, it } from 'vitest';
import { API_ROOT_PATHS, interceptsUrl, isApiPath } from '../../../src/api/api-paths';
import { createRouter } from '../../../src/api/router';
import { FakeEngine } from '../../helpers/fake-engine';

describe('isApiPath', () => {
  it('owns the /v1 and /api namespaces and vLLM root paths, trailing slash ignored', () => {
    for (const path of ['/v1/models', '/v1/models/fake-model', '/v1/chat/completions', '/v1/anything', '/v1', '/api/tags', '/api/own', '/api/', '/tokenize', '/detokenize', '/health', '/health/']) {
      expect([path, isApiPath(path)]).toEqual([path, true]);
    }
  });

  it("leaves a site's own paths alone, `/` included", () => {
    for (const path of ['/', '/index.html', '/data.json', '/dist/index.js', '/v1.json', '/apix/tags', '/v2/models', '/healthz', '/llm/tokenize', '/V1/models', '//']) {
      expect([path, isApiPath(path)]).toEqual([path, false]);
    }
  });

  it("follows the router's base-URL prefix rule", () => {
    expect(isApiPath('/llm/v1/models')).toBe(true);
    expect(isApiPath('/ollama/api/tags')).toBe(true);
  });
});

describe('interceptsUrl', () => {
  const page = 'http://127.0.0.1:5173';
  it("takes Ollama's `/` only on an origin other than the page's, and never without a page", () => {
    expect(interceptsUrl(new URL('http://localhost:11434/'), page)).toBe(true);
    expect(interceptsUrl(new URL('http://localhost:8000/'), 'http://localhost:8000')).toBe(false);
    expect(interceptsUrl(new URL('http://localhost:11434/'), undefined)).toBe(false);
  });

  it('takes API paths whatever the page', () => {
    expect(interceptsUrl(new URL('http://localhost:8000/v1/models'), 'http://localhost:8000')).toBe(true);
    expect(interceptsUrl(new URL('http://localhost:8000/v1/models'), undefined)).toBe(true);
    expect(interceptsUrl(new URL('http://localhost:8000/data.json'), page)).toBe(false);
  });
});

describe('the API paths and the route table agree', () => {
  it('every root path has a route (no 404 not_found)', async () => {
    const router = createRouter(new FakeEngine());
    for (const path of API_ROOT_PATHS) {
      const response = await router(new Request(`http://localhost:8000${path}`));
      expect([path, response.headers.get('x-tabllm-error-code')]).not.toEqual([path, 'not_found']);
    }
  });
});
