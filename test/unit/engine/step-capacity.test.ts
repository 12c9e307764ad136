// createEngine tells the runner what one step can bring (the scheduler's limits), so the GPU
// runner sizes its step buffers to the configured limits at load (#18), not to its defaults.
import { describe, expect, it } from 'vitest';
import { createEngine, type CreateEngineOptions, type RunnerFactoryArgs } from '../../../src/create-engine';
import { FakeRunner } from '../../../src/testing/fake-runner';
import { STORIES_GGUF } from '../../helpers/stories-reference';

async function capacityFor(options: Partial<CreateEngineOptions>): Promise<RunnerFactoryArgs['stepCapacity']> {
  let seen: RunnerFactoryArgs['stepCapacity'] | null = null;
  const engine = await createEngine({
    model: STORIES_GGUF,
    ...options,
    createRunner: async (args) => {
      seen = args.stepCapacity;
      return new FakeRunner({ vocabSize: args.config.vocabSize, contextLength: 64, numKvBlocks: 8 });
    },
  }).catch(() => undefined);
  await engine?.destroy();
  expect(seen).not.toBeNull();
  return seen ?? undefined;
}

describe('step capacity from the scheduler limits', () => {
  it('the defaults: 512 tokens, 64 sampled rows', async () => {
    expect(await capacityFor({})).toEqual({ tokens: 512, sampledRows: 64 });
  });

  it('configured limits; sampled rows never exceed the tokens of a step', async () => {
    expect(await capacityFor({ maxBatchTokens: 128, maxRunningSequences: 8 })).toEqual({ tokens: 128, sampledRows: 8 });
    expect(await capacityFor({ maxBatchTokens: 16, maxRunningSequences: 64 })).toEqual({ tokens: 16, sampledRows: 16 });
  });

  it('limits the scheduler refuses fail with invalid_request before any runner is made', async () => {
    for (const [key, value] of [['maxBatchTokens', 0], ['maxRunningSequences', 1.5]] as const) {
      let made = false;
      const err = await createEngine({ model: STORIES_GGUF, [key]: value, createRunner: async () => ((made = true), new FakeRunner()) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'invalid_request', param: key });
      expect(made).toBe(false);
    }
  });
});
