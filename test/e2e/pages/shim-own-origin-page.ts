// Page half of the own-origin shim e2e: the shim answers this page's own origin, as for a
// page served from http://localhost:8000 that calls `/v1`, yet the page's files still come
// from its server.
import { installFetchShim } from '../../../src/shim/fetch';
import { FakeEngine } from '../../helpers/fake-engine';

installFetchShim(new FakeEngine({ id: 'fake-model' }), { origins: [location.origin] });

async function get(path: string): Promise<{ status: number; text: string; errorCode: string | null }> {
  const response = await fetch(path);
  return { status: response.status, text: await response.text(), errorCode: response.headers.get('x-tabllm-error-code') };
}

Object.assign(window, { shimGet: get, pageReady: true });
