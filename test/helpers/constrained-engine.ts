// An EngineCore over the fake runner with the small byte-level JSON vocabulary (json-vocab.ts),
// its real detokenizer and a grammar service: constrained decoding end to end without a GPU.
// Two services: XGrammar in this thread ('in-thread'), or the grammar worker's host on the
// other end of a MessageChannel ('worker-protocol': the remote client, its prefetched masks
// and sit-out steps, with the host in this thread so no worker file is needed).
import { engineTokenizer } from '../../src/create-engine';
import { EngineCore, type EngineCoreOptions, type RequestStream } from '../../src/engine/core';
import type { GrammarService } from '../../src/grammar/backend';
import { GrammarCompilerService } from '../../src/grammar/compiler';
import { hostGrammar } from '../../src/grammar/grammar-host';
import { RemoteGrammarService, type RemoteGrammarOptions } from '../../src/grammar/remote';
import { grammarVocab, wireGrammarVocab } from '../../src/grammar/vocab';
import { messagePortPort } from '../../src/grammar/worker-port';
import type { GrammarPort } from '../../src/grammar/worker-protocol';
import type { ModelRunner } from '../../src/engine/types';
import { FakeRunner, type FakeRunnerOptions } from '../../src/testing/fake-runner';
import { JSON_VOCAB_SIZE, jsonTokenizer } from './json-vocab';

export const tokenizer = jsonTokenizer();
const sharedGrammar = new GrammarCompilerService(() => grammarVocab(tokenizer));

/** A grammar host on the far end of a MessageChannel (what worker/grammar.worker.ts runs). */
export function channelGrammarWorker(): GrammarPort {
  const { port1, port2 } = new MessageChannel();
  hostGrammar(messagePortPort(port2));
  return messagePortPort(port1);
}

export function remoteGrammar(startWorker: () => GrammarPort = channelGrammarWorker, options: RemoteGrammarOptions = {}): RemoteGrammarService {
  return new RemoteGrammarService(() => wireGrammarVocab(tokenizer), startWorker, options);
}

export type GrammarBackend = 'in-thread' | 'worker-protocol';
export const GRAMMAR_BACKENDS: GrammarBackend[] = ['in-thread', 'worker-protocol'];
let sharedRemote: RemoteGrammarService | undefined;

export function makeConstrainedEngine(
  runnerOptions: FakeRunnerOptions = {}, options: EngineCoreOptions = {}, runner?: ModelRunner, backend: GrammarBackend | GrammarService = 'in-thread',
) {
  const r = runner ?? new FakeRunner({ vocabSize: JSON_VOCAB_SIZE, ...runnerOptions });
  const tok = engineTokenizer(tokenizer);
  const grammar = backend === 'in-thread' ? sharedGrammar : backend === 'worker-protocol' ? (sharedRemote ??= remoteGrammar()) : backend;
  const core = new EngineCore({ runner: r, createDetokenizer: tok.createDetokenizer, eogIds: tokenizer.eogIds, grammar, options });
  return { runner: r, core, grammar };
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
