// PromptFlow fixtures (../shared/fixtures/promptflow) read as FlowFiles, an Engine wrapper
// that records every chat/completion request the router hands the engine — what an llm node
// really sent, after the router's validation — and the checks of the NER flow's outputs.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { readFlowFolder, type FlowFolder } from '../../src/cli/flow-files';
import type { ChatCompletionCreateParams, CompletionCreateParams, Engine } from '../../src/openai/engine-api';

export const PROMPTFLOW_FIXTURES = resolve(__dirname, '../../../shared/fixtures/promptflow');

/** `flows/chat-basic` or `prompty/format-output/json_format.prompty`. */
export function readFixture(path: string): Promise<FlowFolder> {
  return readFlowFolder(resolve(PROMPTFLOW_FIXTURES, path));
}

export function fixtureText(path: string): string {
  return readFileSync(resolve(PROMPTFLOW_FIXTURES, path), 'utf8');
}

export interface RecordingEngine {
  engine: Engine;
  chats: ChatCompletionCreateParams[];
  completions: CompletionCreateParams[];
}

export function recordingEngine(inner: Engine): RecordingEngine {
  const chats: ChatCompletionCreateParams[] = [];
  const completions: CompletionCreateParams[] = [];
  const engine: Engine = {
    chat: {
      completions: {
        create: ((params: ChatCompletionCreateParams, options?: object) => {
          chats.push(params);
          return inner.chat.completions.create(params, options);
        }) as Engine['chat']['completions']['create'],
      },
    },
    completions: {
      create: ((params: CompletionCreateParams, options?: object) => {
        completions.push(params);
        return inner.completions.create(params, options);
      }) as Engine['completions']['create'],
    },
    models: inner.models,
    embeddings: inner.embeddings,
    tokenize: (p) => inner.tokenize(p),
    detokenize: (p) => inner.detokenize(p),
    stats: () => inner.stats(),
    info: () => inner.info(),
  };
  return { engine, chats, completions };
}

/** The entities flows/named-entity-recognition's cleansing.py makes of an LLM answer: split on ',', strip ' \t."' from both ends, drop empty parts. */
export function nerEntities(llmText: string): string[] {
  const strip = (s: string) => s.replace(/^[ \t."]+|[ \t."]+$/g, '');
  return llmText.split(',').map(strip).filter((p) => p.length > 0);
}

/** A NER batch run's outputs.jsonl in `runDir`: one row per line, numbered 0…numLines-1, each with a list of entity strings. */
export function readNerOutputs(runDir: string, numLines: number): { line_number: number; entities: string[] }[] {
  const rows = readFileSync(join(runDir, 'outputs.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { line_number: number; entities: string[] });
  expect(rows.map((r) => r.line_number)).toEqual([...Array(numLines).keys()]);
  for (const r of rows) {
    expect(Array.isArray(r.entities)).toBe(true);
    for (const e of r.entities) expect(typeof e).toBe('string');
  }
  return rows;
}
