// XGrammar in Chromium (src/grammar/xgrammar-load.ts): loaded from its text in a page and in a
// module worker, a JSON schema compiled and walked to its end, and a bad schema answered with
// the coded error naming what XGrammar refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestPage, type TestPage } from '../helpers/browser';
import type { GrammarWalk } from '../helpers/grammar-walk';

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
});
