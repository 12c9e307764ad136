// The real grammar worker (worker/grammar.worker.ts) in a Node worker_threads Worker, from
// source: for several schemas, a regex and a choice list, walking one path of allowed tokens,
// every mask it answers equals the in-thread matcher's mask for the same state.
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import type { TokenMatcher } from '../../../src/grammar/backend';
import { GrammarCompilerService } from '../../../src/grammar/compiler';
import type { OutputConstraint } from '../../../src/grammar/constraint';
import { grammarVocab } from '../../../src/grammar/vocab';
import { nodeWorkerPort } from '../../../src/grammar/worker-port';
import { remoteGrammar, tokenizer } from '../../helpers/constrained-engine';
import { SCHEMA_CASES } from '../../helpers/json-schemas';

const BOOT = new URL('../../helpers/ts-worker.mjs', import.meta.url);
const ENTRY = new URL('../../../worker/grammar.worker.ts', import.meta.url).href;

const local = new GrammarCompilerService(() => grammarVocab(tokenizer));
const remote = remoteGrammar(() => nodeWorkerPort(new Worker(BOOT, { workerData: { entry: ENTRY } })));
afterAll(() => remote.close());

const CONSTRAINTS: Array<[string, OutputConstraint]> = [
  ...SCHEMA_CASES.slice(0, 6).map((c): [string, OutputConstraint] => [`schema ${c.name}`, { kind: 'json_schema', schema: JSON.stringify(c.schema) }]),
  ['json_object', { kind: 'json_object' }],
  ['regex', { kind: 'regex', pattern: '[a-z]{3}-[0-9]{2,4}' }],
  ['choice', { kind: 'choice', choices: ['positive', 'negative', 'naïve'] }],
];

function allowedIds(mask: Uint32Array): number[] {
  const ids: number[] = [];
  for (let w = 0; w < mask.length; w++) for (let b = 0; b < 32; b++) if ((mask[w] >>> b) & 1) ids.push(w * 32 + b);
  return ids;
}

describe('grammar worker in worker_threads: the same masks as in-thread', () => {
  it.each(CONSTRAINTS)('%s', async (_, constraint) => {
    const mine: TokenMatcher = await (await local.compile(constraint)).createMatcher();
    const theirs: TokenMatcher = await (await remote.compile(constraint)).createMatcher();
    let state = 12345;
    let steps = 0;
    for (; steps < 300 && !mine.isTerminated; steps++) {
      const want = Array.from(await mine.nextMask());
      const got = Array.from(await theirs.nextMask());
      expect(got, `step ${steps}`).toEqual(want);
      const ids = allowedIds(Uint32Array.from(want));
      state = (state * 1103515245 + 12345) % 2 ** 31;
      const id = ids[state % ids.length];
      expect(mine.accept(id)).toBe(true);
      expect(theirs.accept(id)).toBe(true);
      expect(theirs.isTerminated).toBe(mine.isTerminated);
    }
    expect(steps).toBeGreaterThan(1);
    mine.dispose();
    theirs.dispose();
  });
});
