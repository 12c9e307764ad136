// An EngineCore over the fake runner with the small byte-level JSON vocabulary (json-vocab.ts),
// its real detokenizer and a grammar compiler: constrained decoding end to end without a GPU.
import { engineTokenizer } from '../../src/create-engine';
import { EngineCore, type EngineCoreOptions, type RequestStream } from '../../src/engine/core';
import { GrammarCompilerService } from '../../src/grammar/compiler';
import { grammarVocab } from '../../src/grammar/vocab';
import type { ModelRunner } from '../../src/engine/types';
import { FakeRunner, type FakeRunnerOptions } from '../../src/testing/fake-runner';
import { JSON_VOCAB_SIZE, jsonTokenizer } from './json-vocab';

export const tokenizer = jsonTokenizer();
const sharedGrammar = new GrammarCompilerService(() => grammarVocab(tokenizer));

export function makeConstrainedEngine(runnerOptions: FakeRunnerOptions = {}, options: EngineCoreOptions = {}, runner?: ModelRunner) {
  const r = runner ?? new FakeRunner({ vocabSize: JSON_VOCAB_SIZE, ...runnerOptions });
  const tok = engineTokenizer(tokenizer);
  const core = new EngineCore({ runner: r, createDetokenizer: tok.createDetokenizer, eogIds: tokenizer.eogIds, grammar: sharedGrammar, options });
  return { runner: r, core, grammar: sharedGrammar };
}

export interface ChoiceResult {
  ids: number[];
  text: string;
  finish: string | undefined;
}

/** All choices of one request, by index. */
export async function run(stream: RequestStream): Promise<ChoiceResult[]> {
  const out: ChoiceResult[] = [];
  for await (const e of stream) {
    out[e.index] ??= { ids: [], text: '', finish: undefined };
    out[e.index].ids.push(...e.tokenIds);
    out[e.index].text += e.text;
    if (e.finishReason) out[e.index].finish = e.finishReason;
  }
  return out;
}

export const PROMPT = tokenizer.encode('Answer in JSON: ');
