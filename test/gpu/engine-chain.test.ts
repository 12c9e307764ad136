// Chained decode steps on the real WebGPU runner (src/engine/sched/chain.ts): the engine
// submits each decode step before the previous step's ids are read back, and the runner
// feeds them on the GPU. A mix of concurrent requests (greedy, seeded n = 2, logprobs, one
// that stop at a stop string, one with a penalty) gets the same ids, logprobs and
// finish reasons as on an engine that runs one step at a time, and most steps were chained.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import type { StepInput } from '../../src/engine/types';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import type { CompletionCreateParamsNonStreaming } from '../../src/openai/engine-api';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { engineCore } from '../helpers/engine-core';

const STORIES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/fixtures/stories260K/stories260K.gguf');

const REQUESTS: CompletionCreateParamsNonStreaming[] = [
  { prompt: 'Once upon a time', max_tokens: 24, temperature: 0, ignore_eos: true },
  { prompt: 'Lily and Tom', max_tokens: 16, temperature: 0.8, seed: 42, n: 2, ignore_eos: true },
  { prompt: 'The dog', max_tokens: 12, temperature: 0.7, seed: 3, logprobs: 2, ignore_eos: true },
  { prompt: 'Tom had a', max_tokens: 60, temperature: 0.9, seed: 5, stop: ['and'] },
  { prompt: 'She saw a big', max_tokens: 40, temperature: 0, stop: ['.'] },
  { prompt: 'One day', max_tokens: 10, temperature: 0, presence_penalty: 0.5, ignore_eos: true },
];

interface Outcome {
  ids: number[][];
  finish: string[];
  logprobs: unknown[];
}

async function runAll(engine: MultiEngine): Promise<Outcome[]> {
  const results = await Promise.all(REQUESTS.map((r) => engine.completions.create({ ...r, return_token_ids: true })));
  return results.map((res) => {
    const choices = [...res.choices].sort((a, b) => a.index - b.index);
    return { ids: choices.map((c) => c.token_ids!), finish: choices.map((c) => c.finish_reason!), logprobs: choices.map((c) => c.logprobs ?? null) };
  });
}

describe('chained decode steps on stories260K', () => {
  let chained: MultiEngine;
  let oneAtATime: MultiEngine;
  const inputs: StepInput[] = [];
  beforeAll(async () => {
    const gpu = await createNodeGPU();
    chained = await createEngine({ model: STORIES, gpu, kvCacheBytes: 2 << 20 });
    oneAtATime = await createEngine({ model: STORIES, gpu, kvCacheBytes: 2 << 20, chainSteps: false });
    const runner = engineCore(chained).runner;
    const step = runner.step.bind(runner);
    runner.step = (input) => {
      inputs.push(input);
      return step(input);
    };
  });
  afterAll(async () => {
    await chained?.destroy();
    await oneAtATime?.destroy();
  });

  it('a concurrent mix gets the ids, logprobs and finish reasons of one step at a time', async () => {
    expect(engineCore(chained).runner.chainsSteps).toBe(true);
    const want = await runAll(oneAtATime);
    const got = await runAll(chained);
    expect(got).toEqual(want);
    // The stop-string requests really ended early, so a chained row was dropped.
    expect(want[3].finish[0]).toBe('stop');
    expect(want[4].finish[0]).toBe('stop');
    // While the penalty request runs no step chains; after it ends the rest do.
    const numChained = inputs.filter((i) => (i.fromPreviousStep?.length ?? 0) > 0).length;
    expect(numChained).toBeGreaterThan(inputs.length / 3);
    expect((await chained.stats()).kvBlocksUsed).toBe(0);
    // A lone request after the mix: every decode step chained.
    inputs.length = 0;
    const alone = await chained.completions.create({ prompt: 'Once upon a time', max_tokens: 24, temperature: 0, ignore_eos: true, return_token_ids: true });
    expect(alone.choices[0]!.token_ids).toEqual(want[0].ids[0]);
    expect(inputs.filter((i) => i.fromPreviousStep !== undefined)).toHaveLength(inputs.length - 1);
  });
});
