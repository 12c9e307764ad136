// The grammar worker's side (worker/grammar.worker.ts runs it; tests run it on a MessagePort):
// it owns XGrammar — the TokenizerInfo, the compiler with its LRU of compiled grammars, and
// every sequence's matcher — so a compile (~0.2 s, seconds for the first ones on a 128K
// vocabulary) blocks this thread, never the engine's step loop. Protocol: worker-protocol.ts.
import { GrammarCompilerService, type GrammarCompilerOptions } from './compiler';
import { GrammarError } from './errors';
import type { SequenceMatcher } from './matcher';
import { grammarVocabFromWire } from './vocab';
import { toWireError, type FromGrammarWorker, type GrammarPort, type MaskResult, type MaskRow, type ToGrammarWorker } from './worker-protocol';

export function hostGrammar(port: Pick<GrammarPort, 'postMessage' | 'onMessage'>, options: GrammarCompilerOptions = {}): void {
  let service: GrammarCompilerService | undefined;
  const matchers = new Map<number, SequenceMatcher>();

  const compiler = (): GrammarCompilerService => {
    if (service === undefined) throw new GrammarError('grammar_unavailable', 'the grammar worker got a request before init');
    return service;
  };
  const matcher = (matcherId: number): SequenceMatcher => {
    const m = matchers.get(matcherId);
    if (m === undefined) throw new Error(`no matcher ${matcherId} in the grammar worker`);
    return m;
  };

  async function masks(rows: MaskRow[]): Promise<MaskResult[]> {
    const out: MaskResult[] = [];
    for (const row of rows) {
      try {
        const m = matcher(row.matcherId);
        for (const tokenId of row.accept) {
          if (!m.accept(tokenId)) throw new Error(`token ${tokenId} is not allowed by the grammar here`);
        }
        // A copy the reply can transfer (the matcher's own may be reused).
        out.push((await m.nextMask()).slice());
      } catch (err) {
        out.push(toWireError(err));
      }
    }
    return out;
  }

  async function handle(msg: ToGrammarWorker): Promise<Omit<Extract<FromGrammarWorker, { ok: true }>, 'type' | 'id' | 'ok'>> {
    switch (msg.type) {
      case 'init':
        service = new GrammarCompilerService(() => grammarVocabFromWire(msg.vocab), options);
        return {};
      case 'compile':
        return { key: (await compiler().compile(msg.constraint)).key };
      case 'create': {
        const compiled = await compiler().compile(msg.constraint);
        matchers.set(msg.matcherId, await compiled.createMatcher(msg.extraStopTokenIds));
        return {};
      }
      case 'fork':
        matchers.set(msg.matcherId, (await matcher(msg.fromId).fork()) as SequenceMatcher);
        return {};
      case 'masks':
        return { masks: await masks(msg.rows) };
      case 'dispose':
        return {};
    }
  }

  port.onMessage((data) => {
    const msg = data as ToGrammarWorker;
    if (msg.type === 'dispose') {
      for (const id of msg.matcherIds) {
        matchers.get(id)?.dispose();
        matchers.delete(id);
      }
      return;
    }
    handle(msg).then(
      (value) => {
        const reply: FromGrammarWorker = { type: 'reply', id: msg.id, ok: true, ...value };
        const transfer = (value.masks ?? []).flatMap((m) => (m instanceof Uint32Array ? [m.buffer as ArrayBuffer] : []));
        port.postMessage(reply, transfer);
      },
      (err: unknown) => port.postMessage({ type: 'reply', id: msg.id, ok: false, error: toWireError(err) }),
    );
  });
}
