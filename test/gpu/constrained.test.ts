// Constrained decoding on the real WebGPU runner: a random llama-style model over a small
// byte-level vocabulary (test/helpers/json-vocab.ts) with grammar masks applied on the GPU.
// Every bounded schema's output parses and validates (greedy and seeded), so do regex and
// choice outputs, 16 concurrent requests (constrained, unconstrained and tool calls: auto,
// required, a named function) equal their solo outputs, and max_tokens still ends an output
// with 'length'.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '../../src/create-engine';
import type { EngineCore } from '../../src/engine/core';
import type { EngineRequest } from '../../src/engine/request';
import { GREEDY, type SamplingParams } from '../../src/engine/types';
import { createNodeGPU } from '../../src/gpu/node-gpu';
import type { MultiEngine } from '../../src/openai/multi-engine';
import { engineCore } from '../helpers/engine-core';
import { run, type ChoiceResult } from '../helpers/constrained-engine';
import { makeAjv, SCHEMA_CASES } from '../helpers/json-schemas';
import { JSON_EOS, JSON_VOCAB_SIZE, jsonTokenizer, jsonVocabMetadata } from '../helpers/json-vocab';
import { makeTestModel } from '../helpers/test-model';
import { startsAsForced, TOOL_CASES } from '../helpers/tool-requests';

const tok = jsonTokenizer();
const PROMPT = tok.encode('JSON: ');
const SAMPLED: SamplingParams = { ...GREEDY, temperature: 1, seed: 3 };
const ajv = makeAjv();

describe('constrained decoding on the GPU runner', () => {
  let engine: MultiEngine;
  let core: EngineCore;
  beforeAll(async () => {
    const model = makeTestModel({ arch: 'llama', vocab: JSON_VOCAB_SIZE, dim: 32, layers: 1, heads: 2, kvHeads: 2, ffn: 64, quant: 'F32', seed: 5, tokenizer: jsonVocabMetadata(), contextLength: 1024 });
    engine = await createEngine({ model, gpu: await createNodeGPU(), kvCacheBytes: 4 << 20 });
    core = engineCore(engine);
  });
  afterAll(async () => engine?.destroy());

  const schemaRequest = (schema: object, sampling: SamplingParams, extra: Partial<EngineRequest> = {}): EngineRequest => ({
    promptIds: PROMPT, maxTokens: 400, sampling, constraint: { kind: 'json_schema', schema: JSON.stringify(schema) }, ...extra,
  });

  it('every bounded schema: greedy and seeded outputs parse and validate', async () => {
    const bounded = SCHEMA_CASES.filter((c) => c.bounded);
    expect(bounded.length).toBeGreaterThanOrEqual(20);
    const failures: string[] = [];
    // All cases at once: they batch together, as a server's requests would.
    const runs = bounded.flatMap((c) => [GREEDY, SAMPLED].map(async (sampling) => {
      const [out] = await run(core.addRequest(schemaRequest(c.schema, sampling)));
      const validate = ajv.compile(c.schema);
      let ok = out.finish === 'stop' && out.ids[out.ids.length - 1] === JSON_EOS;
      try {
        ok &&= validate(JSON.parse(out.text)) === true;
      } catch {
        ok = false;
      }
      if (!ok) failures.push(`${c.name} (${sampling.temperature === 0 ? 'greedy' : 'seeded'}): ${out.finish} ${JSON.stringify(out.text)}`);
    }));
    await Promise.all(runs);
    expect(failures).toEqual([]);
  });

  it('regex and choice outputs match', async () => {
    for (const sampling of [GREEDY, SAMPLED]) {
      const [r] = await run(core.addRequest({ promptIds: PROMPT, maxTokens: 50, sampling, constraint: { kind: 'regex', pattern: '[a-z]{2,4}-[0-9]{3}' } }));
      expect(r.text).toMatch(/^[a-z]{2,4}-[0-9]{3}$/);
      const [c] = await run(core.addRequest({ promptIds: PROMPT, maxTokens: 50, sampling, constraint: { kind: 'choice', choices: ['alpha', 'beta', 'gamma'] } }));
      expect(['alpha', 'beta', 'gamma']).toContain(c.text);
    }
  });

  it('logprobs of a constrained row are of its masked distribution', async () => {
    const stream = core.addRequest(schemaRequest({ enum: ['yes', 'no'] }, { ...GREEDY, logprobs: true, topLogprobs: 5 }));
    const events = await stream.collect();
    const lp = events.flatMap((e) => e.logprobs ?? []);
    // After '"' only 'y' or 'n' (or pieces starting so) are allowed: the top list holds no other token.
    const second = lp[1];
    expect(second.topLogprobs!.length).toBeGreaterThan(0);
    for (const t of second.topLogprobs!) expect(['y', 'n', 'ye', 'no', 'yes']).toContain(tok.decode([t.tokenId]).slice(0, 3));
    const mass = second.topLogprobs!.reduce((s, t) => s + Math.exp(t.logprob), 0);
    expect(mass).toBeGreaterThan(0.999);
    expect(mass).toBeLessThan(1.001);
  });

  it('16 concurrent requests, constrained, unconstrained and tool calls (auto, required, named), equal their solo outputs; max_tokens cuts with length', async () => {
    const bounded = SCHEMA_CASES.filter((c) => c.bounded);
    const requests: EngineRequest[] = Array.from({ length: 16 }, (_, i) => {
      const sampling = i % 4 === 0 ? GREEDY : { ...SAMPLED, seed: i };
      const promptIds = [...PROMPT, 40 + i];
      if (i % 4 === 1) return { promptIds, maxTokens: 12, sampling, ignoreEos: true };
      if (i % 4 === 3) return { promptIds, maxTokens: 120, sampling, constraint: TOOL_CASES[(i - 3) / 4].constraint };
      if (i === 6) return schemaRequest({ enum: ['alpha', 'beta'] }, sampling, { promptIds, maxTokens: 2 });
      return schemaRequest(bounded[i % bounded.length].schema, sampling, { promptIds });
    });
    const solo: ChoiceResult[][] = [];
    for (const r of requests) solo.push(await run(core.addRequest(r)));
    const together = await Promise.all(requests.map((r) => run(core.addRequest(r))));
    expect(together).toEqual(solo);
    TOOL_CASES.forEach((t, k) => expect(startsAsForced(solo[3 + 4 * k][0].text, t.opening), `${t.name}: ${solo[3 + 4 * k][0].text}`).toBe(true));
    expect(solo[6][0].finish).toBe('length');
    expect(solo[6][0].ids).toHaveLength(2);
    expect((await engine.stats()).kvBlocksUsed).toBe(0);
  });
});
