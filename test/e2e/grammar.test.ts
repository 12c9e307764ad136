// XGrammar in Chromium (src/grammar/xgrammar-load.ts): loaded from its text in a page and in a
// module worker, a JSON schema compiled and walked to its end, and a bad schema answered with
// the coded error naming what XGrammar refused; and a constrained request through EngineCore
// with its grammar in the grammar worker (worker/grammar.worker.ts), from a page and nested in
// a module worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPage, type TestPage } from '../helpers/browser';
import type { GrammarWalk } from '../helpers/grammar-walk';
import type { GrammarWorkerRun } from '../helpers/grammar-worker-run';

const SCHEMA = { type: 'object', properties: { ok: { type: 'boolean' }, n: { enum: [1, 2] } }, required: ['ok', 'n'], additionalProperties: false };

describe('grammar engine (Chromium)', () => {
  let opened: TestPage;
  beforeAll(async () => {
    opened = await openTestPage('/test/e2e/pages/grammar.html', { readyFlag: 'grammarReady' });
  });
  afterAll(async () => opened?.close());

  function check(r: GrammarWalk) {
    expect(r.terminated).toBe(true);
    const value = JSON.parse(r.text) as { ok: unknown; n: unknown };
    expect(typeof value.ok).toBe('boolean');
    expect([1, 2]).toContain(value.n);
    expect(r.errorCode).toBe('invalid_grammar');
    expect(r.errorMessage).toContain('Unsupported type "wat"');
  }

  it('in a page', async () => {
    check(await opened.page.evaluate(([s]) => (window as unknown as { runPageGrammar: (s: object, b: string) => Promise<GrammarWalk> }).runPageGrammar(s, '{"type": "wat"}'), [SCHEMA] as const));
  });

  it('in a module worker', async () => {
    check(await opened.page.evaluate(([s]) => (window as unknown as { runWorkerGrammar: (s: object, b: string) => Promise<GrammarWalk> }).runWorkerGrammar(s, '{"type": "wat"}'), [SCHEMA] as const));
    expect(opened.errors).toEqual([]);
  });

  function checkEngine(r: GrammarWorkerRun) {
    expect(r.usedWorker).toBe(true);
    expect(r.numWorkers).toBe(1);
    expect(r.finish).toBe('stop');
    for (const text of [r.text, r.secondText]) {
      const value = JSON.parse(text) as { ok: unknown; n: unknown };
      expect(typeof value.ok).toBe('boolean');
      expect([1, 2]).toContain(value.n);
    }
  }

  it('a constrained request with the grammar worker, from a page', async () => {
    checkEngine(await opened.page.evaluate(([s]) => (window as unknown as { runPageGrammarWorker: (s: object) => Promise<GrammarWorkerRun> }).runPageGrammarWorker(s), [SCHEMA] as const));
  });

  it('a constrained request with the grammar worker nested in a module worker', async () => {
    checkEngine(await opened.page.evaluate(([s]) => (window as unknown as { runWorkerGrammar: (s: object, b: undefined, e: boolean) => Promise<GrammarWorkerRun> }).runWorkerGrammar(s, undefined, true), [SCHEMA] as const));
    expect(opened.errors).toEqual([]);
  });
});
