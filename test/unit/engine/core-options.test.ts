// The engine's options are checked once (core-options.ts): a value of the wrong type or range
// is invalid_request naming the option, from EngineCore and from createEngine alike.
import { describe, expect, it } from 'vitest';
import { checkEngineCoreOptions, EngineCore, type EngineCoreOptions } from '../../../src/engine/core';
import { FakeRunner } from '../../../src/testing/fake-runner';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe('engine options', () => {
  it('accepts the defaults and every good value', () => {
    expect(codeOf(() => checkEngineCoreOptions({}))).toBeUndefined();
    const good: EngineCoreOptions = { maxBatchTokens: 1, maxRunningSequences: 64, maxQueue: 0, enablePrefixCaching: false, maxModelLength: 4096, now: () => 0, chainSteps: false };
    expect(codeOf(() => checkEngineCoreOptions(good))).toBeUndefined();
  });

  const bad: Array<[keyof EngineCoreOptions, unknown]> = [
    ['maxBatchTokens', 0],
    ['maxBatchTokens', 1.5],
    ['maxBatchTokens', Number.NaN],
    ['maxBatchTokens', '512'],
    ['maxRunningSequences', -1],
    ['maxRunningSequences', Infinity],
    ['maxQueue', -1],
    ['maxQueue', 2 ** 53],
    ['enablePrefixCaching', 'yes'],
    ['maxModelLength', 0],
    ['now', 5],
    ['chainSteps', 'false'],
    ['chainSteps', 0],
    ['chainSteps', null],
  ];
  it.each(bad)('%s = %j is invalid_request naming it', (key, value) => {
    const err = codeOf(() => checkEngineCoreOptions({ [key]: value } as EngineCoreOptions));
    expect(err).toMatchObject({ code: 'invalid_request', param: key });
    expect((err as Error).message).toContain(`engine option ${key} must be a`);
  });

  it('the message shows the value as given (NaN, not JSON null; strings quoted)', () => {
    expect((codeOf(() => checkEngineCoreOptions({ maxBatchTokens: Number.NaN })) as Error).message).toBe('engine option maxBatchTokens must be a positive integer, got NaN');
    expect((codeOf(() => checkEngineCoreOptions({ chainSteps: 'false' as unknown as boolean })) as Error).message).toBe('engine option chainSteps must be a boolean, got "false"');
  });

  it('EngineCore checks them too (a chainSteps that is not a boolean does not silently chain)', () => {
    const runner = new FakeRunner();
    const make = (options: EngineCoreOptions) => () => new EngineCore({ runner, createDetokenizer: () => ({ push: () => '', flush: () => '' }) as never, eogIds: [], options });
    expect(codeOf(make({ chainSteps: 'no' as unknown as boolean }))).toMatchObject({ code: 'invalid_request', param: 'chainSteps' });
    expect(codeOf(make({ chainSteps: false }))).toBeUndefined();
  });
});
