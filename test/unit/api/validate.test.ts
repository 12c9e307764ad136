// The validators used directly (as the engine does, without the router) throw coded
// EngineErrors that survive structured cloning; every engine code maps to one status.
import { describe, expect, it } from 'vitest';
import { toHttpError } from '../../../src/api/errors';
import { validateChatParams, validateCompletionParams } from '../../../src/openai/params';
import { EngineError, type EngineErrorCode } from '../../../src/engine/errors';

function thrown(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    return err as EngineError;
  }
  throw new Error('expected a throw');
}

describe('validators', () => {
  it('throw EngineError with code and param, which round-trips through toJSON/structuredClone', () => {
    const err = thrown(() => validateChatParams({ messages: [{ role: 'user', content: 'x' }], temperature: -1 }));
    expect(err).toBeInstanceOf(EngineError);
    expect(err.code).toBe('invalid_request');
    expect(err.param).toBe('temperature');
    const back = EngineError.fromJSON(structuredClone(err.toJSON()));
    expect(back).toMatchObject({ code: 'invalid_request', param: 'temperature', message: err.message, name: 'EngineError' });
  });

  it('name nested params by their path', () => {
    const err = thrown(() => validateChatParams({ messages: [{ role: 'user', content: 'a' }, { role: 'user', content: [{ type: 'text', text: 1 }] }] }));
    expect(err.param).toBe('messages[1].content[0].text');
    expect(err.message).toContain("'messages[1].content[0].text'");
  });

  it('return the params unchanged when valid, accepting null for optional fields and ignoring `user`', () => {
    const body = { model: 'm', messages: [{ role: 'developer', content: 'be kind' }, { role: 'user', content: [{ type: 'text', text: 'hi' }] }], temperature: null, user: 42, top_k: -1, min_p: 0.05, repetition_penalty: 1.1, ignore_eos: true, logit_bias: { '42': -100 } };
    expect(validateChatParams(body)).toBe(body);
    const completion = { prompt: ['a', 'b'], n: 2, best_of: 2, echo: true, logprobs: 0 };
    expect(validateCompletionParams(completion)).toEqual({ prompt: ['a', 'b'], n: 2, echo: true, logprobs: 0 });
  });

  it('an aborted EngineError is named AbortError, like fetch', () => {
    expect(new EngineError('aborted', 'gone').name).toBe('AbortError');
  });
});

describe('status of each engine error code', () => {
  const expected: Partial<Record<EngineErrorCode, [number, string]>> = {
    invalid_request: [400, 'invalid_request_error'],
    unknown_parameter: [400, 'invalid_request_error'],
    unsupported_parameter: [400, 'invalid_request_error'],
    context_length_exceeded: [400, 'invalid_request_error'],
    model_has_no_chat_template: [400, 'invalid_request_error'],
    unsupported: [400, 'invalid_request_error'],
    model_not_found: [404, 'invalid_request_error'],
    queue_full: [429, 'rate_limit_error'],
    aborted: [499, 'invalid_request_error'],
    internal_error: [500, 'server_error'],
    device_lost: [503, 'server_error'],
    engine_not_loaded: [503, 'server_error'],
    worker_failed: [503, 'server_error'],
  };
  it.each(Object.entries(expected))('%s → %j', (code, [status, type]) => {
    const http = toHttpError(new EngineError(code as EngineErrorCode, 'x'));
    expect([http.status, http.type, http.code]).toEqual([status, type, code]);
  });

  it('an unexpected throw is a 500 internal_error', () => {
    expect(toHttpError(new TypeError('boom'))).toMatchObject({ status: 500, code: 'internal_error', type: 'server_error' });
  });
});
