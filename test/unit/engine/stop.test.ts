// StopChecker: stop strings across tokens with hold-back, EOG / stop ids, max_tokens and
// the context limit, with a scripted detokenizer.
import { describe, expect, it } from 'vitest';
import { StopChecker, type Detokenizer, type StopCriteria } from '../../../src/engine/stop';

function criteria(over: Partial<StopCriteria> = {}): StopCriteria {
  return { maxTokens: 100, eogIds: new Set([0]), ignoreEos: false, stopTokenIds: new Set(), stopStrings: [], contextLength: 1000, ...over };
}

/** Token id i detokenizes to pieces[i]; `pending` simulates a byte-level tail released by flush. */
function detok(pieces: string[], pending = ''): Detokenizer {
  return { push: (id) => pieces[id], flush: () => pending };
}

/** Feeds ids 1..n in order; returns the streamed deltas and the finish reason. */
function run(checker: StopChecker, ids: number[], promptLength = 3) {
  const deltas: string[] = [];
  let finish: string | null = null;
  ids.forEach((id, k) => {
    if (finish !== null) return;
    const r = checker.onToken(id, k + 1, promptLength + k + 1);
    deltas.push(r.text);
    finish = r.finishReason;
  });
  return { deltas, text: deltas.join(''), finish };
}

describe('StopChecker', () => {
  const pieces = ['<eos>', 'Hel', 'lo', ' wor', 'ld', '\n\n', 'Use', 'r:', ' ok', 'U', 's', 'e'];

  it('cuts a stop string that spans three tokens and streams nothing after the cut', () => {
    const c = new StopChecker(criteria({ stopStrings: ['User:'] }), detok(pieces));
    const r = run(c, [1, 2, 5, 6, 7, 8]);
    expect(r.finish).toBe('stop');
    expect(r.text).toBe('Hello\n\n');
    // "Use" is held back (a prefix of "User:") until "r:" completes the match.
    expect(r.deltas).toEqual(['Hel', 'lo', '\n\n', '', '']);
  });

  it('releases held-back text once it can no longer become a stop string', () => {
    const c = new StopChecker(criteria({ stopStrings: ['User:'] }), detok(pieces));
    const r = run(c, [9, 10, 11, 3, 4], 3);
    expect(r.deltas).toEqual(['', '', '', 'Use wor', 'ld']);
    expect(r.finish).toBe(null);
  });

  it('finds the earliest of several stop strings, also inside one token', () => {
    const c = new StopChecker(criteria({ stopStrings: ['world', 'lo w'] }), detok(pieces));
    expect(run(c, [1, 2, 3, 4]).text).toBe('Hel');
    const d = new StopChecker(criteria({ stopStrings: ['ll'] }), detok(['', 'a', 'xllz']));
    expect(run(d, [1, 2])).toEqual({ deltas: ['a', 'x'], text: 'ax', finish: 'stop' });
  });

  it('stops on EOG (no text) unless ignore_eos, and on stop token ids always', () => {
    expect(run(new StopChecker(criteria(), detok(pieces)), [1, 0, 2])).toEqual({ deltas: ['Hel', ''], text: 'Hel', finish: 'stop' });
    expect(run(new StopChecker(criteria({ ignoreEos: true }), detok(pieces)), [1, 0, 2]).text).toBe('Hel<eos>lo');
    const ids = new StopChecker(criteria({ ignoreEos: true, stopTokenIds: new Set([2]) }), detok(pieces));
    expect(run(ids, [1, 2, 3])).toMatchObject({ text: 'Hel', finish: 'stop' });
  });

  it('EOG releases held-back text that was not a stop string', () => {
    const c = new StopChecker(criteria({ stopStrings: ['User:'] }), detok(pieces, '!'));
    expect(run(c, [1, 6, 0])).toEqual({ deltas: ['Hel', '', 'Use!'], text: 'HelUse!', finish: 'stop' });
  });

  it('finishes with length at max_tokens and at the context limit, flushing the detokenizer', () => {
    const a = new StopChecker(criteria({ maxTokens: 2 }), detok(pieces, '\u00e9'));
    expect(run(a, [1, 2, 3])).toEqual({ deltas: ['Hel', 'lo\u00e9'], text: 'Hello\u00e9', finish: 'length' });
    const b = new StopChecker(criteria({ contextLength: 5 }), detok(pieces));
    expect(run(b, [1, 2, 3], 3)).toMatchObject({ text: 'Hello', finish: 'length' });
    // A stop string completed by the last allowed token still reports 'stop'.
    const c = new StopChecker(criteria({ maxTokens: 2, stopStrings: ['lo'] }), detok(pieces));
    expect(run(c, [1, 2])).toMatchObject({ text: 'Hel', finish: 'stop' });
  });

  it('refuses tokens after finishing, and abort drops held-back text', () => {
    const c = new StopChecker(criteria({ maxTokens: 1 }), detok(pieces));
    c.onToken(1, 1, 4);
    expect(() => c.onToken(2, 2, 5)).toThrow(/after finish/);
    const d = new StopChecker(criteria({ stopStrings: ['User:'] }), detok(pieces));
    expect(d.onToken(6, 1, 4).text).toBe('');
    d.abort();
    expect(d.forceFinish()).toBe('');
  });
});
