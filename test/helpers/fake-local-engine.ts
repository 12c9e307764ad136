// The real LocalEngine (createEngine: stories260K's tokenizer, EngineCore, scheduler, paged
// KV cache) over a FakeRunner: API tests that need real tokens, templates and sampling
// params reaching a runner, without a GPU. The runner is kept so tests can read every
// StepInput it got (sampling params, penalty token sets).
import { resolve } from 'node:path';
import { createEngine } from '../../src/create-engine';
import type { MultiEngine } from '../../src/openai/multi-engine';
import type { SequenceInput } from '../../src/engine/types';
import type { FakeRunner } from '../../src/testing/fake-runner';
import { CHATML, fakeChatRunner } from './fake-chat-runner';

export { CHATML };

export const STORIES_GGUF = resolve(__dirname, '../../../shared/fixtures/stories260K/stories260K.gguf');

export interface FakeLocalEngineOptions {
  chatTemplate?: string;
  contextLength?: number;
  numKvBlocks?: number;
  /** The "model"; default: the fake runner's context hash, never EOS (outputs run to max_tokens). */
  nextToken?: (context: number[], seq: SequenceInput) => number;
  /** Reject the runner's step with this number (1-based) with `error`. */
  failOnStep?: { step: number; error: Error };
}

/** The engine serves the model id 'stories260K'. */
export async function fakeLocalEngine(opts: FakeLocalEngineOptions = {}): Promise<{ engine: MultiEngine; runner: () => FakeRunner }> {
  let runner!: FakeRunner;
  const engine = await createEngine({
    model: STORIES_GGUF,
    modelId: 'stories260K',
    chatTemplate: opts.chatTemplate,
    createRunner: fakeChatRunner({
      contextLength: opts.contextLength,
      numKvBlocks: opts.numKvBlocks,
      nextToken: opts.nextToken,
      failOnStep: opts.failOnStep,
      onRunner: (r) => (runner = r),
    }),
  });
  return { engine, runner: () => runner };
}

/** The sampled sequences of every step the runner ran, in order. */
export function sampledInputs(runner: FakeRunner): SequenceInput[] {
  return runner.inputs.flatMap((input) => input.sequences.filter((s) => s.sample));
}
