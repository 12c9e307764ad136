// A small stand-in for vitest's test API (describe / it / each / skipIf / beforeAll / afterAll,
// and vitest's own `expect` from @vitest/expect), so that test files bundled by
// scripts/device/pack.mjs run on a machine that has Node but no node_modules. Each bundle
// registers its tests while it is imported; `runRegistered()` then runs them in order and
// prints one line per test and a summary.
import { chai, JestExtend, JestChaiExpect, ChaiStyleAssertions, JestAsymmetricMatchers, ASYMMETRIC_MATCHERS_OBJECT, GLOBAL_EXPECT, getState, setState } from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(ChaiStyleAssertions);
chai.use(JestAsymmetricMatchers);

export const expect = (value, message) => {
  const { assertionCalls } = getState(expect);
  setState({ assertionCalls: assertionCalls + 1 }, expect);
  return chai.expect(value, message);
};
Object.assign(expect, chai.expect);
Object.assign(expect, globalThis[ASYMMETRIC_MATCHERS_OBJECT]);
expect.getState = () => getState(expect);
expect.setState = (s) => setState(s, expect);
expect.extend = (m) => chai.expect.extend(expect, m);
setState({ assertionCalls: 0, isExpectingAssertions: false, isExpectingAssertionsError: null, expectedAssertionsNumber: null, expectedAssertionsNumberErrorGen: null, currentTestName: '' }, expect);
globalThis[GLOBAL_EXPECT] = expect;

const newSuite = (name, skip) => ({ name, skip, items: [], beforeAll: [], afterAll: [] });
const root = newSuite('', false);
let current = root;

function format(name, args, row) {
  let i = 0;
  let out = String(name).replace(/%[sdifjop%]/g, (m) => (m === '%%' ? '%' : i < args.length ? fmt(args[i++]) : m));
  if (row && typeof row === 'object' && !Array.isArray(row)) out = out.replace(/\$([\w.]+)/g, (m, k) => (k in row ? fmt(row[k]) : m));
  return out;
}
const fmt = (v) => (typeof v === 'string' ? v : (() => { try { return JSON.stringify(v) ?? String(v); } catch { return String(v); } })());

// A suite's callback runs when the file's tests are collected (collect(), before any runs), so
// async callbacks work as in vitest.
function addSuite(name, fn, skip) {
  current.items.push({ suite: { ...newSuite(name, skip || current.skip), fn } });
}
async function collect(s) {
  for (const item of s.items) {
    if (!item.suite) continue;
    const prev = current;
    current = item.suite;
    try {
      await item.suite.fn?.();
    } catch (err) {
      item.suite.collectError = err;
    } finally {
      current = prev;
    }
    await collect(item.suite);
  }
}
function addTest(name, a, b, skip) {
  const fn = typeof a === 'function' ? a : b;
  const opts = typeof a === 'object' && a !== null ? a : typeof b === 'object' && b !== null ? b : {};
  current.items.push({ test: { name, fn, skip: skip || current.skip || opts.skip === true } });
}
function withEach(add) {
  return (table) => (name, a, b) => {
    for (const row of table) {
      const args = Array.isArray(row) ? row : [row];
      const fn = typeof a === 'function' ? a : b;
      const rest = typeof a === 'function' ? b : a;
      add(format(name, args, row), typeof a === 'function' ? () => fn(...args) : rest, typeof a === 'function' ? rest : () => fn(...args));
    }
  };
}
function api(add) {
  const f = (name, a, b) => add(name, a, b, false);
  f.skip = (name, a, b) => add(name, a, b, true);
  f.skipIf = (cond) => (name, a, b) => add(name, a, b, Boolean(cond));
  f.runIf = (cond) => (name, a, b) => add(name, a, b, !cond);
  f.each = withEach((name, a, b) => add(name, a, b, false));
  f.todo = () => {};
  return f;
}
export const describe = api((name, a, b, skip) => addSuite(name, typeof a === 'function' ? a : b, skip));
export const it = api(addTest);
export const test = it;
export const beforeAll = (fn) => current.beforeAll.push(fn);
export const afterAll = (fn) => current.afterAll.push(fn);

const counts = { passed: 0, failed: 0, skipped: 0 };
const tests = (s) => s.items.flatMap((i) => (i.test ? [i.test] : tests(i.suite)));
const message = (err) => String(err?.stack ?? err).split('\n').slice(0, 8).join('\n    ');

async function runSuite(s, path) {
  const here = [...path, s.name];
  const label = (n) => [...here, n].filter(Boolean).join(' > ');
  const all = tests(s);
  if (s.collectError) {
    counts.failed += Math.max(1, all.length);
    console.log(`FAIL ${label('')} (collecting): ${message(s.collectError)}`);
    return;
  }
  if (all.every((t) => t.skip)) {
    counts.skipped += all.length;
    return;
  }
  try {
    for (const h of s.beforeAll) await h();
  } catch (err) {
    counts.failed += all.length;
    console.log(`FAIL ${label('')} (beforeAll): ${message(err)}`);
    return;
  }
  for (const item of s.items) {
    if (item.suite) {
      await runSuite(item.suite, here);
      continue;
    }
    const t = item.test;
    if (t.skip) {
      counts.skipped++;
      continue;
    }
    const started = performance.now();
    try {
      await t.fn({ skip: () => { throw Object.assign(new Error('skipped'), { skipped: true }); } });
      counts.passed++;
      console.log(`ok   ${label(t.name)} (${Math.round(performance.now() - started)} ms)`);
    } catch (err) {
      if (err?.skipped) {
        counts.skipped++;
        continue;
      }
      counts.failed++;
      console.log(`FAIL ${label(t.name)}: ${message(err)}`);
    }
  }
  for (const h of s.afterAll) {
    try {
      await h();
    } catch (err) {
      counts.failed++;
      console.log(`FAIL ${label('')} (afterAll): ${message(err)}`);
    }
  }
}

export async function runRegistered(file) {
  await collect(root);
  await runSuite(root, [file]);
  console.log(`${file}: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  return counts;
}
