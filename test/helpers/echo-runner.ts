// The "model" behind FakeEngine: a FakeRunner (src/testing/fake-runner.ts: paged-KV checks
// on every step) whose next token is the next word of `You said: <source>`, then EOS.
// `source` is read from the prompt alone, the part of the context before the output
// (sampleIndex = tokens generated so far): the last `<|user|>` message when the prompt
// ends with the generation prompt ` <|assistant|>` (FAKE_TEMPLATE), else the whole prompt.
// When sampling (temperature > 0), choice i starts the reply rotated by its seed (the core
// gives choice i seed + i), so `n` and `seed` stay visible and reproducible; with
// ignore_eos the reply repeats after its EOS.
//
// Time is a fake clock (`clockMs`, the core's and the facade's `now`): a step costs 1 ms per
// prefill token and 3 ms per decode token, so timings are exact numbers.
//
// The wrapper adds what a test steers: a delay before each step (so a test can abort
// mid-stream), a failure on the first step after some sequence's first token (an engine
// error mid-stream), and readable logprobs (token k of a reply: -((k % 5) + 1) / 10;
// top alternatives ` alt1`, ` alt2` … one lower each).
import type { ModelRunner, SequenceInput, StepInput, StepOutput } from '../../src/engine/types';
import { FakeRunner } from '../../src/testing/fake-runner';
import { BOS, EOS, type WordTokenizer } from './word-tokenizer';

/** The chat template the fake model reads: `<|user|> hi <|assistant|>`, messages joined by a space. */
export const FAKE_TEMPLATE =
  '{% for m in messages %}{% if not loop.first %} {% endif %}<|{{ m.role }}|> {{ m.content }}{% endfor %}{% if add_generation_prompt %} <|assistant|>{% endif %}';

const ROLE_MARKER = /^<\|\w+\|>$/;

export interface EchoRunnerOptions {
  contextLength: number;
  numKvBlocks?: number;
  vocabSize: number;
}

export class EchoRunner implements ModelRunner {
  readonly inner: FakeRunner;
  /** Milliseconds to wait before each step. */
  tokenDelayMs = 0;
  /** The fake clock, in ms. */
  clockMs = 0;
  /** Thrown by the first step after some sequence has sampled its first token. */
  failAfterFirstToken: Error | undefined;

  constructor(
    private readonly tokenizer: WordTokenizer,
    options: EchoRunnerOptions,
  ) {
    this.inner = new FakeRunner({
      vocabSize: options.vocabSize,
      contextLength: options.contextLength,
      numKvBlocks: options.numKvBlocks ?? 256,
      nextToken: (context, seq) => this.nextToken(context, seq),
    });
  }

  get config() {
    return this.inner.config;
  }
  get numKvBlocks() {
    return this.inner.numKvBlocks;
  }
  get blockSize(): ModelRunner['blockSize'] {
    return this.inner.blockSize;
  }

  async step(input: StepInput): Promise<StepOutput> {
    if (this.tokenDelayMs > 0) await new Promise((r) => setTimeout(r, this.tokenDelayMs));
    const fail = this.failAfterFirstToken;
    if (fail !== undefined && input.sequences.some((s) => s.sample && (s.sampleIndex ?? 0) >= 1)) {
      this.failAfterFirstToken = undefined;
      throw fail;
    }
    const output = await this.inner.step(input);
    for (const seq of input.sequences) this.clockMs += seq.sample && (seq.sampleIndex ?? 0) >= 1 ? 3 * seq.queryLength : seq.queryLength;
    const sampledSeqs = input.sequences.filter((s) => s.sample);
    output.sampled.forEach((out, i) => {
      const seq = sampledSeqs[i]!;
      if (!seq.sampling?.logprobs) return;
      const logprob = -(((seq.sampleIndex ?? 0) % 5) + 1) / 10;
      out.logprob = logprob;
      out.topLogprobs = Array.from({ length: seq.sampling.topLogprobs }, (_, j) => ({
        tokenId: j === 0 ? out.tokenId : this.tokenizer.idOf(` alt${j}`),
        logprob: logprob - j,
      }));
    });
    return output;
  }

  destroy(): void {
    this.inner.destroy();
  }

  /** The next word of the reply to the prompt part of `context`. */
  private nextToken(context: number[], seq: SequenceInput): number {
    const generated = seq.sampleIndex ?? 0;
    const prompt = context.slice(0, context.length - generated).filter((id) => id !== BOS);
    const words = prompt.map((id) => this.tokenizer.text(id));
    let sourceWords = words;
    if (words.length > 0 && words[words.length - 1]!.trim() === '<|assistant|>') {
      const user = words.map((w) => w.trim()).lastIndexOf('<|user|>');
      const end = words.findIndex((w, i) => i > user && ROLE_MARKER.test(w.trim()));
      sourceWords = user < 0 ? [] : words.slice(user + 1, end);
    }
    let reply = `You said: ${sourceWords.join('')}`.split(/\s+/).filter((w) => w !== '');
    const sampling = seq.sampling!;
    if (sampling.temperature > 0) {
      const shift = ((sampling.seed % reply.length) + reply.length) % reply.length;
      reply = [...reply.slice(shift), ...reply.slice(0, shift)];
    }
    // With ignore_eos the core keeps asking: the reply and its EOS repeat.
    const k = generated % (reply.length + 1);
    if (k === reply.length) return EOS;
    return this.tokenizer.idOf(k === 0 ? reply[0]! : ` ${reply[k]}`);
  }
}
