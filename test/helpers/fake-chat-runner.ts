// The fake-runner "model" the flow tests share between Node and a Chromium page (no Node
// imports here): stories260K's tokenizer with a ChatML template, and a FakeRunner whose next
// token is the context hash, never EOS — so the same messages give the same text anywhere.
import type { ModelRunner, RunnerFactoryArgs, SequenceInput } from '../../src/engine/types';
import { FakeRunner, fakeNextToken } from '../../src/testing/fake-runner';

/** A ChatML template, so /api/chat and chat completions work on stories260K (which has none). */
export const CHATML =
  "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
/** stories260K's EOS id. */
const EOS = 2;

export interface FakeChatRunnerOptions {
  contextLength?: number;
  numKvBlocks?: number;
  nextToken?: (context: number[], seq: SequenceInput) => number;
  failOnStep?: { step: number; error: Error };
  /** Gets the runner once made (tests read its StepInputs). */
  onRunner?: (runner: FakeRunner) => void;
}

export function fakeChatRunner(opts: FakeChatRunnerOptions = {}): (args: RunnerFactoryArgs) => Promise<ModelRunner> {
  return async ({ config }) => {
    const hashed = (context: number[], seq: SequenceInput) => {
      const id = fakeNextToken(context, config.vocabSize, seq.sampling, seq.sampleIndex);
      return id === EOS ? EOS + 1 : id;
    };
    const runner = new FakeRunner({
      vocabSize: config.vocabSize,
      contextLength: opts.contextLength ?? 512,
      numKvBlocks: opts.numKvBlocks ?? 64,
      nextToken: opts.nextToken ?? hashed,
      failOnStep: opts.failOnStep,
    });
    opts.onRunner?.(runner);
    return runner;
  };
}
