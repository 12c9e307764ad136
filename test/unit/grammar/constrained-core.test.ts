// Constrained decoding through EngineCore on the fake runner (no GPU): every output of a JSON
// schema, regex or choice request is a sentence of its grammar, for greedy and seeded rows;
// n > 1, stop strings, max_tokens, preemption, aborts, compile errors, and batch invariance;
// each with XGrammar in-thread and behind the grammar worker's protocol (GRAMMAR_BACKENDS);
// tool-call constraints join the batching mix.
import { describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/engine/errors';
import type { EngineRequest } from '../../../src/engine/request';
import { GREEDY, type SamplingParams } from '../../../src/engine/types';
import { GRAMMAR_BACKENDS, makeConstrainedEngine as makeEngine, PROMPT, run, type ChoiceResult, type GrammarBackend } from '../../helpers/constrained-engine';
import { JSON_EOS } from '../../helpers/json-vocab';
import { makeAjv, SCHEMA_CASES } from '../../helpers/json-schemas';
import { startsAsForced, TOOL_CASES } from '../../helpers/tool-requests';

const SAMPLED: SamplingParams = { ...GREEDY, temperature: 0.9, seed: 7 };
const MODES: Array<[string, SamplingParams]> = [['greedy', GREEDY], ['sampled', SAMPLED]];
const ajv = makeAjv();

function schemaRequest(schema: object, sampling: SamplingParams, extra: Partial<EngineRequest> = {}): EngineRequest {
  return { promptIds: PROMPT, maxTokens: 1500, sampling, constraint: { kind: 'json_schema', schema: JSON.stringify(schema) }, ...extra };
}

describe.each(GRAMMAR_BACKENDS)('grammar %s', (backend: GrammarBackend) => {
  const makeConstrainedEngine: typeof makeEngine = (r = {}, o = {}, runner) => makeEngine(r, o, runner, backend);

  describe('constrained decoding on the fake runner: validity', () => {
    it.each(SCHEMA_CASES.map((c) => [c.name, c] as const))('%s: every output parses and validates', async (_, c) => {
      const { core } = makeConstrainedEngine();
      const validate = ajv.compile(c.schema);
      for (const seed of [1, 2, 3]) {
        for (const [mode, sampling] of MODES) {
          const [out] = await run(core.addRequest(schemaRequest(c.schema, { ...sampling, seed }, { promptIds: [...PROMPT, 40 + seed] })));
          expect(out.finish, `${mode} seed ${seed}: ${out.text}`).toBe('stop');
          expect(out.ids[out.ids.length - 1]).toBe(JSON_EOS);
          const value = JSON.parse(out.text);
          expect(validate(value), `${mode} seed ${seed}: ${out.text} ${JSON.stringify(validate.errors)}`).toBe(true);
        }
      }
    });

    it('json_object: a JSON object', async () => {
      const { core } = makeConstrainedEngine();
      for (const seed of [1, 2, 3, 4]) {
        const [out] = await run(core.addRequest({ promptIds: PROMPT, maxTokens: 1500, sampling: { ...SAMPLED, seed }, constraint: { kind: 'json_object' } }));
        expect(out.finish).toBe('stop');
        const value = JSON.parse(out.text);
        expect(typeof value === 'object' && value !== null && !Array.isArray(value)).toBe(true);
      }
    });

    it('regex: the output matches the pattern', async () => {
      const { core } = makeConstrainedEngine();
      for (const pattern of ['[a-z]{3}-[0-9]{2,4}', '(yes|no|maybe)', '\\d{4}-\\d{2}-\\d{2}', '[A-F0-9]{8}']) {
        for (const [, sampling] of MODES) {
          const [out] = await run(core.addRequest({ promptIds: PROMPT, maxTokens: 100, sampling, constraint: { kind: 'regex', pattern } }));
          expect(out.finish).toBe('stop');
          expect(out.text).toMatch(new RegExp(`^(?:${pattern})$`));
        }
      }
    });

    it('choice: exactly one of the strings (quotes, unicode and pieces of each other included)', async () => {
      const { core } = makeConstrainedEngine();
      const choices = ['positive', 'negative', 'neg', 'say "hi"', 'naïve', 'a\\b'];
      const seen = new Set<string>();
      for (let seed = 0; seed < 12; seed++) {
        const [out] = await run(core.addRequest({ promptIds: [...PROMPT, seed + 50], maxTokens: 50, sampling: { ...SAMPLED, seed }, constraint: { kind: 'choice', choices } }));
        expect(out.finish).toBe('stop');
        expect(choices).toContain(out.text);
        seen.add(out.text);
      }
      expect(seen.size).toBeGreaterThan(1);
    });

    it('grammar (EBNF): the output is a sentence of it', async () => {
      const { core } = makeConstrainedEngine();
      const ebnf = 'root ::= "(" num ("+" num)* ")"\nnum ::= [1-9] [0-9]?';
      const [out] = await run(core.addRequest({ promptIds: PROMPT, maxTokens: 200, constraint: { kind: 'grammar', ebnf } }));
      expect(out.finish).toBe('stop');
      expect(out.text).toMatch(/^\(([1-9][0-9]?)(\+[1-9][0-9]?)*\)$/);
    });
  });

  describe('constrained decoding on the fake runner: the engine around it', () => {
    const schema = SCHEMA_CASES.find((c) => c.name === 'person')!.schema;

    it('each token was allowed by the mask the runner got for it', async () => {
      const { core, runner } = makeConstrainedEngine();
      const [out] = await run(core.addRequest(schemaRequest(schema, SAMPLED)));
      const masks = (runner as import('../../../src/testing/fake-runner').FakeRunner).inputs.flatMap((i) => i.sequences.filter((s) => s.sample).map((s) => s.tokenMask!));
      expect(masks).toHaveLength(out.ids.length);
      out.ids.forEach((id, k) => expect((masks[k][id >>> 5] >>> (id & 31)) & 1).toBe(1));
      // EOS is allowed only at the end: the grammar could not stop before.
      masks.slice(0, -1).forEach((m) => expect(m[0] & 1).toBe(0));
    });

    it('n = 3: each choice follows its own grammar state, choice 0 equals the n = 1 output', async () => {
      const { core } = makeConstrainedEngine();
      const validate = ajv.compile(schema);
      const solo = await run(core.addRequest(schemaRequest(schema, SAMPLED)));
      const outs = await run(core.addRequest(schemaRequest(schema, SAMPLED, { n: 3 })));
      expect(outs).toHaveLength(3);
      expect(outs[0].ids).toEqual(solo[0].ids);
      for (const o of outs) expect(validate(JSON.parse(o.text))).toBe(true);
      expect(new Set(outs.map((o) => o.text)).size).toBeGreaterThan(1);
    });

    it('max_tokens cuts the output with length (a prefix the grammar accepted)', async () => {
      const { core } = makeConstrainedEngine();
      const full = await run(core.addRequest(schemaRequest(schema, SAMPLED)));
      const [cut] = await run(core.addRequest(schemaRequest(schema, SAMPLED, { maxTokens: 5 })));
      expect(cut.finish).toBe('length');
      expect(cut.ids).toEqual(full[0].ids.slice(0, 5));
    });

    it('a stop string ends a constrained output early, as it does an unconstrained one', async () => {
      const { core } = makeConstrainedEngine();
      const [full] = await run(core.addRequest(schemaRequest(schema, GREEDY)));
      const stop = full.text.slice(3, 5);
      const [cut] = await run(core.addRequest(schemaRequest(schema, GREEDY, { stop: [stop] })));
      expect(cut.finish).toBe('stop');
      expect(full.text.startsWith(cut.text)).toBe(true);
      expect(cut.text.length).toBeLessThan(full.text.length);
    });

    it('16 concurrent requests, constrained, unconstrained and tool calls (auto, required, named), each equal their solo output', async () => {
      const requests: EngineRequest[] = Array.from({ length: 16 }, (_, i) => {
        const sampling = i % 3 === 0 ? GREEDY : { ...SAMPLED, seed: i };
        const promptIds = [...PROMPT, 60 + i];
        if (i % 4 === 1) return { promptIds, maxTokens: 40, sampling };
      if (i % 4 === 3) return { promptIds, maxTokens: 120, sampling, constraint: TOOL_CASES[(i - 3) / 4].constraint };
        const c = SCHEMA_CASES[(i * 5) % SCHEMA_CASES.length];
        return schemaRequest(c.schema, sampling, { promptIds });
      });
      const solo: ChoiceResult[][] = [];
      for (const r of requests) solo.push(await run(makeConstrainedEngine().core.addRequest(r)));
      const { core } = makeConstrainedEngine();
      const together = await Promise.all(requests.map((r) => run(core.addRequest(r))));
      expect(together).toEqual(solo);
      // The tool rows ran under their call grammars: forced calls open as the format writes them.
      TOOL_CASES.forEach((t, k) => expect(startsAsForced(solo[3 + 4 * k][0].text, t.opening), `${t.name}: ${solo[3 + 4 * k][0].text}`).toBe(true));
    });

    it('preemption and recompute keep the grammar state (output equals the roomy run)', async () => {
      const requests = Array.from({ length: 6 }, (_, i) => schemaRequest(schema, { ...SAMPLED, seed: i }, { promptIds: [...PROMPT, 70 + i] }));
      const roomy = makeConstrainedEngine();
      const expected = await Promise.all(requests.map((r) => run(roomy.core.addRequest(r))));
      const tight = makeConstrainedEngine({ numKvBlocks: 12 });
      const got = await Promise.all(requests.map((r) => run(tight.core.addRequest(r))));
      expect(tight.core.stats().numPreemptions).toBeGreaterThan(0);
      expect(got).toEqual(expected);
    });

    it('logprobs pass through for constrained rows', async () => {
      const { core } = makeConstrainedEngine();
      const stream = core.addRequest(schemaRequest(schema, { ...GREEDY, logprobs: true, topLogprobs: 2 }));
      const events = await stream.collect();
      const lp = events.flatMap((e) => e.logprobs ?? []);
      expect(lp.map((l) => l.tokenId)).toEqual(events.flatMap((e) => e.tokenIds));
      expect(lp.every((l) => typeof l.logprob === 'number')).toBe(true);
    });

    it('ignore_eos does not run a finished grammar on: its stop token still ends the output', async () => {
      const { core } = makeConstrainedEngine();
      const [out] = await run(core.addRequest(schemaRequest({ enum: ['done'] }, GREEDY, { ignoreEos: true })));
      expect(out).toEqual({ ids: expect.any(Array), text: '"done"', finish: 'stop' });
    });
  });

  describe('constrained decoding on the fake runner: errors', () => {
    it('a schema XGrammar refuses fails the request with invalid_request naming the construct', async () => {
      const { core } = makeConstrainedEngine();
      const stream = core.addRequest({ promptIds: PROMPT, maxTokens: 10, constraint: { kind: 'json_schema', schema: '{"type": "wat"}' } });
      const err = await stream.collect().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(EngineError);
      expect((err as EngineError).code).toBe('invalid_request');
      expect((err as EngineError).message).toContain('Unsupported type "wat"');
      expect((err as EngineError).param).toBe('response_format');
      await expect(core.compileConstraint({ kind: 'regex', pattern: '[a-' })).rejects.toMatchObject({ code: 'invalid_request', param: 'guided_regex' });
    });

    it('text that is not JSON, or nests too deep, is refused at addRequest (before anything streams)', () => {
      const { core } = makeConstrainedEngine();
      const add = (schema: string) => () => core.addRequest({ promptIds: PROMPT, constraint: { kind: 'json_schema', schema } });
      expect(add('{"type": ')).toThrowError(expect.objectContaining({ code: 'invalid_request', param: 'response_format' }));
      expect(add('['.repeat(200) + ']'.repeat(200))).toThrowError(/nests 200 levels deep/);
      expect(() => core.addRequest({ promptIds: PROMPT, constraint: { kind: 'choice', choices: [] } })).toThrowError(expect.objectContaining({ code: 'invalid_request' }));
      expect(() => core.addRequest({ promptIds: PROMPT, constraint: { kind: 'nope' } as never })).toThrowError(expect.objectContaining({ code: 'invalid_request' }));
    });

    it('many bad grammars in a row leave the grammar engine working (aborted wasm instances are retired)', async () => {
      const { core } = makeConstrainedEngine();
      for (let i = 0; i < 60; i++) {
        await expect(core.compileConstraint({ kind: 'grammar', ebnf: `root ::= "a${i}" (((( [` })).rejects.toMatchObject({ code: 'invalid_request' });
      }
      const [out] = await run(core.addRequest({ promptIds: PROMPT, maxTokens: 20, constraint: { kind: 'choice', choices: ['ok'] } }));
      expect(out.text).toBe('ok');
    });

    it('an engine without a grammar compiler answers unsupported', async () => {
      const { EngineCore } = await import('../../../src/engine/core');
      const { FakeRunner, createFakeDetokenizer } = await import('../../../src/testing/fake-runner');
      const core = new EngineCore({ runner: new FakeRunner(), createDetokenizer: createFakeDetokenizer(), eogIds: [] });
      expect(() => core.addRequest({ promptIds: [1, 2], constraint: { kind: 'json_object' } })).toThrowError(expect.objectContaining({ code: 'unsupported' }));
    });

    it('an abort while the grammar compiles ends the request and frees nothing twice', async () => {
      const { core } = makeConstrainedEngine();
      const ctrl = new AbortController();
      const stream = core.addRequest({ ...schemaRequest({ type: 'object', properties: { zz: { type: 'integer' } } }, GREEDY), signal: ctrl.signal });
      ctrl.abort();
      const events = await stream.collect();
      expect(events.map((e) => e.finishReason)).toEqual(['abort']);
      await new Promise((r) => setTimeout(r, 50));
      expect(core.stats().waiting).toBe(0);
      expect(core.kv.numFreeBlocks).toBe(core.kv.numUsableBlocks);
    });
  });
});
