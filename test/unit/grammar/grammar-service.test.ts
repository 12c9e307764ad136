// Which grammar service an engine gets (src/grammar/service.ts): 'off' and a Node process
// running from source are in-thread, a start function is a grammar worker with the in-thread
// fallback, and Node from dist/ starts dist/worker/grammar.worker.js.
import { describe, expect, it } from 'vitest';
import { GrammarCompilerService } from '../../../src/grammar/compiler';
import { RemoteGrammarService } from '../../../src/grammar/remote';
import { createGrammarService } from '../../../src/grammar/service';
import { nodeGrammarWorkerStarter, type NodeWorkerModules } from '../../../src/grammar/worker-port';
import { channelGrammarWorker, tokenizer } from '../../helpers/constrained-engine';

describe('createGrammarService', () => {
  it("'off' is in-thread; a start function is a grammar worker; 'auto' in Node from source is in-thread (no built worker file)", async () => {
    expect(await createGrammarService(tokenizer, tokenizer.vocabSize, 'off')).toBeInstanceOf(GrammarCompilerService);
    const remote = await createGrammarService(tokenizer, tokenizer.vocabSize, channelGrammarWorker);
    expect(remote).toBeInstanceOf(RemoteGrammarService);
    const compiled = await remote.compile({ kind: 'choice', choices: ['yes', 'no'] });
    expect(compiled.key).toEqual(expect.any(String));
    expect((remote as RemoteGrammarService).fallback).toBeUndefined();
    remote.close?.();
    expect(await createGrammarService(tokenizer, tokenizer.vocabSize)).toBeInstanceOf(GrammarCompilerService);
  });

  it('Node from dist/: the built worker beside the library chunk, or none when the file is not there', () => {
    const started: URL[] = [];
    class FakeWorker {
      constructor(url: URL) {
        started.push(url);
      }
      postMessage() {}
      on() {
        return this;
      }
      terminate() {}
    }
    const mods = (exists: boolean): NodeWorkerModules => ({ Worker: FakeWorker as unknown as NodeWorkerModules['Worker'], existsSync: () => exists });
    const start = nodeGrammarWorkerStarter(mods(true), 'file:///app/node_modules/tabllm/dist/host-abc.js');
    expect(start).toBeTypeOf('function');
    start!();
    expect(started.map(String)).toEqual(['file:///app/node_modules/tabllm/dist/worker/grammar.worker.js']);
    expect(nodeGrammarWorkerStarter(mods(false), 'file:///app/node_modules/tabllm/dist/host-abc.js')).toBeUndefined();
    expect(nodeGrammarWorkerStarter(mods(true), 'http://example.com/dist/host-abc.js')).toBeUndefined();
  });
});
