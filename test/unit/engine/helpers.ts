// Shared helpers for engine tests: an EngineCore over the fake runner, a CPU reference of
// the fake model's outputs, and a collector for a request's events.
import { EngineCore, type EngineCoreOptions, type EngineEvent, type RequestStream } from '../../../src/engine/core';
import type { SamplingParams } from '../../../src/engine/types';
import { createFakeDetokenizer, fakeNextToken, FakeRunner, type FakeRunnerOptions } from '../../../src/testing/fake-runner';

export const VOCAB = 1000;

export function makeEngine(runnerOptions: FakeRunnerOptions = {}, options: EngineCoreOptions = {}, eogIds: number[] = []) {
  const runner = new FakeRunner({ vocabSize: VOCAB, ...runnerOptions });
  const core = new EngineCore({ runner, createDetokenizer: createFakeDetokenizer(), eogIds, options });
  return { runner, core };
}

/** What the fake model generates for `prompt` when nothing else is going on. */
export function referenceOutput(prompt: readonly number[], maxTokens: number, sampling?: SamplingParams, vocabSize = VOCAB): number[] {
  const context = [...prompt];
  const out: number[] = [];
  for (let k = 0; k < maxTokens; k++) {
    const t = fakeNextToken(context, vocabSize, sampling, k);
    out.push(t);
    context.push(t);
  }
  return out;
}

export interface Collected {
  events: EngineEvent[];
  /** Per choice. */
  ids: number[][];
  text: string[];
  finish: (string | undefined)[];
  last: EngineEvent;
}

export async function collect(stream: RequestStream): Promise<Collected> {
  const events = await stream.collect();
  const ids: number[][] = [];
  const text: string[] = [];
  const finish: (string | undefined)[] = [];
  for (const e of events) {
    ids[e.index] ??= [];
    text[e.index] ??= '';
    ids[e.index].push(...e.tokenIds);
    text[e.index] += e.text;
    if (e.finishReason) finish[e.index] = e.finishReason;
  }
  return { events, ids, text, finish, last: events[events.length - 1] };
}

/** A prompt of `length` ids derived from `seed` (distinct prompts for distinct seeds). */
export function makePrompt(length: number, seed: number): number[] {
  return Array.from({ length }, (_, i) => (Math.imul(seed + 1, 7919) + i * 31 + ((i * i) % 17)) % VOCAB);
}

/** Resolves when the engine's loop has gone idle. */
export async function idle(core: EngineCore): Promise<void> {
  while (core.busy) await new Promise<void>((r) => setImmediate(r));
}
