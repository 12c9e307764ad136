// A host-neutral run of one constrained request through EngineCore (fake runner, small JSON
// vocabulary) with its grammar in a grammar worker started the way createEngine's 'auto' does
// here (a page, or nested in a module worker), so a browser test sees the worker load and answer.
import { GREEDY } from '../../src/engine/types';
import { RemoteGrammarService } from '../../src/grammar/remote';
import { defaultGrammarWorker } from '../../src/grammar/service';
import { wireGrammarVocab } from '../../src/grammar/vocab';
import { makeConstrainedEngine, PROMPT, run, tokenizer } from './constrained-engine';

export interface GrammarWorkerRun {
  text: string;
  finish: string | undefined;
  /** The 'auto' choice found a worker to start here. */
  usedWorker: boolean;
  numWorkers: number;
  /** A second request reused the worker (its compiled grammar cached there). */
  secondText: string;
}

export async function runWithGrammarWorker(schema: object): Promise<GrammarWorkerRun> {
  const start = await defaultGrammarWorker();
  if (start === undefined) return { text: '', finish: undefined, usedWorker: false, numWorkers: 0, secondText: '' };
  const grammar = new RemoteGrammarService(() => wireGrammarVocab(tokenizer), start);
  try {
    const { core } = makeConstrainedEngine({}, {}, undefined, grammar);
    const request = (seed: number) => ({
      promptIds: [...PROMPT, 40 + seed], maxTokens: 400, sampling: { ...GREEDY, temperature: 0.9, seed },
      constraint: { kind: 'json_schema' as const, schema: JSON.stringify(schema) },
    });
    const [[first], [second]] = await Promise.all([run(core.addRequest(request(1))), run(core.addRequest(request(2)))]);
    return { text: first.text, finish: first.finish, usedWorker: true, numWorkers: grammar.numWorkers, secondText: second.text };
  } finally {
    grammar.close();
  }
}
