// A host-neutral grammar check (Node, a page, a worker): compile a JSON schema for the small
// byte-level vocabulary, walk its matcher with allowed tokens until the stop token, and
// return the text, so a browser test can see XGrammar load and work where it runs.
import { GrammarCompilerService } from '../../src/grammar/compiler';
import { grammarVocab } from '../../src/grammar/vocab';
import { jsonTokenizer } from './json-vocab';

export interface GrammarWalk {
  text: string;
  terminated: boolean;
  errorCode?: string;
  errorMessage?: string;
}

export async function walkGrammar(schema: object, badSchema?: string): Promise<GrammarWalk> {
  const tok = jsonTokenizer();
  const svc = new GrammarCompilerService(() => grammarVocab(tok));
  const m = await (await svc.compile({ kind: 'json_schema', schema: JSON.stringify(schema) })).createMatcher();
  const ids: number[] = [];
  for (let k = 0; k < 200 && !m.isTerminated; k++) {
    const mask = await m.nextMask();
    let pick = -1;
    for (let t = 0, seen = 0; t < tok.vocabSize && pick < 0; t++) if ((mask[t >>> 5] >>> (t & 31)) & 1 && seen++ === k % 3) pick = t;
    for (let t = 0; t < tok.vocabSize && pick < 0; t++) if ((mask[t >>> 5] >>> (t & 31)) & 1) pick = t;
    if (!m.accept(pick)) throw new Error(`token ${pick} refused`);
    ids.push(pick);
  }
  const out: GrammarWalk = { text: tok.decode(ids.filter((id) => !tok.isEog(id))), terminated: m.isTerminated };
  if (badSchema !== undefined) {
    try {
      await svc.compile({ kind: 'json_schema', schema: badSchema });
    } catch (e) {
      out.errorCode = (e as { code?: string }).code;
      out.errorMessage = (e as Error).message;
    }
  }
  return out;
}
