// A runner's own errors reach the caller with their own code (issue #15): a step WebGPU
// rejected is `gpu_rejected`, a KV budget that buys no block is `kv_cache_too_small` —
// through LocalEngine, through the router (HTTP status + OpenAI error body), never
// flattened to `internal_error`.
import { describe, expect, it } from 'vitest';
import { createRouter } from '../../../src/api/router';
import { toHttpError } from '../../../src/api/errors';
import { RunnerError } from '../../../src/gpu/runner-errors';
import { CHATML, fakeLocalEngine } from '../../helpers/fake-local-engine';

const gpuRejected = () => new RunnerError('gpu_rejected', 'WebGPU rejected the step: bad binding');

describe('runner errors at the facade', () => {
  it('a step WebGPU rejects fails the request with gpu_rejected (LocalEngine)', async () => {
    const { engine } = await fakeLocalEngine({ chatTemplate: CHATML, failOnStep: { step: 1, error: gpuRejected() } });
    await expect(engine.completions.create({ prompt: 'Once', max_tokens: 4 })).rejects.toMatchObject({ code: 'gpu_rejected', message: expect.stringContaining('bad binding') });
    await engine.destroy();
  });

  it('the router answers it as a 500 server_error with code gpu_rejected', async () => {
    const { engine } = await fakeLocalEngine({ chatTemplate: CHATML, failOnStep: { step: 1, error: gpuRejected() } });
    const router = createRouter(engine);
    const response = await router(
      new Request('http://localhost:8000/v1/chat/completions', { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 }) }),
    );
    expect(response.status).toBe(500);
    expect(response.headers.get('x-tabllm-error-code')).toBe('gpu_rejected');
    const body = (await response.json()) as { error: { code: string; type: string } };
    expect(body.error).toMatchObject({ code: 'gpu_rejected', type: 'server_error' });
    await engine.destroy();
  });

  it('a load-time kv_cache_too_small keeps its code over HTTP', () => {
    const err = toHttpError(new RunnerError('kv_cache_too_small', 'kvCacheBytes 10 holds no KV block'));
    expect(err).toMatchObject({ status: 500, code: 'kv_cache_too_small', type: 'server_error' });
    expect(err.message).toContain('kvCacheBytes 10');
  });

  it('an error with no known code is still internal_error', () => {
    expect(toHttpError(new Error('boom'))).toMatchObject({ status: 500, code: 'internal_error' });
    expect(toHttpError(Object.assign(new Error('odd'), { code: 'not_a_code' }))).toMatchObject({ status: 500, code: 'internal_error' });
  });
});
