// `tabllm flow test` / `tabllm flow run` on PromptFlow's fixtures, with the real LocalEngine
// over a fake runner in place of the GPU one (the factory main.ts passes is swapped), and
// the argument parser's errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliUsageError, parseCliArgs } from '../../../src/cli/args';
import type { CliIO, EngineFactory } from '../../../src/cli/commands';
import type { FlowArgs } from '../../../src/cli/flow-args';
import { flowCommand } from '../../../src/cli/flow-command';
import { CHATML, fakeLocalEngine, STORIES_GGUF } from '../../helpers/fake-local-engine';
import { PROMPTFLOW_FIXTURES, readNerOutputs } from '../../helpers/flow-fixtures';

const tmp = mkdtempSync(join(tmpdir(), 'tabllm-flow-'));
const CHATML_FILE = join(tmp, 'chatml.jinja');
writeFileSync(CHATML_FILE, CHATML);

function capture(): { io: CliIO; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { stdout: (t) => void (out += t), stderr: (t) => void (err += t) }, out: () => out, err: () => err };
}

const models: string[] = [];
const factory: EngineFactory = async (options) => {
  models.push(options.model as string);
  return (await fakeLocalEngine({ chatTemplate: options.chatTemplate, contextLength: 4096, numKvBlocks: 512 })).engine;
};

function flowArgs(argv: string[]): FlowArgs {
  return parseCliArgs(['flow', ...argv]) as FlowArgs;
}

const fx = (p: string) => resolve(PROMPTFLOW_FIXTURES, p);

describe('tabllm flow test', () => {
  it('prints the outputs of chat-basic as one JSON object (inputs given as pf does)', async () => {
    const c = capture();
    const args = flowArgs(['test', fx('flows/chat-basic'), '--inputs', 'question=What is a GPU?', '--model', STORIES_GGUF, '--chat-template', CHATML_FILE]);
    expect(await flowCommand(args, factory, c.io)).toBe(0);
    expect(models.at(-1)).toBe(STORIES_GGUF);
    const out = JSON.parse(c.out()) as { answer: unknown };
    expect(Object.keys(out)).toEqual(['answer']);
    expect(typeof out.answer).toBe('string');
    expect(c.out().trim().split('\n')).toHaveLength(1);
  });

  it('runs a .prompty with a JSON inputs file, and a Python-only flow without a model', async () => {
    const c = capture();
    const args = flowArgs(['test', fx('prompty/basic/basic.prompty'), '--inputs', fx('prompty/basic/sample.json'), '--model', STORIES_GGUF, '--chat-template', CHATML_FILE]);
    expect(await flowCommand(args, factory, c.io)).toBe(0);
    expect(typeof (JSON.parse(c.out()) as { output: unknown }).output).toBe('string');
    const c2 = capture();
    expect(await flowCommand(flowArgs(['test', fx('flows/conditional-flow-for-if-else'), '--inputs', 'question=Hi']), factory, c2.io)).toBe(0);
    expect(JSON.parse(c2.out())).toHaveProperty('answer');
  });

  it('exits 1 with the coded error on stderr, nothing on stdout', async () => {
    const dir = mkdtempSync(join(tmp, 'bad-'));
    writeFileSync(join(dir, 'flow.dag.yaml'), 'nodes:\n- name: x\n  type: shell\n  source: {type: code, path: x.sh}\n');
    const c = capture();
    expect(await flowCommand(flowArgs(['test', dir]), factory, c.io)).toBe(1);
    expect(c.out()).toBe('');
    expect(c.err()).toMatch(/^tabllm: flow\.dag\.yaml, node 'x': node type 'shell'.*\[unknown_node_type\]\n$/);
    const c2 = capture();
    expect(await flowCommand(flowArgs(['test', join(tmp, 'nowhere')]), factory, c2.io)).toBe(1);
    expect(c2.err()).toContain('[flow_file_missing]');
  });
});

describe('tabllm flow run', () => {
  it('writes outputs.jsonl with line_number for the NER data and prints the line counts', async () => {
    const out = join(tmp, 'ner-run');
    const c = capture();
    const args = flowArgs([
      'run',
      fx('flows/named-entity-recognition'),
      '--data',
      fx('flows/named-entity-recognition/data.jsonl'),
      '--column-mapping',
      'text=${data.text}',
      'entity_type=${data.entity_type}',
      '--concurrency',
      '8',
      '--output',
      out,
      '--model',
      STORIES_GGUF,
      '--chat-template',
      CHATML_FILE,
    ]);
    expect(args.columnMapping).toEqual(['text=${data.text}', 'entity_type=${data.entity_type}']);
    expect(await flowCommand(args, factory, c.io)).toBe(0);
    expect(c.out()).toBe('15 lines: 15 completed, 0 failed\n');
    const rows = readNerOutputs(out, 15);
    expect(JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'))).toMatchObject({ lines: 15, completed: 15, failed: 0, completionTokens: 15 * 64 });

    // An evaluation flow over that run: --run DIR feeds ${run.outputs.entities} line by line.
    const evalDir = mkdtempSync(join(tmp, 'eval-'));
    writeFileSync(
      join(evalDir, 'flow.dag.yaml'),
      'inputs:\n  prediction: {type: list}\noutputs:\n  n: {reference: "${count.output}"}\nnodes:\n- name: count\n  type: python\n  source: {type: code, path: count.py}\n  inputs: {prediction: "${inputs.prediction}"}\n',
    );
    writeFileSync(join(evalDir, 'count.py'), 'from promptflow.core import tool\n\n@tool\ndef count(prediction: list) -> int:\n    return len(prediction)\n');
    const evalOut = join(tmp, 'eval-run');
    const c2 = capture();
    const evalArgs = flowArgs(['run', evalDir, '--data', fx('flows/named-entity-recognition/data.jsonl'), '--run', out, '--column-mapping', 'prediction=${run.outputs.entities}', '--output', evalOut]);
    expect(await flowCommand(evalArgs, factory, c2.io)).toBe(0);
    const counts = readFileSync(join(evalOut, 'outputs.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { n: number }).n);
    expect(counts).toEqual(rows.map((r) => r.entities.length));
  });

  it('a failing line is written to lines.jsonl; the run exits 1 after the other lines', async () => {
    const out = join(tmp, 'chat-run');
    const data = join(tmp, 'chat.jsonl');
    writeFileSync(data, '{"question": "hi", "chat_history": []}\n{"chat_history": []}\n');
    const c = capture();
    const args = flowArgs(['run', fx('prompty/chat-basic/chat.prompty'), '--data', data, '--column-mapping', 'question=${data.question}', '--output', out, '--model', STORIES_GGUF, '--chat-template', CHATML_FILE]);
    expect(await flowCommand(args, factory, c.io)).toBe(1);
    expect(c.out()).toBe('2 lines: 1 completed, 1 failed\n');
    expect(readFileSync(join(out, 'outputs.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    const lines = readFileSync(join(out, 'lines.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: string; error?: { code: string } });
    expect(lines.map((l) => [l.status, l.error?.code])).toEqual([['completed', undefined], ['failed', 'data_column_missing']]);
    expect(c.err()).toContain('line 1: ');
  });
});

describe('flow arguments', () => {
  it('collects pf-style pairs after --inputs', () => {
    expect(flowArgs(['test', 'f', '--inputs', 'a=1', 'b=x=y']).inputs).toEqual(['a=1', 'b=x=y']);
  });

  it.each([
    [['flow'], /unknown subcommand/],
    [['flow', 'deploy', 'x'], /unknown subcommand 'deploy'/],
    [['flow', 'test'], /missing the flow/],
    [['flow', 'run', 'f'], /--data data.jsonl is required/],
    [['flow', 'run', 'f', '--data', 'd', '--concurrency', '0'], /--concurrency must be an integer/],
    [['flow', 'run', 'f', '--data', 'd', '--column-mapping', 'nokey'], /--column-mapping takes key=value/],
    [['flow', 'test', 'f', 'stray'], /unexpected argument 'stray'/],
    [['flow', 'test', 'f', '--data', 'd'], /belong to flow run/],
    [['flow', 'test', 'f', '--run', 'd'], /belong to flow run/],
    [['flow', 'test', 'f', '--bogus'], /Unknown option '--bogus'/],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCliArgs(argv)).toThrow(CliUsageError);
    expect(() => parseCliArgs(argv)).toThrow(message);
  });
});
