// `tabllm flow test` / `tabllm flow run` as a user runs them: the CLI process on the real
// stories260K through WebGPU (Dawn), which has no chat template of its own (--chat-template
// gives one), on PromptFlow's fixtures unchanged.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTabllm } from '../helpers/cli-process';
import { CHATML } from '../helpers/fake-local-engine';
import { PROMPTFLOW_FIXTURES, readNerOutputs } from '../helpers/flow-fixtures';
import { STORIES_GGUF } from '../helpers/stories-reference';

const tmp = mkdtempSync(join(tmpdir(), 'tabllm-cli-flow-'));
const TEMPLATE = join(tmp, 'chatml.jinja');
writeFileSync(TEMPLATE, CHATML);


describe('tabllm flow (WebGPU)', () => {
  it('flow test chat-basic prints {"answer": …}', () => {
    const r = runTabllm(['flow', 'test', join(PROMPTFLOW_FIXTURES, 'flows/chat-basic'), '--inputs', 'question=Once upon a time', '--model', STORIES_GGUF, '--chat-template', TEMPLATE]);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { answer: string };
    expect(Object.keys(out)).toEqual(['answer']);
    expect(out.answer.length).toBeGreaterThan(0);
  });

  it('flow run of the NER flow over its data.jsonl writes 15 outputs with line_number', () => {
    const out = join(tmp, 'ner');
    const r = runTabllm([
      'flow',
      'run',
      join(PROMPTFLOW_FIXTURES, 'flows/named-entity-recognition'),
      '--data',
      join(PROMPTFLOW_FIXTURES, 'flows/named-entity-recognition/data.jsonl'),
      '--concurrency',
      '8',
      '--output',
      out,
      '--model',
      STORIES_GGUF,
      '--chat-template',
      TEMPLATE,
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('15 lines: 15 completed, 0 failed\n');
    readNerOutputs(out, 15);
  });
});
