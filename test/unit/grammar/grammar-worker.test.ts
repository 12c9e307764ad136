// The grammar worker's protocol end to end on the fake runner, with a worker whose compiles can
// be held (as a worker inside a long compile: it answers nothing sent after the compile until
// it is done) or that can crash: a request that needs the grammar waits, the rest of the batch
// keeps stepping. No timed assertions: "keeps stepping" is an unconstrained request that
// completes while a compile holds the worker.
import { afterEach, describe, expect, it } from 'vitest';
import { toHttpError } from '../../../src/api/errors';
import { EngineError } from '../../../src/engine/errors';
import type { EngineRequest } from '../../../src/engine/request';
import { GREEDY, type SamplingParams } from '../../../src/engine/types';
import { GrammarCompilerService } from '../../../src/grammar/compiler';
import { GrammarError } from '../../../src/grammar/errors';
import { hostGrammar } from '../../../src/grammar/grammar-host';
import { grammarVocab } from '../../../src/grammar/vocab';
import { messagePortPort } from '../../../src/grammar/worker-port';
import type { FakeRunner } from '../../../src/testing/fake-runner';
import type { GrammarPort, ToGrammarWorker } from '../../../src/grammar/worker-protocol';
import { makeConstrainedEngine, PROMPT, remoteGrammar, run, tokenizer, type ChoiceResult } from '../../helpers/constrained-engine';
import { makeAjv, SCHEMA_CASES } from '../../helpers/json-schemas';

const SAMPLED: SamplingParams = { ...GREEDY, temperature: 0.9, seed: 11 };
const person = SCHEMA_CASES.find((c) => c.name === 'person')!.schema;
const validatePerson = makeAjv().compile(person);

function schemaRequest(schema: object, extra: Partial<EngineRequest> = {}): EngineRequest {
  return { promptIds: PROMPT, maxTokens: 1500, sampling: SAMPLED, constraint: { kind: 'json_schema', schema: JSON.stringify(schema) }, ...extra };
}
const FREE: EngineRequest = { promptIds: [...PROMPT, 90], maxTokens: 48, sampling: { ...SAMPLED, seed: 3 } };

/** Grammar workers (hosts on MessageChannels) whose next compile can hold them, and which can crash. */
class GatedWorkers {
  /** The next compile or create holds the worker: it and every later message wait for release(). */
  holdCompiles = false;
  held = false;
  /** Messages the held worker has not seen yet. */
  readonly inbox: Array<[ToGrammarWorker, Transferable[] | undefined]> = [];
  numStarted = 0;
  numTerminated = 0;
  private current: { port: GrammarPort; crash(): void } | undefined;
  private readonly ports: MessagePort[] = [];

  start = (): GrammarPort => {
    const { port1, port2 } = new MessageChannel();
    this.ports.push(port1, port2);
    hostGrammar(messagePortPort(port2));
    const inner = messagePortPort(port1);
    let onExit: ((reason: string) => void) | undefined;
    const port: GrammarPort = {
      postMessage: (m, t) => {
        const type = (m as ToGrammarWorker).type;
        if (this.holdCompiles && (type === 'compile' || type === 'create')) this.held = true;
        if (this.held) this.inbox.push([m as ToGrammarWorker, t]);
        else inner.postMessage(m, t);
      },
      onMessage: (h) => inner.onMessage(h),
      onExit: (h) => (onExit = h),
      terminate: () => {
        this.numTerminated++;
        inner.terminate();
      },
    };
    this.current = {
      port: inner,
      crash: () => {
        port1.close();
        port2.close();
        onExit?.('crashed (test)');
      },
    };
    this.numStarted++;
    return port;
  };

  hold(): void {
    this.holdCompiles = true;
  }

  release(): void {
    this.holdCompiles = false;
    this.held = false;
    for (const [m, t] of this.inbox.splice(0)) this.current!.port.postMessage(m, t);
  }

  /** Lets the next worker answer again, dropping what the held one never saw. */
  unhold(): void {
    this.inbox.length = 0;
    this.holdCompiles = false;
    this.held = false;
  }

  crash(): void {
    this.unhold();
    this.current!.crash();
  }

  close(): void {
    for (const p of this.ports) p.close();
  }
}

let workers: GatedWorkers;
afterEach(() => workers?.close());

function gatedEngine(options: Parameters<typeof remoteGrammar>[1] = {}) {
  workers = new GatedWorkers();
  const grammar = remoteGrammar(workers.start, options);
  return { ...makeConstrainedEngine({}, {}, undefined, grammar), workers, grammar };
}

/** Runs a request; calls `onFirstToken` once, when its first token arrives. */
async function runWatching(stream: AsyncIterable<{ index: number; tokenIds: number[]; text: string; finishReason?: string }>, onFirstToken: () => void): Promise<ChoiceResult> {
  const out: ChoiceResult = { ids: [], text: '', finish: undefined };
  for await (const e of stream) {
    const first = out.ids.length === 0 && e.tokenIds.length > 0;
    out.ids.push(...e.tokenIds);
    out.text += e.text;
    if (e.finishReason) out.finish = e.finishReason;
    if (first) onFirstToken();
  }
  return out;
}

describe('grammar worker: a request waiting for its grammar never stalls the batch', () => {
  it('an unconstrained request completes while a compile holds the worker; the constrained one behind it is then valid', async () => {
    const [soloFree] = await run(makeConstrainedEngine().core.addRequest(FREE));
    const { core, workers } = gatedEngine();
    workers.hold();
    let constrainedDone = false;
    const constrained = run(core.addRequest(schemaRequest(person))).finally(() => (constrainedDone = true));
    const [free] = await run(core.addRequest(FREE));
    expect(free).toEqual(soloFree);
    expect(constrainedDone).toBe(false);
    expect(workers.inbox.map(([m]) => m.type)).toContain('compile');
    workers.release();
    const [out] = await constrained;
    expect(out.finish).toBe('stop');
    expect(validatePerson(JSON.parse(out.text))).toBe(true);
  });

  it.each([1, 3])('n = %i: running constrained rows whose next masks wait behind a compile sit steps out; outputs equal the in-thread run', async (n) => {
    const request = schemaRequest(person, { promptIds: [...PROMPT, 91], n });
    const other = schemaRequest({ type: 'object', properties: { late: { type: 'boolean' } }, required: ['late'] }, { promptIds: [...PROMPT, 95] });
    const solo = await run(makeConstrainedEngine().core.addRequest(request));
    const { core, workers } = gatedEngine();
    let freeRun: Promise<ChoiceResult[]> | undefined;
    let otherRun: Promise<ChoiceResult[]> | undefined;
    let constrainedDone = false;
    const stream = core.addRequest(request);
    const outs: ChoiceResult[] = [];
    const constrained = (async () => {
      for await (const e of stream) {
        outs[e.index] ??= { ids: [], text: '', finish: undefined };
        outs[e.index].ids.push(...e.tokenIds);
        outs[e.index].text += e.text;
        if (e.finishReason) outs[e.index].finish = e.finishReason;
        if (freeRun === undefined && e.tokenIds.length > 0) {
          // A new schema's compile now holds the worker; the masks asked for after it wait too.
          workers.hold();
          otherRun = run(core.addRequest(other));
          freeRun = run(core.addRequest(FREE));
        }
      }
      constrainedDone = true;
    })();
    await expect.poll(() => freeRun).toBeDefined();
    const [free] = await freeRun!;
    expect(free.finish).toBe('length');
    expect(free.ids).toHaveLength(48);
    expect(constrainedDone).toBe(false);
    expect(workers.inbox.map(([m]) => m.type)).toEqual(expect.arrayContaining(['compile', 'masks']));
    workers.release();
    await constrained;
    expect(outs).toEqual(solo);
    const [late] = await otherRun!;
    expect(JSON.parse(late.text)).toEqual({ late: expect.any(Boolean) });
  });
});

describe('grammar worker: no compile in flight, no step missed', () => {
  it('a constrained row takes every step beside an unconstrained one (a mask a message away is waited for)', async () => {
    const { core, runner } = gatedEngine();
    const long: EngineRequest = { promptIds: [...PROMPT, 96], maxTokens: 3000, ignoreEos: true, sampling: { ...SAMPLED, seed: 4 } };
    const [[out], [free]] = await Promise.all([run(core.addRequest(schemaRequest(person))), run(core.addRequest(long))]);
    expect(validatePerson(JSON.parse(out.text))).toBe(true);
    const steps = (runner as FakeRunner).inputs.map((i) => i.sequences.some((r) => r.sample && r.tokenMask !== undefined));
    const first = steps.indexOf(true);
    const last = steps.lastIndexOf(true);
    expect(steps.slice(first, last + 1).every(Boolean)).toBe(true);
    expect(last - first + 1).toBe(out.ids.length);
    expect(free.ids.length).toBeGreaterThan(out.ids.length);
  });
});

describe('grammar worker: failures are coded', () => {
  it('a worker that dies fails its constrained requests with worker_failed; the batch goes on; the next compile starts a fresh worker', async () => {
    const [soloFree] = await run(makeConstrainedEngine().core.addRequest(FREE));
    const { core, workers, grammar } = gatedEngine();
    let freeRun: Promise<ChoiceResult[]> | undefined;
    const constrained = runWatching(core.addRequest(schemaRequest(person)), () => {
      freeRun = run(core.addRequest(FREE));
      workers.crash();
    });
    const err = await constrained.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('worker_failed');
    expect(toHttpError(err).status).toBe(503);
    expect((await freeRun!)[0]).toEqual(soloFree);
    const [again] = await run(core.addRequest(schemaRequest(person, { promptIds: [...PROMPT, 93] })));
    expect(validatePerson(JSON.parse(again.text))).toBe(true);
    expect(grammar.numWorkers).toBe(2);
  });

  it('a worker that hangs (answers nothing for silenceTimeoutMs) is terminated: worker_failed, the batch goes on, the next compile starts a fresh worker', async () => {
    const [soloFree] = await run(makeConstrainedEngine().core.addRequest(FREE));
    const { core, workers, grammar } = gatedEngine({ silenceTimeoutMs: 300 });
    workers.hold(); // the compile is never answered: a worker stuck in it
    const constrained = run(core.addRequest(schemaRequest(person)));
    const free = run(core.addRequest(FREE));
    const err = await constrained.then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'worker_failed', message: expect.stringContaining('answered nothing for') });
    expect(workers.numTerminated).toBe(1);
    expect((await free)[0]).toEqual(soloFree);
    workers.unhold();
    const [again] = await run(core.addRequest(schemaRequest(person, { promptIds: [...PROMPT, 95] })));
    expect(validatePerson(JSON.parse(again.text))).toBe(true);
    expect(grammar.numWorkers).toBe(2);
    expect(workers.numTerminated).toBe(1);
  });

  it('a worker that is slow but answers is not terminated: the silence is counted from its last answer', async () => {
    const sent: ToGrammarWorker[] = [];
    let reply: ((m: unknown) => void) | undefined;
    let terminated = false;
    const port: GrammarPort = {
      postMessage: (m) => void sent.push(m as ToGrammarWorker),
      onMessage: (h) => (reply = h),
      onExit: () => {},
      terminate: () => (terminated = true),
    };
    const grammar = remoteGrammar(() => port, { silenceTimeoutMs: 1000 });
    const compiles = [1, 2, 3, 4].map((i) => grammar.compile({ kind: 'regex', pattern: `[a-c]{${i}}` }));
    // Answer init and then one compile every 400 ms: 1.6 s in all, never 1 s of silence.
    for (const m of sent.splice(0)) {
      if (m.type === 'dispose') continue;
      if (m.type !== 'init') await new Promise((r) => setTimeout(r, 400));
      reply!({ type: 'reply', id: m.id, ok: true });
    }
    for (const c of compiles) await expect(c).resolves.toMatchObject({ key: expect.any(String) });
    expect(terminated).toBe(false);
  });

  it('a full compile queue is queue_full (429) at addRequest, not unbounded growth', async () => {
    const { core, workers } = gatedEngine({ maxPendingCompiles: 2 });
    workers.hold();
    const schemas = [1, 2, 3].map((i) => ({ type: 'object', properties: { [`k${i}`]: { type: 'integer' } }, required: [`k${i}`] }));
    const first = run(core.addRequest(schemaRequest(schemas[0])));
    const second = run(core.addRequest(schemaRequest(schemas[1])));
    let thrown: unknown;
    try {
      core.addRequest(schemaRequest(schemas[2]));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toMatchObject({ code: 'queue_full' });
    expect(toHttpError(thrown).status).toBe(429);
    workers.release();
    for (const r of [first, second]) expect((await r)[0].finish).toBe('stop');
    // Answered compiles free their places.
    expect((await run(core.addRequest(schemaRequest(schemas[2]))))[0].finish).toBe('stop');
  });

  it('the in-thread compiler bounds its queue the same way (cache hits do not count)', async () => {
    const service = new GrammarCompilerService(() => grammarVocab(tokenizer), { maxPendingCompiles: 1 });
    const a = service.compile({ kind: 'regex', pattern: '[a-c]{2}' });
    expect(service.compile({ kind: 'regex', pattern: '[a-c]{2}' })).toBe(a);
    expect(() => service.compile({ kind: 'regex', pattern: '[d-f]{2}' })).toThrowError(GrammarError);
    expect(() => service.compile({ kind: 'regex', pattern: '[d-f]{2}' })).toThrowError(expect.objectContaining({ code: 'grammar_queue_full' }));
    await a;
    await expect(service.compile({ kind: 'regex', pattern: '[d-f]{2}' })).resolves.toMatchObject({ key: expect.any(String) });
  });

  it('a worker whose script never starts (or that cannot be created): constrained requests run in-thread (fallback)', async () => {
    const request = schemaRequest(person, { promptIds: [...PROMPT, 94] });
    const [solo] = await run(makeConstrainedEngine().core.addRequest(request));
    const deadOnArrival = (): GrammarPort => {
      let onExit: ((reason: string) => void) | undefined;
      queueMicrotask(() => onExit?.('its script did not load'));
      return { postMessage: () => {}, onMessage: () => {}, onExit: (h) => (onExit = h), terminate: () => {} };
    };
    const fallback = () => new GrammarCompilerService(() => grammarVocab(tokenizer));
    for (const start of [deadOnArrival, () => { throw new Error('Worker is not defined'); }]) {
      const grammar = remoteGrammar(start, { fallback });
      const { core } = makeConstrainedEngine({}, {}, undefined, grammar);
      expect((await run(core.addRequest(request)))[0]).toEqual(solo);
      expect(grammar.fallback).toBeInstanceOf(GrammarCompilerService);
      // Later compiles go straight to the fallback: no second worker.
      expect((await run(core.addRequest(request)))[0]).toEqual(solo);
      expect(grammar.numWorkers).toBeLessThanOrEqual(1);
    }
  });

  it('a worker that cannot start, without a fallback: the request fails with a coded error (unsupported), nothing hangs', async () => {
    const grammar = remoteGrammar(() => {
      throw new Error('Worker is not defined');
    });
    const { core } = makeConstrainedEngine({}, {}, undefined, grammar);
    const err = await run(core.addRequest(schemaRequest(person))).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'unsupported', message: expect.stringContaining('grammar worker could not be started') });
  });
});
