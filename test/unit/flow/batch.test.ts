// Batch runs: the fixtures' data.jsonl files, column mappings, 16 lines at concurrency 16
// and 1 (same outputs; the engine batches the concurrent lines' sequences in one step),
// per-line errors that leave the other lines running, and the run's metrics.
import { describe, expect, it } from 'vitest';
import { batchRun, outputRow } from '../../../src/flow';
import { CHATML, fakeLocalEngine } from '../../helpers/fake-local-engine';
import { fixtureText, readFixture } from '../../helpers/flow-fixtures';

async function engineAndRunner() {
  return fakeLocalEngine({ chatTemplate: CHATML, contextLength: 4096, numKvBlocks: 1024 });
}

/** The most sequences sampled in one engine step. */
function maxSampledPerStep(inputs: Array<{ sequences: Array<{ sample: boolean }> }>): number {
  return Math.max(0, ...inputs.map((i) => i.sequences.filter((s) => s.sample).length));
}

describe('batchRun', () => {
  it('named-entity-recognition over 16 lines: concurrency 16 and 1 give the same outputs; 16 batches', async () => {
    const folder = await readFixture('flows/named-entity-recognition');
    const rows = fixtureText('flows/named-entity-recognition/data.jsonl');
    const data = `${rows.trim()}\n{"text": "Ada Lovelace met Charles Babbage.", "entity_type": "people's full name"}\n`;
    const results = [];
    const batched = [];
    for (const concurrency of [16, 1]) {
      const { engine, runner } = await engineAndRunner();
      const progress: number[] = [];
      const r = await batchRun(folder.files, data, {
        engine,
        concurrency,
        llmParameters: { temperature: 0 },
        columnMapping: { text: '${data.text}', entity_type: '${data.entity_type}' },
        onProgress: (done) => progress.push(done),
      });
      batched.push(maxSampledPerStep(runner().inputs));
      results.push(r);
      expect(progress).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
      await engine.destroy();
    }
    const [wide, narrow] = results;
    expect(wide!.metrics).toMatchObject({ lines: 16, completed: 16, failed: 0 });
    expect(wide!.lines.map((l) => l.line_number)).toEqual([...Array(16).keys()]);
    expect(wide!.lines.map((l) => l.outputs)).toEqual(narrow!.lines.map((l) => l.outputs));
    expect(wide!.metrics.completionTokens).toBe(16 * 64);
    expect(wide!.metrics.totalTokens).toBe(wide!.metrics.promptTokens + wide!.metrics.completionTokens);
    expect(batched[0]).toBeGreaterThan(1);
    expect(batched[1]).toBe(1);
    expect(outputRow(wide!.lines[3]!)).toEqual({ line_number: 3, entities: (wide!.lines[3]!.outputs as { entities: unknown }).entities });
  }, 60_000);

  it("prompty/basic over its data.jsonl, default mapping (columns named as inputs); outputs.jsonl rows carry 'output'", async () => {
    const { engine } = await engineAndRunner();
    const folder = await readFixture('prompty/basic');
    const r = await batchRun(folder.files, fixtureText('prompty/basic/data.jsonl'), { engine });
    expect(r.metrics).toMatchObject({ lines: 3, completed: 3, failed: 0 });
    expect(r.metrics.completionTokens).toBe(3 * 128);
    for (const line of r.lines) expect(Object.keys(outputRow(line))).toEqual(['line_number', 'output']);
    await engine.destroy();
  });

  it('prompty/chat-basic and format-output over their data.jsonl (a mapping renames firstName → first_name)', async () => {
    const { engine } = await engineAndRunner();
    const chat = await readFixture('prompty/chat-basic');
    const r1 = await batchRun(chat.files, fixtureText('prompty/chat-basic/data.jsonl'), { engine, concurrency: 3, columnMapping: { question: '${data.question}', chat_history: '${data.chat_history}' } });
    expect(r1.metrics).toMatchObject({ lines: 3, completed: 3 });
    const text = await readFixture('prompty/format-output/text_format.prompty');
    const r2 = await batchRun(text.files, fixtureText('prompty/format-output/data.jsonl'), {
      engine,
      entry: text.entry,
      columnMapping: { first_name: '${data.firstName}', last_name: '${data.lastName}', question: '${data.question}', chat_history: '${data.chat_history}' },
    });
    expect(r2.metrics).toMatchObject({ lines: 3, completed: 3, failed: 0 });
    await engine.destroy();
  });

  it('conditional flow and chat-basic (empty data.jsonl) in batch', async () => {
    const { engine } = await engineAndRunner();
    const cond = await readFixture('flows/conditional-flow-for-if-else');
    const r = await batchRun(cond.files, fixtureText('flows/conditional-flow-for-if-else/data.jsonl'), { engine, pythonSeed: 3 });
    expect(r.metrics).toMatchObject({ lines: 2, completed: 2 });
    for (const line of r.lines) expect(typeof (line.outputs as { answer: unknown }).answer).toBe('string');
    const chat = await readFixture('flows/chat-basic');
    const empty = await batchRun(chat.files, fixtureText('flows/chat-basic/data.jsonl'), { engine });
    expect(empty.metrics).toMatchObject({ lines: 0, completed: 0, failed: 0 });
    await engine.destroy();
  });

  it('a failing line (missing column, bad JSON, not an object) fails alone; the others complete', async () => {
    const { engine } = await engineAndRunner();
    const folder = await readFixture('flows/basic-with-builtin-llm');
    const data = ['{"text": "a"}', '{"other": 1}', '{not json', '[1]', '{"text": "b"}'].join('\n');
    const r = await batchRun(folder.files, data, { engine, concurrency: 2, columnMapping: { text: '${data.text}' } });
    expect(r.lines.map((l) => l.status)).toEqual(['completed', 'failed', 'failed', 'failed', 'completed']);
    expect(r.lines.map((l) => l.error?.code)).toEqual([undefined, 'data_column_missing', 'bad_data', 'bad_data', undefined]);
    expect(r.lines[1]!.error!.message).toContain("no column 'text'");
    expect(r.metrics).toMatchObject({ lines: 5, completed: 2, failed: 3 });
    await engine.destroy();
  });

  it('a Python node that raises on one line fails that line only, naming the file and node', async () => {
    const files = {
      'flow.dag.yaml': 'inputs:\n  x: {type: int}\noutputs:\n  y: {reference: "${inv.output}"}\nnodes:\n- name: inv\n  type: python\n  source: {type: code, path: inv.py}\n  inputs: {x: "${inputs.x}"}\n',
      'inv.py': 'from promptflow import tool\n\n@tool\ndef inv(x: int) -> float:\n    return 1 / x\n',
    };
    const r = await batchRun(files, [{ x: 2 }, { x: 0 }, { x: '4' }], { concurrency: 3 });
    expect(r.lines.map((l) => l.outputs ?? null)).toEqual([{ y: 0.5 }, null, { y: 0.25 }]);
    expect(r.lines[1]!.error).toMatchObject({ code: 'python_node_failed', file: 'inv.py', node: 'inv' });
    expect(r.lines[1]!.error!.message).toContain('ZeroDivisionError (line 5)');
  });

  it('an evaluation run maps ${run.outputs.x} from a previous run, line by line', async () => {
    const { engine } = await engineAndRunner();
    const ner = await readFixture('flows/named-entity-recognition');
    const data = fixtureText('flows/named-entity-recognition/data.jsonl');
    const base = await batchRun(ner.files, data, { engine, concurrency: 8 });
    const evalFlow = {
      'flow.dag.yaml':
        'inputs:\n  prediction: {type: list}\n  truth: {type: string}\noutputs:\n  exact: {reference: "${match.output}"}\nnodes:\n- name: match\n  type: python\n  source: {type: code, path: match.py}\n  inputs: {prediction: "${inputs.prediction}", truth: "${inputs.truth}"}\n',
      'match.py': 'from promptflow.core import tool\n\n@tool\ndef match(prediction: list, truth: str) -> bool:\n    return ", ".join(prediction) == truth\n',
    };
    // Line 2 of the previous run is dropped: that line fails, the others are scored.
    const previousRun = base.lines.filter((l) => l.line_number !== 2).map(outputRow);
    const r = await batchRun(evalFlow, data, { previousRun, columnMapping: { prediction: '${run.outputs.entities}', truth: '${data.results}' } });
    expect(r.metrics).toMatchObject({ lines: 15, completed: 14, failed: 1 });
    expect(r.lines[2]!.error).toMatchObject({ code: 'data_column_missing' });
    for (const line of r.lines.filter((l) => l.status === 'completed')) {
      const entities = (base.lines[line.line_number]!.outputs as { entities: string[] }).entities;
      const truth = (JSON.parse(data.trim().split('\n')[line.line_number]!) as { results: string }).results;
      expect(line.outputs).toEqual({ exact: entities.join(', ') === truth });
    }
    await engine.destroy();
  });

  it("one line's independent llm nodes run at once: the engine samples both in one step", async () => {
    const { engine, runner } = await engineAndRunner();
    const node = (name: string) => `- name: ${name}\n  type: llm\n  api: chat\n  source: {type: code, path: t.jinja2}\n  inputs: {q: "\${inputs.q}", max_tokens: 8, temperature: 0}\n`;
    const files = {
      'flow.dag.yaml': `inputs:\n  q: {type: string, default: hi}\noutputs:\n  a: {reference: "\${a.output}"}\n  b: {reference: "\${b.output}"}\nnodes:\n${node('a')}${node('b')}`,
      't.jinja2': 'user:\n{{q}}\n',
    };
    const r = await batchRun(files, [{ q: 'one' }], { engine });
    expect(r.metrics.completed).toBe(1);
    const out = r.lines[0]!.outputs as { a: string; b: string };
    expect(out.a).toBe(out.b);
    expect(maxSampledPerStep(runner().inputs)).toBe(2);
    await engine.destroy();
  });
});
